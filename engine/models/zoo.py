"""The model zoo: the Keras builders of the architectures in engine.models.registry.

The first seven are the models of the write-ups the product grew from (see
SEEDS.md), layer for layer, so that their parameter counts match exactly.
``docunet`` is DocClean's own document denoiser: a small U-Net that does its
heavy work at 1/2, 1/4 and 1/8 resolution so a full page is cleaned fast.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.tf_runtime import import_tensorflow_quietly

import_tensorflow_quietly()

import keras  # noqa: E402  (after TensorFlow is up, quietly)
from keras import layers  # noqa: E402

from engine.models.registry import get_architecture  # noqa: E402


def _conv(filters: int, activation: str = "relu", **kwargs: Any) -> layers.Conv2D:
    return layers.Conv2D(filters, 3, activation=activation, padding="same", **kwargs)


def _image_input(size: int | None) -> keras.KerasTensor:
    return keras.Input(shape=(size, size, 1))


def dense_autoencoder(bottleneck: int = 32) -> keras.Model:
    """Dense(bottleneck, relu) -> Dense(784, sigmoid) on flattened 28x28 images."""
    inputs = keras.Input(shape=(784,))
    code = layers.Dense(bottleneck, activation="relu", name="code")(inputs)
    outputs = layers.Dense(784, activation="sigmoid")(code)
    return keras.Model(inputs, outputs, name=f"dense_{bottleneck}")


def mnist_denoiser() -> keras.Model:
    """Deep conv denoiser of section 2: 16-8-8-16-1, no pooling."""
    inputs = _image_input(None)
    x = _conv(16)(inputs)
    x = _conv(8)(x)
    x = _conv(8, name="code")(x)
    x = _conv(16)(x)
    outputs = _conv(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="mnist_denoiser")


def notmnist_autoencoder() -> keras.Model:
    """Conv AE of section 3 (314,625 parameters), 7x7x128 code."""
    inputs = _image_input(28)
    x = _conv(32)(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = _conv(64)(x)
    x = layers.MaxPooling2D(2)(x)
    x = _conv(128, name="code")(x)
    x = _conv(128)(x)
    x = layers.UpSampling2D(2)(x)
    x = _conv(64)(x)
    x = layers.UpSampling2D(2)(x)
    outputs = _conv(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="notmnist_autoencoder")


def clustering_autoencoder() -> keras.Model:
    """Conv AE of section 4 with a 7x7x2 (98-value) code for k-means."""
    inputs = _image_input(28)
    x = _conv(16)(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = _conv(2)(x)
    x = layers.MaxPooling2D(2, name="code")(x)
    x = _conv(2)(x)
    x = layers.UpSampling2D(2)(x)
    x = _conv(16)(x)
    x = layers.UpSampling2D(2)(x)
    outputs = _conv(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="clustering_autoencoder")


def feature_autoencoder() -> keras.Model:
    """Conv AE of section 5 whose 4x4x8 code feeds a classifier."""
    inputs = _image_input(28)
    x = _conv(16)(inputs)
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = _conv(8)(x)
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = _conv(8)(x)
    x = layers.MaxPooling2D(2, padding="same", name="code")(x)
    x = _conv(8)(x)
    x = layers.UpSampling2D(2)(x)
    x = _conv(8)(x)
    x = layers.UpSampling2D(2)(x)
    # 'valid' here takes 16x16 back to 14x14 so the last upsampling gives 28.
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.UpSampling2D(2)(x)
    outputs = _conv(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="feature_autoencoder")


def noisyoffice_basic() -> keras.Model:
    """Basic document AE of section 6: 8-8-1 at full resolution."""
    inputs = _image_input(None)
    x = _conv(8)(inputs)
    x = _conv(8, name="code")(x)
    outputs = _conv(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="noisyoffice_basic")


def noisyoffice_deep() -> keras.Model:
    """Deep document AE of section 6: 32-16-8-8-16-32-1, 12,785 parameters."""
    inputs = _image_input(None)
    x = inputs
    for filters in (32, 16, 8):
        x = _conv(filters)(x)
    x = _conv(8, name="code")(x)
    for filters in (16, 32):
        x = _conv(filters)(x)
    outputs = _conv(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="noisyoffice_deep")


def docunet(width: int = 8, depth: int = 3, stem: int = 1, head: int = 0) -> keras.Model:
    """DocClean's document denoiser: a U-Net with few channels at full size.

    ``depth`` stride-2 steps take the page down to 1/2**depth resolution,
    where 3x3 convs see stains and folds far wider than a letter; the
    decoder comes back up with skip connections so strokes stay sharp.
    ``width`` channels run at the top level, doubling at each level down.
    With ``stem=2`` the top level itself is at half resolution: a 2x2
    stride-2 conv folds each 2x2 block of pixels into channels and a 2x2
    transposed conv unfolds them at the end, which costs a quarter of the
    full-resolution work for the same receptive field in channels.
    The output is the page corrected by a predicted gain and offset,
    clipped to [0, 1]: paper can reach pure white exactly, which a sigmoid
    never does, and learning starts from the identity.
    With ``head=1`` (an ink model) the output is instead the probability
    that a pixel is paper (a sigmoid): 1 - output is the ink probability,
    thresholded at 0.5 for black and white (engine.cleaning.page).
    """
    def conv(filters: int, **kwargs: Any) -> layers.Conv2D:
        # He initialisation keeps the signal alive through the ReLU stack.
        return _conv(filters, kernel_initializer="he_normal", **kwargs)

    widths = [width * 2 ** level for level in range(depth + 1)]
    inputs = _image_input(None)
    if stem == 2:
        top = layers.Conv2D(widths[0], 2, strides=2, activation="relu", kernel_initializer="he_normal")(inputs)
        skips = [conv(widths[0])(top)]
    else:
        skips = [conv(widths[0])(inputs)]
    for level in range(1, depth + 1):
        x = conv(widths[level], strides=2)(skips[-1])
        skips.append(conv(widths[level], name="code" if level == depth else None)(x))
    x = conv(widths[depth])(skips[-1])
    for level in range(depth - 1, -1, -1):
        x = layers.UpSampling2D(2)(x)
        x = conv(widths[level])(layers.Concatenate()([x, skips[level]]))
    if head == 1:
        # Most of a page is paper: starting the bias there (p = 0.88) keeps
        # the first steps from drowning pages in ink.
        probability = layers.Conv2D(1, 3, padding="same", activation="sigmoid",
                                    bias_initializer=keras.initializers.Constant(2.0), name="paper")
        if stem == 2:
            x = layers.UpSampling2D(2)(x)
        return keras.Model(inputs, probability(x), name="docunet")
    # Scanned noise is close to an affine change of the paper: a gain
    # (stains, shadows darken the page multiplicatively) and an offset.  The
    # network predicts both per pixel, starting from gain 1 and offset 0, so
    # anti-aliased glyph edges are rescaled rather than redrawn.
    if stem == 2:
        shape = dict(kernel_size=2, strides=2, kernel_initializer="zeros")
        gain = layers.Conv2DTranspose(1, bias_initializer="ones", **shape)(x)
        offset = layers.Conv2DTranspose(1, **shape)(x)
    else:
        shape = dict(kernel_size=3, padding="same", kernel_initializer="zeros")
        gain = layers.Conv2D(1, bias_initializer="ones", **shape)(x)
        offset = layers.Conv2D(1, **shape)(x)
    corrected = layers.Add()([layers.Multiply()([inputs, gain]), offset])
    outputs = layers.ReLU(max_value=1.0, name="clip")(corrected)
    return keras.Model(inputs, outputs, name="docunet")


BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "dense": dense_autoencoder,
    "mnist_denoiser": mnist_denoiser,
    "notmnist_conv": notmnist_autoencoder,
    "cluster_conv": clustering_autoencoder,
    "feature_conv": feature_autoencoder,
    "noisyoffice_basic": noisyoffice_basic,
    "noisyoffice_deep": noisyoffice_deep,
    "docunet": docunet,
}


def build_model(name: str, **options: int) -> keras.Model:
    """A fresh, untrained model of architecture ``name``."""
    arch = get_architecture(name)
    return BUILDERS[name](**{**arch.defaults, **options})


def parameter_count(name: str, **options: int) -> int:
    """Number of trainable and frozen weights of ``name`` built with ``options``."""
    return int(build_model(name, **options).count_params())
