"""The data every lab experiment trains and scores on: a fixed split of MNIST or notMNIST.

The machines here hold only the 10,000 test images of each set, so the lab trains on
8,000 of them and scores on the other 2,000 (a seeded shuffle, the same for every
experiment).  When the folder also holds the 60,000 training images (or no folder is
given and the full sets are downloaded), it uses the write-ups' split instead: train on
the 60,000, score on the 10,000 test images.  ``fit`` (or ``fit_keeping_best``) and ``mse`` are
the training loop, through engine.training.bridge as the product's training, and the score every
experiment shares.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.data.digits import describe_folder, load_dataset, load_test_split, to_unit
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.vocabulary import Stage

if TYPE_CHECKING:  # imported when training: listing or splitting the data loads no TensorFlow
    import keras

    from engine.training.bridge import KeepBest, TrainingBridge

N_TRAIN = 8_000
# quick=True keeps a test run to seconds; still enough digits for a visible trend.
QUICK_TRAIN = 1_000
QUICK_EVAL = 200

_DISPLAY = {"mnist": "MNIST", "notmnist": "notMNIST"}


def _has_training_files(name: str, data_folder: Path | None) -> bool:
    return data_folder is None or describe_folder(name, data_folder).has_train


def _scale(x_train: np.ndarray, x_eval: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    # One scale for both sides (notMNIST divides by the max of all images, as the write-up does).
    both = to_unit(np.concatenate([x_train, x_eval]), name)
    return both[: len(x_train)], both[len(x_train):]


def _split_test_set(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(len(x))
    train, held = order[:N_TRAIN], order[N_TRAIN:]
    return x[train], y[train], x[held], y[held]


def _shrink(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    return x[:n], y[:n]


def dataset_folder(data_folder: Path | None, name: str) -> Path | None:
    """The folder of data set ``name`` given the lab's data folder.

    The lab's folder may be the data set's own folder (shared/data/mnist), a parent holding
    mnist/ and notmnist/ (shared/data), or a sibling's (anomaly needs both sets); None means
    download to the per-user cache.
    """
    if data_folder is None:
        return None
    folder = Path(data_folder)
    for candidate in (folder / name, folder if folder.name == name else None, folder.parent / name):
        if candidate is not None and candidate.is_dir():
            return candidate
    return folder


def digit_split(
    name: str, data_folder: Path | None, seed: int = 0, quick: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """``(x_train, y_train, x_eval, y_eval, protocol)`` of data set ``name`` ('mnist' or 'notmnist').

    Images are float32 in [0, 1] of shape (n, 28, 28), labels uint8.  ``protocol`` says in
    words what was trained and scored on.  ``quick`` keeps only the first QUICK_TRAIN /
    QUICK_EVAL images of each side (for tests).  Raises FileNotFoundError if the folder
    lacks the test files.
    """
    label = _DISPLAY.get(name, name)
    folder = dataset_folder(data_folder, name)
    if _has_training_files(name, folder):
        (x_train, y_train), (x_eval, y_eval) = load_dataset(name, folder)
        protocol = (f"trained on the {len(x_train):,} {label} training images, "
                    f"scored on the {len(x_eval):,} test images")
    else:
        x_test, y_test = load_test_split(name, folder)
        x_train, y_train, x_eval, y_eval = _split_test_set(x_test, y_test, seed)
        protocol = (f"trained on {len(x_train):,} of the {len(x_test):,} {label} test images, "
                    f"scored on the other {len(x_eval):,} (seeded split, seed {seed}); with the full "
                    f"sets downloaded it trains on the 60,000 training images and scores on the 10,000 test images")
    if quick:
        x_train, y_train = _shrink(x_train, y_train, QUICK_TRAIN)
        x_eval, y_eval = _shrink(x_eval, y_eval, QUICK_EVAL)
        protocol += f"; quick run: only {len(x_train):,} training and {len(x_eval):,} scored images"
    x_train, x_eval = _scale(x_train, x_eval, name)
    return x_train, y_train, x_eval, y_eval, protocol


def load(name: str, data_folder: Path | None, *, seed: int, quick: bool,
         progress: ProgressCallback | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """digit_split with a ``data`` progress stage around it, as every experiment starts."""
    report(progress, Stage.DATA, 0, 1, f"loading {_DISPLAY.get(name, name)}")
    split = digit_split(name, data_folder, seed=seed, quick=quick)
    report(progress, Stage.DATA, 1, 1)
    return split


def fit(model: keras.Model, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int,
        validation: tuple[np.ndarray, np.ndarray] | None = None, what: str = "",
        progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict[str, list[float]]:
    """Train a compiled Keras ``model`` on ``(x, y)`` with progress and cancel; returns the loss history.

    Reports ``epoch`` (with the losses) and ``batch`` stages, ``what`` naming the model in the
    messages; a set ``cancel`` stops within one batch and raises Cancelled.  The model keeps its
    last weights (the seeds' fixed-epoch autoencoders did); fit_keeping_best keeps the best epoch's.
    """
    return _fit(model, x, y, epochs=epochs, batch_size=batch_size, validation=validation, what=what,
                progress=progress, cancel=cancel)[0]


def fit_keeping_best(model: keras.Model, x: np.ndarray, y: np.ndarray, *, validation: tuple[np.ndarray, np.ndarray],
                     epochs: int, batch_size: int, monitor: str = "val_loss", patience: int | None = None,
                     what: str = "", progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None) -> tuple[dict[str, list[float]], int]:
    """fit, keeping the weights of the best epoch by ``monitor``; (history, best epoch counted from 1).

    The checkpoint is held in memory (the lab saves no models).  ``monitor`` is minimised when it is
    a loss and maximised otherwise (val_accuracy, ties going to the lower val_loss: KeepBest);
    ``patience`` epochs without improvement stop it.
    """
    from engine.training.bridge import KeepBest

    history, bridge = _fit(model, x, y, epochs=epochs, batch_size=batch_size, validation=validation, what=what,
                           progress=progress, cancel=cancel, keep_best=KeepBest(monitor, patience))
    bridge.restore_best()
    return history, bridge.best_epoch or len(history["loss"])


def _fit(model: keras.Model, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int,
         validation: tuple[np.ndarray, np.ndarray] | None, what: str, progress: ProgressCallback | None,
         cancel: CancelToken | None,
         keep_best: KeepBest | None = None) -> tuple[dict[str, list[float]], TrainingBridge]:
    """One ``fit`` call for all epochs (a call per epoch cost more than a small model's epoch), through
    the product's training bridge; (history, the bridge)."""
    from engine.training.bridge import TrainingBridge

    check(cancel)
    bridge = TrainingBridge(epochs=epochs, batches=-(-len(x) // batch_size), progress=progress, cancel=cancel,
                            what=what, keep_best=keep_best)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation,
                        shuffle=True, verbose=0, callbacks=[bridge])
    check(cancel)
    return {k: [float(v) for v in vs] for k, vs in history.history.items()}, bridge


def apply(model: keras.Model, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """The model's output for ``x``, in slices; calling the model skips predict's per-call set-up."""
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error between two image stacks of the same size (any shape)."""
    a = np.asarray(a, np.float32).reshape(len(a), -1)
    b = np.asarray(b, np.float32).reshape(len(b), -1)
    return float(np.mean((a - b) ** 2))
