"""Classical binarisation: the paper level, Otsu's and Sauvola's thresholds.

Pages are grey, 0 = black ink, 1 = white paper, as float in [0, 1] or uint8
(0..255, read as value / 255).  Functions that look at a neighbourhood work
on horizontal bands so that a 20,000 x 20,000 page needs only a few bands of
float32 at a time.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.io import to_uint8, to_unit

# Sauvola's parameters as the DIBCO literature uses them: a 31-pixel window,
# k = 0.2 and R = 128 / 255 (half the grey range).
SAUVOLA_WINDOW = 31
SAUVOLA_K = 0.2
SAUVOLA_R = 0.5


def histogram(page: np.ndarray) -> np.ndarray:
    """Counts of the 256 grey levels of a page (float pages are rounded to 8 bits)."""
    counts = np.zeros(256, np.int64)
    for start in range(0, page.shape[0], 1024):
        band = page[start:start + 1024]
        counts += np.bincount(to_uint8(band).ravel(), minlength=256)
    return counts


def otsu_threshold(page: np.ndarray) -> float:
    """Otsu's global threshold in [0, 1]: pixels below it are ink.

    It lies half a grey level above the last ink level, so float and uint8
    pages (read as value / 255) split the same way.
    """
    counts = histogram(page).astype(np.float64)
    total = counts.sum()
    if total == 0:
        raise ValueError("cannot threshold an empty page")
    levels = np.arange(256, dtype=np.float64)
    weight_dark = np.cumsum(counts)
    mass_dark = np.cumsum(counts * levels)
    weight_light = total - weight_dark
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_dark = mass_dark / weight_dark
        mean_light = (mass_dark[-1] - mass_dark) / weight_light
        between = weight_dark * weight_light * (mean_dark - mean_light) ** 2
    between = np.nan_to_num(between, nan=-1.0)
    # A page of one grey level has no split: call everything paper.
    if between.max() <= 0:
        return -0.5 / 255
    return (float(np.argmax(between)) + 0.5) / 255.0


def sauvola_threshold(band: np.ndarray, window: int = SAUVOLA_WINDOW, k: float = SAUVOLA_K,
                      r: float = SAUVOLA_R) -> np.ndarray:
    """Sauvola's local threshold T = m (1 + k (s / R - 1)) per pixel, float32 in [0, 1].

    ``m`` and ``s`` are the mean and standard deviation over a ``window`` x
    ``window`` square (mirrored at the edges).  Pixels below T are ink.
    """
    # float32 is plenty: the variance of values in [0, 1] loses ~1e-7, which
    # moves the threshold by ~1e-4, far below one grey level (1/255).
    values = to_unit(band)
    size = (window, window)
    mean = cv2.boxFilter(values, -1, size, borderType=cv2.BORDER_REFLECT)
    square = cv2.boxFilter(cv2.multiply(values, values), -1, size, borderType=cv2.BORDER_REFLECT)
    variance = np.maximum(square - mean * mean, np.float32(0.0), out=square)
    std = np.sqrt(variance, out=variance)
    return mean * (np.float32(1.0 - k) + np.float32(k / r) * std)


def sauvola(page: np.ndarray, window: int = SAUVOLA_WINDOW, k: float = SAUVOLA_K) -> np.ndarray:
    """Sauvola's binarisation of a page: bool array, True = ink."""
    ink = np.empty(page.shape, bool)
    margin = window
    for top, bottom in bands(*page.shape):
        lo, hi = max(0, top - margin), min(page.shape[0], bottom + margin)
        threshold = sauvola_threshold(page[lo:hi], window, k)
        ink[top:bottom] = to_unit(page[top:bottom]) < threshold[top - lo:bottom - lo]
    return ink


# Pixels per band of the band-by-band passes: their float temporaries then
# take a few hundred MB whatever the page's width.
BAND_PIXELS = 2_000_000


def bands(height: int, width: int = 0) -> list[tuple[int, int]]:
    """(top, bottom) row ranges covering ``height``: 512 rows, fewer on very wide pages.

    Band heights are multiples of 128 rows, so bands start on the block grid
    of the content check.
    """
    rows = max(128, min(512, BAND_PIXELS // max(1, width) // 128 * 128))
    return [(top, min(height, top + rows)) for top in range(0, height, rows)]


class PaperLevel:
    """The brightness of the paper under every pixel, from a grey closing.

    Ink, stains narrower than ``window`` pixels and solid dark areas of up to
    that size are filled with the surrounding paper; shading wider than it
    (stains, shadows, yellowing) is followed.  Computed once on a copy
    reduced by a block maximum, read back band by band at full size.
    ``window`` defaults to max(61, longer side / 20) pixels.
    """

    def __init__(self, page: np.ndarray, window: int | None = None) -> None:
        height, width = page.shape
        self.shape = (height, width)
        self.window = int(window or max(61, max(height, width) // 20))
        self.step = max(1, self.window // 16)
        step = self.step
        rows, cols = math.ceil(height / step), math.ceil(width / step)
        small = np.empty((rows, cols), np.float32)
        per_band = max(1, BAND_PIXELS // (step * step * cols))  # rows of blocks reduced at once
        for first in range(0, rows, per_band):
            last = min(rows, first + per_band)
            block = to_unit(page[first * step:last * step])
            # Edge-padded to whole blocks (a maximum is unchanged by repeating the edge).
            padded = np.pad(block, ((0, (last - first) * step - block.shape[0]), (0, cols * step - width)),
                            mode="edge")
            small[first:last] = padded.reshape(last - first, step, cols, step).max(axis=(1, 3))
        self.brightest = small  # the brightest pixel of each step x step block
        size = 2 * (self.window // (2 * step)) + 1
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
        closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REPLICATE)
        self.small = cv2.medianBlur(closed, 5) if min(closed.shape) >= 5 else closed
        # Never darker than 1/255: ratios to the paper stay finite.
        np.maximum(self.small, np.float32(1 / 255), out=self.small)

    def band(self, top: int, bottom: int) -> NDArray[np.float32]:
        """The paper level of rows [top, bottom), float32 (bottom - top, width)."""
        ys = _grid(np.arange(top, bottom), self.step, self.small.shape[0])
        rows = self.small[ys[0]] * (1 - ys[2])[:, None] + self.small[ys[1]] * ys[2][:, None]
        # Along the rows, OpenCV's linear resize to the padded width puts the
        # block centres where _grid does ((x + 0.5) / step - 0.5, edges held).
        cols = rows.shape[1]
        wide: NDArray[np.float32] = cv2.resize(rows, (cols * self.step, rows.shape[0]), interpolation=cv2.INTER_LINEAR)
        return wide[:, :self.shape[1]]


def _grid(positions: np.ndarray, step: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neighbouring cells and weights for linear interpolation of block centres."""
    coordinate = np.clip((positions + 0.5) / step - 0.5, 0, size - 1).astype(np.float32)
    low = np.floor(coordinate).astype(np.intp)
    high = np.minimum(low + 1, size - 1)
    return low, high, coordinate - low
