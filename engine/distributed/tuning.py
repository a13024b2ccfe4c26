"""Training sweeps on Ray Tune: a small random search around a recipe's settings, a trial per Ray worker.

Each trial trains the recipe's model (engine.training.fit.train) with its own learning rate, width,
training crop and source weights, drawn from ranges around the run's own (SEARCHED says which), and
reports its validation loss after every epoch.  Trials take ``cpus_per_trial`` CPUs each, so as many
run at once as the cluster's CPUs allow and no more.  The driver keeps every finished trial's model
(``trials/trial-N.keras``), the best one as ``best.keras``, and the table of trials as ``trials.csv``
and ``trials.md``; Ray Tune's own files are removed.  The search is seeded: the same command draws
the same trials.
"""
from __future__ import annotations

import csv
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Optional

from engine.data.sources import parse_data
from engine.distributed.cluster import ClusterOptions, connected
from engine.errors import ConfigurationError, DocCleanError
from engine.io import check_output_folder
from engine.files import atomic_copy
from engine.models import registry
from engine.progress import ProgressCallback, ProgressValues, report
from engine.training.config import MAX_CROP, MIN_CROP, TrainConfig, resolved
from engine.vocabulary import Stage

#: What a trial draws, around the run's own value: the learning rate from a third of it to three times it
#: (log-uniform), the width from half to one and a half times it, the crop from half to one and a half times
#: it (in steps the architecture can halve), and each source's weight from half to twice its own (log-uniform).
SEARCHED = ("learning_rate", "width", "crop", "weight of each source")
#: The table's measure: the best epoch's validation loss (lower is better).
METRIC = "val_loss"
_DEFAULT_RATES = {"adam": 1e-3, "rmsprop": 1e-3, "adadelta": 1.0}


@dataclass(frozen=True)
class TuneOptions:
    """How wide a sweep is: ``trials`` models, each on ``cpus_per_trial`` CPUs, drawn with ``seed``."""

    trials: int = 4
    cpus_per_trial: int = 1
    seed: int = 0

    def check(self) -> TuneOptions:
        if self.trials < 1:
            raise ConfigurationError(f"a sweep needs at least one trial, not {self.trials}")
        if self.cpus_per_trial < 1:
            raise ConfigurationError(f"each trial needs at least one CPU, not {self.cpus_per_trial}")
        return self


@dataclass
class Trial:
    """One trained model of the sweep: its settings, its best validation loss and epoch, or why it failed."""

    number: int
    settings: dict[str, float]
    val_loss: Optional[float] = None
    best_epoch: Optional[int] = None
    model: Optional[Path] = None
    error: str = ""


@dataclass
class Sweep:
    """A finished sweep: every trial, the best one, and the files written."""

    trials: list[Trial]
    best: Optional[Trial]
    table: Path


def search_space(base: TrainConfig) -> dict[str, Any]:
    """Ray Tune's space around ``base`` (checked and filled in: engine.training.config.resolved)."""
    from ray import tune

    arch = registry.get_architecture(base.arch)
    assert base.optimizer is not None
    rate = base.learning_rate or _DEFAULT_RATES[base.optimizer]
    space: dict[str, Any] = {"learning_rate": tune.loguniform(rate / 3, rate * 3)}
    options = {**arch.defaults, **base.arch_options}
    if "width" in arch.options:
        low, high = arch.options["width"]
        width = options["width"]
        space["width"] = tune.choice(sorted({min(high, max(low, round(width * f))) for f in (0.5, 1.0, 1.5)}))
    if not base.is_digits:
        step = 2 ** (options.get("depth", 0) + options.get("stem", 1) - 1)
        crops = {min(MAX_CROP, max(MIN_CROP, step * round(base.crop * f / step))) for f in (0.5, 1.0, 1.5)}
        space["crop"] = tune.choice(sorted(crops))
        for source in parse_data(base.data, base.data_folder):
            weight = base.data_weights.get(source.name, source.weight)
            space[f"weight:{source.name}"] = tune.loguniform(weight / 2, weight * 2)
    return space


def trial_config(base: TrainConfig, settings: dict[str, Any]) -> TrainConfig:
    """``base`` with a trial's ``settings`` (as search_space draws them) in place of its own."""
    config = replace(base, learning_rate=float(settings["learning_rate"]))
    if "width" in settings:
        config = replace(config, arch_options={**config.arch_options, "width": int(settings["width"])})
    if "crop" in settings:
        config = replace(config, crop=int(settings["crop"]))
    weights = {key.split(":", 1)[1]: float(value) for key, value in settings.items() if key.startswith("weight:")}
    return resolved(replace(config, data_weights={**config.data_weights, **weights}))


def _run_trial(settings: dict[str, Any], base: TrainConfig, threads: int) -> None:
    """On a worker: train one trial, telling Tune each epoch's validation loss and, last, the model."""
    from ray import tune

    from engine.tf_runtime import limit_threads

    limit_threads(threads)  # the trial's CPUs, not every core of the computer its worker is on
    from engine.training.fit import train

    best = math.inf

    def told(event: Any) -> None:
        nonlocal best
        if event.stage == Stage.EPOCH and METRIC in event.values:
            best = min(best, float(event.values[METRIC]))
            tune.report({METRIC: best, "epoch": event.done})

    with tempfile.TemporaryDirectory(prefix="docclean-trial-") as scratch:
        result = train(trial_config(base, settings), Path(scratch) / "model.keras", progress=told)
        figures = {METRIC: float(result.info.metrics.get(METRIC, best)),
                   "best_epoch": int(result.info.metrics.get("best_epoch", 0)), "done": 1}
        (Path(scratch) / "model.checkpoint.keras").unlink(missing_ok=True)
        tune.report(figures, checkpoint=tune.Checkpoint.from_directory(scratch))


