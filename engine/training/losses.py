"""Training losses beyond Keras's own, named as engine.training.config.LOSSES names them."""
from __future__ import annotations

from typing import Callable

from engine.tf_runtime import import_tensorflow_quietly

import_tensorflow_quietly()

import keras  # noqa: E402  (after TensorFlow is up, quietly)
from keras import ops  # noqa: E402

# Keeps the Dice term defined on crops without any ink.
_SMOOTH = 1.0


@keras.saving.register_keras_serializable(package="docclean")  # type: ignore[untyped-decorator]
def bce_dice(paper_true: keras.KerasTensor, paper_pred: keras.KerasTensor) -> keras.KerasTensor:
    """Binary cross-entropy plus Dice loss of the ink, for models that give the paper probability.

    Targets are binarised at 0.5 (ground truths of some collections are
    anti-aliased).  Cross-entropy alone is ruled by the paper, which covers
    90 % of a page; Dice, computed per crop on ink = 1 - paper, weighs a thin
    stroke as much as the paper around it, which is what F-measure rewards.
    """
    ink_true = ops.cast(paper_true < 0.5, paper_pred.dtype)
    ink_pred = 1.0 - paper_pred
    cross_entropy = ops.mean(keras.losses.binary_crossentropy(ink_true, ink_pred))
    axes = tuple(range(1, len(paper_pred.shape)))
    overlap = ops.sum(ink_true * ink_pred, axis=axes)
    total = ops.sum(ink_true, axis=axes) + ops.sum(ink_pred, axis=axes)
    dice = 1.0 - (2.0 * overlap + _SMOOTH) / (total + _SMOOTH)
    return cross_entropy + ops.mean(dice)


def keras_loss(name: str) -> str | Callable[[keras.KerasTensor, keras.KerasTensor], keras.KerasTensor]:
    """What ``model.compile`` takes for a loss of engine.training.config.LOSSES."""
    return bce_dice if name == "bce_dice" else {"mse": "mse", "bce": "binary_crossentropy"}[name]
