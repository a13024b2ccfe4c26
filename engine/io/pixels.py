"""The one place grey values change representation: uint8 0..255 <-> float32 in [0, 1], grey -> RGB.

0 is black ink and 1 (or 255) white paper everywhere in DocClean.
"""
from __future__ import annotations

import numpy as np


def to_unit(pixels: np.ndarray) -> np.ndarray:
    """A new float32 copy of grey values in [0, 1]; uint8 (0..255) is divided by 255."""
    values = np.asarray(pixels).astype(np.float32)
    if pixels.dtype == np.uint8:
        np.divide(values, np.float32(255.0), out=values)
    return values


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Convert grey values in [0, 1] to uint8 0..255 (rounded, clipped).

    uint8 input is returned unchanged.  Raises ValueError on NaN values,
    which would otherwise turn into arbitrary grey levels.
    """
    pixels = np.asarray(pixels)
    if pixels.dtype == np.uint8:
        return pixels
    values = pixels.astype(np.float32) * np.float32(255.0)
    if np.isnan(values).any():
        raise ValueError("pixels contain NaN")
    np.rint(values, out=values)
    np.clip(values, 0.0, 255.0, out=values)
    return values.astype(np.uint8)


def grey_to_rgb(pixels: np.ndarray) -> np.ndarray:
    """A grey page (H, W) as RGB (H, W, 3), its three channels equal; an RGB page as it is."""
    return pixels if pixels.ndim == 3 else np.repeat(pixels[..., None], 3, axis=2)
