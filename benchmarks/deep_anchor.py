"""The seeds' deep conv AE anchor, trained by the product's own ``train``.

Training takes minutes on two CPU cores, so the model is cached in
``benchmarks/results/cache/`` under a name derived from its training
configuration and a fingerprint of the data; a re-run with the same
settings loads it instead of training again.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Optional

ARCH = "noisyoffice_deep"
EPOCHS = 10
SEED = 0
TEST_FRACTION = 0.2
# A smoke run (--smoke of the benchmarks) trains for a moment: the route, not the model, is checked.
SMOKE_TRAINING = {"epochs": 1, "steps_per_epoch": 2}


def data_fingerprint(folder: Path) -> str:
    """A short hash of the names and sizes of every file under ``folder``.

    Cheap (no file is read) and changes when pages are added, removed or
    replaced by a different-sized file, which is when the cache must go.
    """
    entries = sorted(
        f"{path.relative_to(folder).as_posix()}:{path.stat().st_size}"
        for path in folder.rglob("*") if path.is_file()
    )
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:16]


def _config_key(config, folder: Path) -> str:
    """Hash of every training setting (with the zoo's defaults filled in) plus the data fingerprint."""
    from engine.training.fit import resolved

    # Resolved, so a change of the architecture's default batch size, loss or
    # optimizer in the zoo also invalidates the cache.
    text = json.dumps(dataclasses.asdict(resolved(config)), sort_keys=True, default=str)
    return hashlib.sha256(f"{text}\n{data_fingerprint(folder)}".encode()).hexdigest()[:16]


def trained_model_path(
    data: Path,
    cache_dir: Path,
    retrain: bool = False,
    progress: Optional[Callable] = None,
    epochs: int = EPOCHS,
    steps_per_epoch: Optional[int] = None,
) -> Path:
    """Return a model file of the deep conv AE trained on the training documents.

    Trains with ``engine.training.train`` (10 epochs, the seeds' settings from
    the zoo, seed 0, documents split 80/20 as ``split_by_document(pairs, 0.2,
    seed=0)`` does, so the benchmark's test documents are never trained on)
    unless a cached model with the same configuration exists and ``retrain``
    is False.

    Args:
        data: the NoisyOffice folder (with noisy/ and clean/).
        cache_dir: where trained models are kept between runs.
        retrain: train even if a cached model exists.
        progress: optional engine.progress callback for the training.
        epochs, steps_per_epoch: fewer for a smoke run (a different
            configuration, so a different cached file).

    Returns:
        Path of a ``.keras`` model file loadable by ``engine.cleaning.denoiser.Denoiser``.
    """
    # Imported here so the classical rows run without loading TensorFlow.
    from engine.training.fit import TrainConfig, train

    # Everything else (optimizer adam, loss bce, batch 8) comes from the zoo's
    # record of the seeds' settings; train() holds out the same test
    # documents as split_by_document(pairs, TEST_FRACTION, seed=SEED).
    config = TrainConfig(
        data=str(Path(data).resolve()), arch=ARCH, epochs=epochs, seed=SEED,
        test_fraction=TEST_FRACTION,
        **({} if steps_per_epoch is None else {"steps_per_epoch": steps_per_epoch}),
    )
    path = Path(cache_dir) / f"{ARCH}-{epochs}ep-{_config_key(config, Path(data))}.keras"
    if path.is_file() and not retrain:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # train() checkpoints into its output as it goes; training into a side
    # name keeps an interrupted run from leaving a half-trained "cached" model.
    partial = path.with_name(f"{path.stem}.partial.keras")
    train(config, output=partial, progress=progress)
    os.replace(partial, path)
    return path


def held_out_documents(model_path: Path) -> list[str]:
    """The clean-document ids a model file says were held out of its training.

    Returns an empty list when the file does not record them.
    """
    from engine.models.modelfile import read_info

    description = read_info(model_path).training.get("data_description", {})
    return sorted(description.get("test_documents", []))
