"""The encoders the cluster, classify and anomaly experiments share, and the codes they compute.

Three autoencoders of the seeds (SEEDS.md sections 1, 4, 5) are trained here on the lab's MNIST
split: the dense AE with a 36-number code, the conv AE with a 7x7x2 code and the conv AE with a
4x4x8 code.  A trained autoencoder is kept for the rest of the process (keyed by data, seed and
quick), so running cluster, then anomaly, then classify trains each one once.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.data.catalogue import MNIST
from engine.lab import data, n2d
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.vocabulary import Stage

if TYPE_CHECKING:
    import keras

# The seeds train on 60,000 images; the lab on 8,000.
SEED_TRAIN_IMAGES = 60_000
# A tenth of the training images watches val_loss for early stopping (the held-out
# images stay unseen until scoring).
VALIDATION_FRACTION = 0.1
# quick=True: one epoch with small batches, so even 1,000 images make a few dozen updates.
QUICK_BATCH = 64


@dataclass(frozen=True)
class EncoderSpec:
    """How one of the seeds' autoencoders is built and trained."""

    architecture: str  # a name in engine.models.registry or LAB_BUILDERS
    label: str  # how tables and figures name its codes
    options: dict[str, int] = field(default_factory=dict)
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    loss: str = "binary_crossentropy"
    batch_size: int = 128
    epochs: int = 10
    # Early stopping on val_loss with this patience; None trains all the epochs.
    patience: int | None = None
    flat_input: bool = False


