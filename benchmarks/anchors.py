"""The classical anchor methods the benchmark table compares DocClean against.

Each anchor maps a noisy grey page (float32, shape (height, width), values in
[0, 1]) to a cleaned page of the same shape and range. They work on 8-bit
copies because that is what OpenCV's implementations expect, so their output
is quantised to 1/255 like any PNG a user would get.
"""
from __future__ import annotations

from typing import Callable, Dict

import cv2
import numpy as np

from engine.io import to_uint8

MEDIAN_KERNEL = 21  # pixels; wider than a stroke, so the blur sees only paper
WHITE_CUTOFF = 0.9  # after division, anything brighter is treated as paper
NL_MEANS_H = 15  # OpenCV filter strength, in 8-bit grey levels

Anchor = Callable[[np.ndarray], np.ndarray]


def identity(page: np.ndarray) -> np.ndarray:
    """The noisy page itself: the score any cleaner must beat."""
    return page


def otsu(page: np.ndarray) -> np.ndarray:
    """Global Otsu threshold: every pixel becomes 0.0 (ink) or 1.0 (paper)."""
    _, binary = cv2.threshold(to_uint8(page), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return binary.astype(np.float32) / np.float32(255.0)


def median_division(page: np.ndarray) -> np.ndarray:
    """Divide the page by its 21-pixel median background; near-white becomes white.

    Text strokes are thinner than the kernel, so the median estimates the
    paper (stains, folds) under them; dividing flattens that background to 1.
    """
    background = cv2.medianBlur(to_uint8(page), MEDIAN_KERNEL).astype(np.float32)
    np.divide(background, 255.0, out=background)
    # A black background pixel would divide by zero; one grey level is the floor.
    np.maximum(background, 1.0 / 255.0, out=background)
    cleaned = np.divide(page, background, dtype=np.float32)
    np.clip(cleaned, 0.0, 1.0, out=cleaned)
    cleaned[cleaned > WHITE_CUTOFF] = 1.0
    return cleaned


def nl_means(page: np.ndarray) -> np.ndarray:
    """OpenCV non-local means with h = 15 (7-px patches, 21-px search window)."""
    denoised = cv2.fastNlMeansDenoising(to_uint8(page), None, h=NL_MEANS_H)
    return denoised.astype(np.float32) / np.float32(255.0)


CLASSICAL_ANCHORS: Dict[str, Anchor] = {
    "noisy page (identity)": identity,
    "Otsu threshold": otsu,
    "median-background division (21 px)": median_division,
    "OpenCV NL-means (h = 15)": nl_means,
}

# Kaggle "Denoising Dirty Documents": RMSE needed for a gold medal. Quoted,
# not measured.
KAGGLE_GOLD_RMSE = 0.018
