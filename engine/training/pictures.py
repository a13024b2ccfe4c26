"""Training the picture finder (engine.cleaning.pictures) from real pages and drawn pictures.

    docclean train-pictures --data-folder ../shared/data -o docclean-pictures.npz

Backgrounds are the pages of ``DATA/dibco`` (but the DIBCO 2016-2018 years,
which the product is reported on) and the training side of
``DATA/noisyoffice``'s by-document split; drawn pages and pictures come from
engine.data.pictures.  The bundled model: 10,000 crops, 14 epochs, about 20
minutes on 2 CPU cores.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np

from engine.training.bridge import KeepBest, TrainingBridge  # starts TensorFlow quietly

import keras  # noqa: E402  (after the bridge has started TensorFlow quietly)

from engine.cleaning.pictures import PictureNet  # noqa: E402
from engine.data.pairs import find_pairs, split_by_document  # noqa: E402
from engine.data.pictures import PictureSampler  # noqa: E402
from engine.errors import MissingDataError  # noqa: E402
from engine.io import read_page, to_unit  # noqa: E402
from engine.progress import CancelToken, Cancelled, ProgressCallback  # noqa: E402

HELD_OUT_YEARS = ("DIBCO2016_", "DIBCO2017_", "DIBCO2018_")
WIDTHS = (16, 16, 32, 32)  # the pooled 3x3 convolutions; then two dilated ones of the last width
DILATIONS = (2, 4)


def background_pages(data_folder: str | os.PathLike[str]) -> list[np.ndarray]:
    """The real pages without pictures that training crops are cut from (grey, float32)."""
    folder = Path(data_folder)
    paths = []
    for name in ("dibco", "noisyoffice"):
        if not (folder / name).is_dir():
            raise MissingDataError(f"{folder / name}: not found; the picture finder trains on its pages")
    paths += [p.noisy for p in find_pairs(folder / "dibco").pairs if not p.name.startswith(HELD_OUT_YEARS)]
    train, _ = split_by_document(find_pairs(folder / "noisyoffice").pairs, 0.2, seed=0)
    paths += [p.noisy for p in train]
    return [to_unit(read_page(path).pixels) for path in paths]


def build_picture_model() -> keras.Model:
    """The finder: 3x3 convolutions with ReLU, four 2x poolings, two dilated convolutions, a sigmoid."""
    x = inputs = keras.Input((None, None, 1))
    x = keras.layers.Rescaling(2.0, offset=-1.0)(x)  # as PictureNet does
    for width in WIDTHS:
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
    for dilation in DILATIONS:
        x = keras.layers.Conv2D(WIDTHS[-1], 3, padding="same", dilation_rate=dilation, activation="relu")(x)
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def to_picture_net(model: keras.Model) -> PictureNet:
    """The trained Keras model as the NumPy network the product runs."""
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    pooled = sum(isinstance(layer, keras.layers.MaxPooling2D) for layer in model.layers)
    return PictureNet(tuple(np.asarray(layer.kernel, np.float32) for layer in convolutions),
                      tuple(np.asarray(layer.bias, np.float32) for layer in convolutions),
                      tuple(int(layer.dilation_rate[0]) for layer in convolutions), pooled)


def train_picture_finder(data_folder: str | os.PathLike[str], output: str | os.PathLike[str], *,
                         samples: int = 10_000, epochs: int = 14, seed: int = 0,
                         progress: Optional[ProgressCallback] = None,
                         cancel: Optional[CancelToken] = None) -> dict[str, float]:
    """Train the picture finder and write it to ``output`` (.npz); returns the best epoch's figures.

    ``samples`` crops are drawn once (plus 256 for validation, from another
    seed); the epoch with the lowest validation loss is kept.
    """
    pages = background_pages(data_folder)
    keras.utils.set_random_seed(seed)
    crops, labels = PictureSampler(pages, seed).batch(samples)
    check_crops, check_labels = PictureSampler(pages, seed + 1).batch(256)
    model = build_picture_model()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy", metrics=["binary_accuracy"])
    batch_size = 32
    bridge = TrainingBridge(epochs=epochs, batches=-(-samples // batch_size), progress=progress, cancel=cancel,
                            what="picture finder", keep_best=KeepBest("val_loss"))
    model.fit(crops, labels, batch_size=batch_size, epochs=epochs, validation_data=(check_crops, check_labels),
              callbacks=[bridge], verbose=0)
    if bridge.cancelled:
        raise Cancelled()
    bridge.restore_best()
    figures = {key: float(value) for key, value in model.evaluate(check_crops, check_labels, verbose=0,
                                                                  return_dict=True).items()}
    to_picture_net(model).save(Path(output))
    return figures