def run_sweep(base: TrainConfig, options: TuneOptions, cluster: ClusterOptions, out_dir: Path,
              progress: Optional[ProgressCallback] = None,
              say: Optional[Callable[[str], None]] = None) -> Sweep:
    """Train ``options.trials`` variants of ``base`` on Ray Tune; write their models, the best and the table
    into ``out_dir``.  Everything is checked before Ray starts."""
    base = resolved(_absolute(base))
    options.check()
    cluster.check()
    if not base.is_digits:
        parse_data(base.data, base.data_folder)  # the sources exist and the recipe reads
    earlier = [name for name in ("trials.csv", "best.keras", "trials") if (out_dir / name).exists()]
    if earlier:
        raise ConfigurationError(f"{out_dir} holds an earlier sweep ({earlier[0]}), which would be replaced: "
                                 "choose another folder")
    check_output_folder(out_dir)
    # Not Tune's own console tables, nor its TensorBoard and CSV logs of every trial: the table is DocClean's.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    storage = Path(tempfile.mkdtemp(prefix=".docclean-tune-", dir=out_dir))
    try:
        with connected(cluster, say):
            from ray import tune
            from ray.tune.logger import JsonLoggerCallback
            from ray.tune.search import BasicVariantGenerator

            trainable = tune.with_resources(
                tune.with_parameters(_run_trial, base=base, threads=options.cpus_per_trial),
                {"cpu": options.cpus_per_trial})
            tuner = tune.Tuner(
                trainable, param_space=search_space(base),
                tune_config=tune.TuneConfig(num_samples=options.trials,
                                            search_alg=BasicVariantGenerator(random_state=options.seed)),
                run_config=tune.RunConfig(name="sweep", storage_path=str(storage), verbose=0,
                                          callbacks=[JsonLoggerCallback(),  # type: ignore[no-untyped-call]
                                                     _told(progress, options.trials)]))
            report(progress, Stage.TRIAL, 0, options.trials, "training")
            grid = tuner.fit()
            trials = _kept(grid, out_dir)
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    finished = [trial for trial in trials if trial.val_loss is not None and trial.model is not None]
    best = min(finished, key=lambda trial: trial.val_loss or math.inf) if finished else None
    if best is not None and best.model is not None:
        atomic_copy(best.model, out_dir / "best.keras")
    return Sweep(trials, best, _write_table(trials, best, out_dir))


def _absolute(config: TrainConfig) -> TrainConfig:
    """``config`` with its data folder and recipe file as absolute paths: its trials run in other folders."""
    data = str(Path(config.data).resolve()) if Path(config.data).is_file() else config.data
    folder = str(Path(config.data_folder).resolve()) if config.data_folder else None
    return replace(config, data=data, data_folder=folder)


def _kept(grid: Any, out_dir: Path) -> list[Trial]:
    """The sweep's trials, numbered as drawn, each finished one's model copied into ``out_dir/trials``."""
    trials = []
    for number, result in enumerate(sorted(grid, key=lambda result: result.path), start=1):
        settings = {key: float(value) for key, value in result.config.items()}
        trial = Trial(number, settings)
        metrics = result.metrics or {}
        if result.error is not None or not metrics.get("done"):
            cause = getattr(result.error, "cause", None)  # DocClean's own error, raised on the worker
            trial.error = str(cause) if isinstance(cause, DocCleanError) else "stopped before its end (out of " \
                "memory, or stopped by Ctrl+C; Ray's log of the trial says more)"
        elif result.checkpoint is not None:
            with result.checkpoint.as_directory() as folder:
                trial.model = atomic_copy(Path(folder) / "model.keras", out_dir / "trials" / f"trial-{number}.keras")
            trial.val_loss, trial.best_epoch = float(metrics[METRIC]), int(metrics["best_epoch"])
        trials.append(trial)
    return trials


def _write_table(trials: list[Trial], best: Optional[Trial], out_dir: Path) -> Path:
    """``trials.csv`` (every figure) and ``trials.md`` (for reading) in ``out_dir``; the CSV's path."""
    keys = sorted({key for trial in trials for key in trial.settings})
    rows = [{"trial": trial.number, **{key: f"{trial.settings.get(key, math.nan):.4g}" for key in keys},
             METRIC: "" if trial.val_loss is None else f"{trial.val_loss:.5f}",
             "best_epoch": "" if trial.best_epoch is None else trial.best_epoch,
             "model": trial.model.name if trial.model else trial.error,
             "best": "yes" if trial is best else ""} for trial in trials]
    table = out_dir / "trials.csv"
    with open(table, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]) if rows else ["trial"])
        writer.writeheader()
        writer.writerows(rows)
    if rows:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(rows[0])]
        lines += ["| " + " | ".join(str(value) for value in row.values()) + " |" for row in rows]
        (out_dir / "trials.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


def _told(progress: Optional[ProgressCallback], total: int) -> Any:
    """Tune's callback that turns finished trials into progress (stage "trial"); made where Ray is imported, as
    DocClean's modules import no Ray at their top."""
    from ray.tune import Callback

    class Told(Callback):
        def __init__(self) -> None:
            self.done = 0

        def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            self.done += 1
            values: ProgressValues = {key: value for key, value in (trial.last_result or {}).items()
                                      if key == METRIC and isinstance(value, float)}
            figure = f"{METRIC} {values[METRIC]:.5f}" if values else ""
            report(progress, Stage.TRIAL, self.done, total, figure, values)

        on_trial_error = on_trial_complete

    return Told()


__all__ = ["SEARCHED", "METRIC", "TuneOptions", "Trial", "Sweep", "search_space", "trial_config", "run_sweep"]
