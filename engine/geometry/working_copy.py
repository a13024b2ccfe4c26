"""The small copy of a page the geometry is found on, and the ink marks in it.

Every geometric decision (where the paper is, which way is up, how the lines
lie) is made on a copy whose longer side is at most WORKING_SIDE pixels:
about 140 dpi for an A4 page, enough to place a text line to a pixel, and
a few megabytes whatever the page's size.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.io import to_uint8

#: The longer side of the working copy, in pixels.
WORKING_SIDE = 1600

#: A mark is ink when it is this many grey levels (of 255) darker than the mean around it.
INK_CONTRAST = 12


@dataclass(frozen=True)
class WorkingCopy:
    """``grey``: the page reduced (uint8, 0 black); ``scale``: its pixels per page pixel (at most 1)."""

    grey: NDArray[np.uint8]
    scale: float


def working_copy(pixels: np.ndarray, side: int = WORKING_SIDE) -> WorkingCopy:
    """The page reduced by area averaging so that its longer side is at most ``side`` pixels."""
    height, width = pixels.shape
    scale = min(1.0, side / max(height, width, 1))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    return WorkingCopy(np.ascontiguousarray(to_uint8(pixels)), scale)


def ink_marks(grey: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Where ``grey`` is clearly darker than the paper around it (a mean over about 1/40 of the page).

    Strokes, rules and the edges of dark areas are marked; the inside of a
    dark area wider than the window is not.
    """
    window = 2 * (max(grey.shape) // 80) + 1
    marks = cv2.adaptiveThreshold(grey, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, max(window, 15),
                                  INK_CONTRAST)
    return marks.astype(bool)


@dataclass(frozen=True)
class Letters:
    """The marks of a page that have the size of letters: their bounding boxes (x, y, width, height) and a mask."""

    boxes: NDArray[np.int32]
    mask: NDArray[np.bool_]

    @property
    def count(self) -> int:
        return len(self.boxes)


def letters(marks: NDArray[np.bool_]) -> Letters:
    """The connected marks between 3 pixels and 1/25 of the page's longer side high, not much wider than
    long rules: what text is made of (specks, the page's edge and solid blocks are left out)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(marks.astype(np.uint8), connectivity=8)
    width, height, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    tallest = max(8, max(marks.shape) // 25)
    keep = (height >= 3) & (height <= tallest) & (area >= 6) & (width <= max(marks.shape) // 3)
    keep[0] = False  # the background
    boxes = stats[keep][:, :4].astype(np.int32)
    return Letters(boxes, keep[labels])


def covering(starts: np.ndarray, stops: np.ndarray, size: int) -> NDArray[np.int64]:
    """How many of the spans [start, stop) cover each of ``size`` positions (rows or columns)."""
    cover = np.zeros(size + 1, np.int64)
    np.add.at(cover, np.clip(starts, 0, size), 1)
    np.add.at(cover, np.clip(stops, 0, size), -1)
    counts: NDArray[np.int64] = np.cumsum(cover)[:size]
    return counts


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in ``flags``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))
