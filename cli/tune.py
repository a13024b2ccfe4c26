"""``docclean tune RECIPE --trials N -o FOLDER``: a training sweep on Ray Tune, and its table of trials."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from cli.arguments import arch_options, number, whole
from cli.progress_bars import Bars
from engine.distributed.cluster import ClusterOptions
from engine.errors import ConfigurationError, ExitCode
from engine.models import registry
from engine.training.config import TrainConfig


def add_tune_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from engine.distributed.tuning import SEARCHED, TuneOptions

    p = commands.add_parser("tune", help="a training sweep on Ray Tune: several models of a recipe, each with its "
                                         "own settings, and the table of how each did")
    p.add_argument("recipe", help="the training data: a .toml recipe (resources/recipes), or a mix such as "
                                  "noisyoffice,dibco:2,synthetic")
    p.add_argument("-o", "--output", required=True,
                   help="the folder for trials.csv, trials.md, trials/trial-N.keras and best.keras")
    p.add_argument("--trials", type=whole, default=TuneOptions.trials,
                   help=f"models to train (default {TuneOptions.trials}), each drawing its {', '.join(SEARCHED)} "
                        "around the run's own")
    p.add_argument("--cpus-per-trial", type=whole, default=TuneOptions.cpus_per_trial, metavar="K",
                   help="CPUs each trial takes, and the threads it trains on: as many trials run at once as the "
                        f"CPUs allow (default {TuneOptions.cpus_per_trial})")
    p.add_argument("--address", metavar="HOST:PORT",
                   help="the Ray cluster's head to join, or auto (default: RAY_ADDRESS, else start one here)")
    p.add_argument("--data-folder", help="the folder holding the recipe's named sources (noisyoffice, dibco, ...)")
    p.add_argument("--arch", default="docunet", choices=[name for name, arch in registry.ARCHITECTURES.items()
                                                         if arch.family == registry.DOCUMENT],
                   help="the architecture every trial trains (default docunet)")
    p.add_argument("--arch-options", help='JSON options of the architecture, e.g. \'{"depth": 3}\'; width is drawn '
                                          "around the one given here")
    p.add_argument("--epochs", type=whole, default=3, help="epochs per trial (default 3)")
    p.add_argument("--steps-per-epoch", type=whole, default=50, help="batches per epoch (default 50)")
    p.add_argument("--learning-rate", type=number, help="the learning rate each trial draws its own around "
                                                        "(default: the optimizer's)")
    p.add_argument("--crop", type=whole, default=128, help="the training crop each trial draws its own around "
                                                           "(default 128)")
    p.add_argument("--seed", type=whole, default=TuneOptions.seed,
                   help="draws the trials, and seeds their training: the same seed, the same sweep")
    p.set_defaults(run=tune)


def tune(args: argparse.Namespace) -> int:
    from engine.distributed.cluster import ray_installed, INSTALL_RAY
    from engine.distributed.tuning import METRIC, TuneOptions, run_sweep

    options_of_arch = arch_options(args.arch_options)
    if not ray_installed():
        raise ConfigurationError(f"a sweep runs on Ray Tune, which is not installed: {INSTALL_RAY}")
    base = TrainConfig(data=args.recipe, arch=args.arch, arch_options=options_of_arch, epochs=args.epochs,
                       steps_per_epoch=args.steps_per_epoch, learning_rate=args.learning_rate, crop=args.crop,
                       seed=args.seed, data_folder=args.data_folder)
    options = TuneOptions(args.trials, args.cpus_per_trial, args.seed)
    bars = Bars(args.quiet)
    try:
        sweep = run_sweep(base, options, ClusterOptions(args.address), Path(args.output), progress=bars,
                          say=lambda sentence: tqdm.write(sentence, file=sys.stderr))
    finally:
        bars.close()
    table = sweep.table.with_suffix(".md")
    if table.exists():
        print(table.read_text(encoding="utf-8"), end="")
    failed = [trial for trial in sweep.trials if trial.error]
    if sweep.best is None:
        print(f"error: no trial finished; the table is in {sweep.table}", file=sys.stderr)
        return ExitCode.FAILED
    print(f"best: trial {sweep.best.number}, {METRIC} {sweep.best.val_loss:.5f}, saved as "
          f"{Path(args.output) / 'best.keras'}; the table is in {sweep.table}")
    return ExitCode.SOME_FAILED if failed else ExitCode.OK
