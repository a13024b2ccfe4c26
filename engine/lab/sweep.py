"""Bottleneck sweep (SEEDS.md section 1): how much of a digit survives a code of h numbers.

One dense autoencoder, Dense(h, relu) -> Dense(784, sigmoid), per h; adam, MSE, 10 epochs,
input = target.  Scored by reconstruction MSE on held-out digits; the compression ratio is
784 / h.  h = 36 is trained the same way here (the variant write-up's BCE / early stopping
run is not repeated), so the one table compares like with like.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.data.catalogue import MNIST
from engine.lab import data, figures
from engine.lab.result import Json, LabResult, Row, add_row
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.vocabulary import Stage

if TYPE_CHECKING:
    import keras

BOTTLENECKS = (1, 2, 4, 8, 16, 32, 36)
EPOCHS = 10
BATCH_SIZE = 32  # Keras's default: the write-up names none, and 8,000 digits need the steps
N_SHOWN = 10  # digits in the grid figure
N_CODES_SHOWN = 6  # digits whose 36 codes are drawn as 6x6 pictures
PIXELS = 28 * 28


def train_dense(h: int, x_train: np.ndarray, x_eval: np.ndarray | None, *, epochs: int, seed: int,
                progress: ProgressCallback | None, cancel: CancelToken | None) -> keras.Model:
    """A dense autoencoder with an h-number code, trained to copy its input."""
    import keras

    from engine.models import zoo

    keras.utils.set_random_seed(seed)
    model = zoo.build_model("dense", bottleneck=h)
    model.compile(optimizer="adam", loss="mse")
    flat_train = x_train.reshape(len(x_train), -1)
    validation = None if x_eval is None else (x_eval.reshape(len(x_eval), -1),) * 2
    data.fit(model, flat_train, flat_train, epochs=epochs, batch_size=BATCH_SIZE,
             validation=validation, what=f"h={h}", progress=progress, cancel=cancel)
    return model


def encode(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The code layer's output for images ``x`` (n, 28, 28)."""
    import keras

    encoder = keras.Model(model.input, model.get_layer("code").output)
    return data.apply(encoder, x.reshape(len(x), -1))


def reconstruct(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The model's output for images ``x``, as (n, 28, 28)."""
    return data.apply(model, x.reshape(len(x), -1)).reshape(x.shape)


def run(data_folder: Path | None, out_dir: Path, *, seed: int = 0, quick: bool = False,
        progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> LabResult:
    """Train one dense AE per h in BOTTLENECKS; write the grid, the 6x6 codes and MSE vs h."""
    out_dir = Path(out_dir)
    x_train, _, x_eval, _, protocol = data.load(MNIST, data_folder, seed=seed, quick=quick, progress=progress)
    # Quick runs: two short epochs (one leaves the small codes untrained and MSE not yet falling
    # with h) and no per-epoch validation, which costs more than the training.
    epochs = 2 if quick else EPOCHS
    shown = x_eval[:N_SHOWN]
    rows = [shown]
    table: list[Row] = []
    for done, h in enumerate(BOTTLENECKS):
        check(cancel)
        report(progress, Stage.MODEL, done, len(BOTTLENECKS), f"h={h}")
        model = train_dense(h, x_train, None if quick else x_eval, epochs=epochs, seed=seed, progress=progress, cancel=cancel)
        mse = data.mse(reconstruct(model, x_eval), x_eval)
        add_row(table, {"h": h, "compression": round(PIXELS / h, 2), "mse": mse}, progress)
        rows.append(reconstruct(model, shown))
        if h == 36:
            few = x_eval[:N_CODES_SHOWN]
            codes_figure = figures.codes_as_squares(encode(model, few), few, reconstruct(model, few),
                                                    out_dir / "sweep_codes_h36.png",
                                                    title="h = 36: input, its 36 codes, output")
    report(progress, Stage.MODEL, len(BOTTLENECKS), len(BOTTLENECKS))
    grid = figures.image_rows(rows, ["original"] + [f"h = {h}" for h in BOTTLENECKS], out_dir / "sweep_grid.png",
                              title="Dense autoencoder: reconstructions per bottleneck size")
    curve = figures.line_plot([r["h"] for r in table], {"held-out MSE": [r["mse"] for r in table]},
                              out_dir / "sweep_mse.png", xlabel="bottleneck size h", ylabel="reconstruction MSE",
                              title="Reconstruction error vs bottleneck", log_x=True, log_y=True)
    numbers: Json = {"epochs": epochs, "train_images": len(x_train), "eval_images": len(x_eval),
               "mse": {str(r["h"]): r["mse"] for r in table},
               "compression": {str(r["h"]): r["compression"] for r in table}}
    result = LabResult("sweep", numbers, [grid, codes_figure, curve], table, protocol)
    result.save(out_dir)
    return result