ENCODERS: dict[str, EncoderSpec] = {
    # Section 1's variant: h = 36, adam, BCE, batch 2024, up to 200 epochs, early stopping (patience 5).
    "dense36": EncoderSpec("dense", "dense-36 codes", {"bottleneck": 36}, batch_size=2024, epochs=200,
                           patience=5, flat_input=True),
    # Section 4: adadelta, BCE, 3 epochs of 60,000 images = about 1,400 updates at batch 128; 8,000
    # images need 22 epochs for as many (3 epochs here leave the 7x7x2 code barely trained).
    # Keras 3's Adadelta defaults to 1e-3, which barely moves; the seed's is 1.0.
    "conv7x7x2": EncoderSpec("cluster_conv", "conv 7x7x2 codes", optimizer="adadelta", learning_rate=1.0,
                             epochs=3 * SEED_TRAIN_IMAGES // data.N_TRAIN),
    # Section 5: adadelta, BCE, 50 epochs, batch 128 (not scaled: 50 epochs already converge).
    "conv4x4x8": EncoderSpec("feature_conv", "conv 4x4x8 codes", optimizer="adadelta", learning_rate=1.0,
                             epochs=50),
    # Beyond the seeds (engine.lab.n2d): N2D's dense AE with a 10-number code, taught to ignore
    # shifts.  30 epochs: held-out accuracy after self-labelling 0.946; 80 epochs: 0.959 (110: no better).
    "n2d": EncoderSpec("n2d", "N2D shift-invariant codes", loss="mse", batch_size=256, epochs=80, flat_input=True),
}
# Architectures of the lab's own, not in the model zoo (no page or digit model is made of them).
LAB_BUILDERS = {"n2d": n2d.autoencoder}


@dataclass
class TrainedAutoencoder:
    """A trained autoencoder, its encoder half, and how its training went."""

    name: str
    spec: EncoderSpec
    model: keras.Model  # input -> reconstruction
    encoder: keras.Model  # input -> code layer
    epochs_run: int
    best_epoch: int
    seconds: float
    history: dict[str, list[float]]

    def describe(self) -> dict[str, str | int | float]:
        """What a numbers.json says about this encoder's training."""
        return {"architecture": self.spec.architecture, "code_size": int(np.prod(self.encoder.output.shape[1:])),
                "epochs_run": self.epochs_run, "best_epoch": self.best_epoch, "train_seconds": round(self.seconds, 1),
                "final_val_loss": self.history.get("val_loss", [float("nan")])[self.best_epoch - 1]}


# (encoder name, data folder, seed, quick) -> TrainedAutoencoder, for the rest of the process.
_CACHE: dict[tuple[str, str, int, bool], TrainedAutoencoder] = {}


def _shaped(spec: EncoderSpec, x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1) if spec.flat_input else x[..., None]


def _compiled(spec: EncoderSpec, seed: int) -> keras.Model:
    import keras

    from engine.models import zoo

    keras.utils.set_random_seed(seed)
    if spec.architecture in LAB_BUILDERS:
        model = LAB_BUILDERS[spec.architecture](seed=seed, **spec.options)
    else:
        model = zoo.build_model(spec.architecture, **spec.options)
    optimizer = {"adam": keras.optimizers.Adam, "adadelta": keras.optimizers.Adadelta}[spec.optimizer]
    model.compile(optimizer=optimizer(learning_rate=spec.learning_rate), loss=spec.loss)
    return model


def _train(name: str, x_train: np.ndarray, *, seed: int, quick: bool, progress: ProgressCallback | None,
           cancel: CancelToken | None) -> TrainedAutoencoder:
    import keras

    spec = ENCODERS[name]
    start = time.perf_counter()
    model = _compiled(spec, seed)
    inputs = _shaped(spec, x_train)
    n_val = max(1, int(len(inputs) * VALIDATION_FRACTION))
    validation, train = (inputs[:n_val], inputs[:n_val]), inputs[n_val:]
    epochs = 1 if quick else spec.epochs
    batch = min(spec.batch_size, QUICK_BATCH) if quick else spec.batch_size
    if spec.patience is None:
        # A fixed number of epochs (the seeds' section 4 and 5 settings): keep the last weights, as they did.
        history = data.fit(model, train, train, epochs=epochs, batch_size=batch, validation=validation,
                           what=spec.label, progress=progress, cancel=cancel)
        best = len(history["loss"])
    else:
        history, best = data.fit_keeping_best(model, train, train, validation=validation, epochs=epochs,
                                              batch_size=batch, patience=spec.patience, what=spec.label,
                                              progress=progress, cancel=cancel)
    encoder = keras.Model(model.inputs, model.get_layer("code").output)
    return TrainedAutoencoder(name, spec, model, encoder, len(history["loss"]), best,
                              time.perf_counter() - start, history)


def trained_autoencoder(name: str, data_folder: Path | None, *, seed: int = 0, quick: bool = False,
                        progress: ProgressCallback | None = None,
                        cancel: CancelToken | None = None) -> TrainedAutoencoder:
    """Autoencoder ``name`` (a key of ENCODERS) trained on the lab's MNIST training split, once per process."""
    key = (name, str(data.dataset_folder(data_folder, "mnist")), seed, quick)
    if key not in _CACHE:
        check(cancel)
        report(progress, Stage.TRAIN, 0, 1, f"training the {ENCODERS[name].label} autoencoder")
        x_train, *_ = data.digit_split(MNIST, data_folder, seed=seed, quick=quick)
        _CACHE[key] = _train(name, x_train, seed=seed, quick=quick, progress=progress, cancel=cancel)
        report(progress, Stage.TRAIN, 1, 1, f"{ENCODERS[name].label} autoencoder trained")
    return _CACHE[key]


def forget_autoencoders() -> None:
    """Drop the autoencoders kept for this process, so the next experiment trains its own."""
    _CACHE.clear()


def codes(ae: TrainedAutoencoder, x: np.ndarray) -> np.ndarray:
    """The code layer's output for images ``x`` (n, 28, 28), flattened to (n, code size)."""
    out: np.ndarray = ae.encoder.predict(_shaped(ae.spec, x), verbose=0, batch_size=512)
    return out.reshape(len(x), -1)


def reconstruction_errors(ae: TrainedAutoencoder, x: np.ndarray) -> np.ndarray:
    """Per-image mean squared error between ``x`` and the autoencoder's reconstruction."""
    out: np.ndarray = ae.model.predict(_shaped(ae.spec, x), verbose=0, batch_size=512).reshape(len(x), -1)
    errors: np.ndarray = np.mean((out - x.reshape(len(x), -1)) ** 2, axis=1)
    return errors


def pixels(x: np.ndarray) -> np.ndarray:
    """Images as flat rows of 784 values: the raw-pixel baseline's features."""
    return x.reshape(len(x), -1)


PIXELS = "raw pixels"


def feature_sets(data_folder: Path | None, encoders: tuple[str, ...], images: tuple[np.ndarray, ...], *,
                 seed: int, quick: bool, progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> dict[str, tuple[np.ndarray, ...]]:
    """Feature name (PIXELS or an encoder's label) -> the rows of each stack in ``images``, in order."""
    sets = {PIXELS: tuple(pixels(x) for x in images)}
    for name in encoders:
        ae = trained_autoencoder(name, data_folder, seed=seed, quick=quick, progress=progress, cancel=cancel)
        sets[ae.spec.label] = tuple(codes(ae, x) for x in images)
    return sets
