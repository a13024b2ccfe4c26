"""How far a convolutional model looks: its receptive field and size step.

Tiled inference is exact only if every tile carries a margin at least half
the receptive field wide, and if tiles start on multiples of the model's
total stride (so stride-2 and upsampling grids line up with the whole page).
Both numbers are read off the Keras graph, not guessed.
"""
from __future__ import annotations

import keras
from keras import layers

from engine.models.geometry import Geometry


def _kernel_and_stride(layer: keras.layers.Layer) -> tuple[int, int, float]:
    """(kernel size, stride, upsampling factor) of one layer along one axis."""
    if isinstance(layer, layers.Conv2DTranspose):
        # Only the non-overlapping kind (kernel == stride): each output pixel
        # then comes from exactly one input pixel, like nearest upsampling.
        if layer.kernel_size[0] != layer.strides[0]:
            raise ValueError(f"layer {layer.name}: overlapping transposed convolutions are not supported")
        return 1, 1, float(layer.strides[0])
    if isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D)):
        if layer.dilation_rate[0] != 1:
            raise ValueError(f"layer {layer.name}: dilated convolutions are not supported")
        return layer.kernel_size[0], layer.strides[0], 1.0
    if isinstance(layer, (layers.MaxPooling2D, layers.AveragePooling2D)):
        return layer.pool_size[0], layer.strides[0], 1.0
    if isinstance(layer, layers.UpSampling2D):
        if layer.interpolation != "nearest":
            raise ValueError(f"layer {layer.name}: only nearest upsampling is supported")
        return 1, 1, float(layer.size[0])
    if isinstance(layer, (layers.InputLayer, layers.Activation, layers.ReLU, layers.Add,
                          layers.Concatenate, layers.Multiply, layers.BatchNormalization,
                          layers.Dropout, layers.LeakyReLU, layers.Subtract, layers.Maximum,
                          layers.Minimum, layers.Average, layers.LayerNormalization)):
        return 1, 1, 1.0
    raise ValueError(f"layer {layer.name} ({type(layer).__name__}): not a per-pixel or convolutional layer")


def _inbound(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    tensors = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
    return [t._keras_history[0] for t in tensors]


def geometry(model: keras.Model) -> Geometry:
    """Receptive field and size multiple of a fully convolutional model.

    Walks the layers in graph order tracking, per layer, the receptive field
    ``rf`` and the spacing ``jump`` of its output pixels in input pixels.
    """
    rf: dict[str, float] = {}
    jump: dict[str, float] = {}
    largest_jump = 1.0
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            rf[layer.name], jump[layer.name] = 1.0, 1.0
            continue
        parents = _inbound(layer)
        r_in = max(rf[p.name] for p in parents)
        j_in = max(jump[p.name] for p in parents)
        kernel, stride, up = _kernel_and_stride(layer)
        rf[layer.name] = r_in + (kernel - 1) * j_in
        jump[layer.name] = j_in * stride / up
        largest_jump = max(largest_jump, jump[layer.name])
    field = int(round(max(rf.values())))
    return Geometry(receptive_field=field, size_multiple=int(round(largest_jump)))
