"""Denoising autoencoders on MNIST (SEEDS.md sections 2 and 3): Gaussian noise in, clean digit out.

Two models, trained on digits with noise of factor 0.5 (x + 0.5 * N(0, 1), clipped) and the
clean digit as target: the dense h = 16 autoencoder (adam, MSE) and the deep conv denoiser
16-8-8-16-1 (adam, binary cross-entropy), 10 epochs each.  Both are then scored at every
noise factor (0.5, and 0.7 as section 3 tried, plus any asked for): the MSE of the noisy
input and of each model's output against the clean held-out digits.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from engine.data.catalogue import MNIST
from engine.data.noise import add_gaussian_noise
from engine.lab import data, figures
from engine.lab.result import Json, LabResult, Row
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.vocabulary import Stage

if TYPE_CHECKING:
    import keras

TRAIN_FACTOR = 0.5
FACTORS = (0.5, 0.7)
EPOCHS = 10
BATCH_SIZE = 32  # Keras's default, as in the sweep: the write-ups name none
N_SHOWN = 10
# name -> (zoo builder and options, loss, whether the model takes flat 784-vectors)
MODELS = {
    "dense": ("dense", {"bottleneck": 16}, "mse", True),
    "conv": ("mnist_denoiser", {}, "binary_crossentropy", False),
}


def _shape_for(x: np.ndarray, flat: bool) -> np.ndarray:
    return x.reshape(len(x), -1) if flat else x[..., None]


def train_denoiser(name: str, noisy: np.ndarray, clean: np.ndarray, *, epochs: int, seed: int,
                   validation: tuple[np.ndarray, np.ndarray] | None,
                   progress: ProgressCallback | None, cancel: CancelToken | None) -> keras.Model:
    """Model ``name`` of MODELS trained to map noisy digits to clean ones."""
    import keras

    from engine.models import zoo

    builder, options, loss, flat = MODELS[name]
    keras.utils.set_random_seed(seed)
    model = zoo.build_model(builder, **options)
    model.compile(optimizer="adam", loss=loss)
    val = None if validation is None else (_shape_for(validation[0], flat), _shape_for(validation[1], flat))
    data.fit(model, _shape_for(noisy, flat), _shape_for(clean, flat), epochs=epochs, batch_size=BATCH_SIZE,
             validation=val, what=name, progress=progress, cancel=cancel)
    return model


def denoise(name: str, model: keras.Model, noisy: np.ndarray) -> np.ndarray:
    """Model ``name``'s output for noisy digits (n, 28, 28), as (n, 28, 28)."""
    return data.apply(model, _shape_for(noisy, MODELS[name][3])).reshape(noisy.shape)


def noise_factors(extra: Sequence[float] = ()) -> list[float]:
    """0.5 and 0.7 (the write-ups') and any ``extra`` factors, sorted, each once."""
    return sorted({round(float(f), 4) for f in (*FACTORS, *extra)})


def run(data_folder: Path | None, out_dir: Path, *, seed: int = 0, quick: bool = False,
        progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
        factors: Sequence[float] = ()) -> LabResult:
    """Train both denoisers at factor 0.5, score them at every factor, draw original / noisy / denoised."""
    out_dir = Path(out_dir)
    x_train, _, x_eval, _, protocol = data.load(MNIST, data_folder, seed=seed, quick=quick, progress=progress)
    chosen = noise_factors(factors)
    # Each factor gets its own noise draw; the training noise is another one.
    noisy_eval = {f: add_gaussian_noise(x_eval, f, seed=seed + 1 + i) for i, f in enumerate(chosen)}
    noisy_train = add_gaussian_noise(x_train, TRAIN_FACTOR, seed=seed)
    epochs = 2 if quick else EPOCHS
    table: list[Row] = [{"factor": f, "noisy": data.mse(noisy_eval[f], x_eval)} for f in chosen]
    shown, paths = slice(0, N_SHOWN), []
    for done, name in enumerate(MODELS):
        check(cancel)
        report(progress, Stage.MODEL, done, len(MODELS), name)
        validation = None if quick else (noisy_eval[TRAIN_FACTOR] if TRAIN_FACTOR in noisy_eval
                                         else add_gaussian_noise(x_eval, TRAIN_FACTOR, seed=seed + 1), x_eval)
        model = train_denoiser(name, noisy_train, x_train, epochs=epochs, seed=seed, validation=validation,
                               progress=progress, cancel=cancel)
        for row in table:
            f = row["factor"]
            output = denoise(name, model, noisy_eval[f])
            row[name] = data.mse(output, x_eval)
            paths.append(figures.image_rows(
                [x_eval[shown], noisy_eval[f][shown], output[shown]], ["original", f"noisy {f}", name],
                out_dir / f"denoise_{name}_{f:g}.png", title=f"{name} denoiser, noise factor {f}"))
    report(progress, Stage.MODEL, len(MODELS), len(MODELS))
    paths.append(figures.line_plot([r["factor"] for r in table],
                                   {k: [r[k] for r in table] for k in ("noisy", *MODELS)},
                                   out_dir / "denoise_mse.png", xlabel="noise factor", ylabel="MSE vs clean",
                                   title=f"Held-out MSE (models trained at factor {TRAIN_FACTOR})"))
    numbers: Json = {"train_factor": TRAIN_FACTOR, "epochs": epochs, "train_images": len(x_train),
               "eval_images": len(x_eval),
               "mse": {f"{r['factor']:g}": {k: r[k] for k in ("noisy", *MODELS)} for r in table}}
    result = LabResult("denoise", numbers, paths, table, protocol + f"; both models trained at noise factor {TRAIN_FACTOR}")
    result.save(out_dir)
    return result
