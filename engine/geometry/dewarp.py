"""Flattening a curled book page: its text lines, bent near the spine, made straight again.

A text-line model: on a small copy of the upright, straight page the letters
are joined into lines, and a cubic is fitted through the middles of each
line's letters of the typical height (an ascender's middle is not the line's).
Each line is straightened to where most of it lies; down each column of the
page one quadratic through every line's shift there gives the shift of every
row, so a line's own wobble is averaged with its neighbours'.  The shift is
applied to the page in strips, so a huge page needs no full-size maps.  Only
the vertical bend is undone: the squeeze of the letters near the spine stays.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.geometry.working_copy import Letters, ink_marks, letters, working_copy

#: At least this many lines are fitted before a page is flattened: fewer do not tell its surface.
MIN_LINES = 5

#: A line spans at least this share of the page's width.
MIN_LINE_WIDTH = 0.15

#: A bend smaller than this (pixels of the working copy, about 140 dpi on A4: half a millimetre) is left
#: alone: a straight page's lines, fitted through their letters' middles, wander by about a pixel.
MIN_BEND = 3.0

#: A shift larger than this share of the page's height is no bend of a page's lines: the page is left as it is.
MAX_SHIFT = 0.05

# The shift field's columns across the page, and the rows of full-size output remapped at once.
_COLUMNS = 64
_STRIP = 1024


@dataclass(frozen=True)
class Bend:
    """The vertical shift (pixels of the page) that straightens each point of a page: ``field`` on a coarse
    grid over the page (rows, columns), ``lines`` fitted, ``largest`` shift (pixels of the page)."""

    field: NDArray[np.float32]
    lines: int
    largest: float


def find_bend(pixels: np.ndarray) -> Optional[Bend]:
    """How the text lines of ``pixels`` (an upright, straight page, 2-D grey) bend; None when they do not
    clearly bend, or too few lines tell it."""
    work = working_copy(pixels)
    lines = _lines(letters(ink_marks(work.grey)), work.grey.shape)
    if len(lines) < MIN_LINES:
        return None
    height, width = work.grey.shape
    levels = np.array([line.level for line in lines])
    rows = np.clip(np.arange(height, dtype=np.float64), levels.min(), levels.max())
    field = np.empty((height, _COLUMNS), np.float32)
    for index, x in enumerate(np.linspace(0, width - 1, _COLUMNS)):
        # Down each column, one quadratic through every line's shift: a page's curl is smooth from line to
        # line, a line's own wobble is not.
        shifts = np.array([line.shift(x) for line in lines])
        field[:, index] = np.polynomial.Polynomial.fit(levels, shifts, 2)(rows)
    field = np.asarray(cv2.GaussianBlur(field, (0, 0), sigmaX=2.0, sigmaY=0.1), np.float32)
    largest = float(np.abs(field).max())
    if largest < MIN_BEND or largest > MAX_SHIFT * height:
        return None
    return Bend(field / work.scale, len(lines), largest / work.scale)


@dataclass(frozen=True)
class _Line:
    """A text line: a cubic through its letters' middles over [low, high] (x), and the height it is straightened
    to (where most of it lies: a book's lines bend only near the spine)."""

    fit: np.polynomial.Polynomial
    low: float
    high: float
    level: float

    def shift(self, x: float) -> float:
        """How far the line lies below its level at ``x`` (held constant beyond its ends)."""
        return float(self.fit(min(max(x, self.low), self.high))) - self.level


def _lines(found: Letters, shape: tuple[int, ...]) -> list[_Line]:
    """The page's clear text lines: at least MIN_LINE_WIDTH of its width, whose letters a cubic follows."""
    height, width = shape[:2]
    if found.count < 2 * MIN_LINES:
        return []
    size = int(np.median(found.boxes[:, 3]))
    centres_x = found.boxes[:, 0] + found.boxes[:, 2] / 2
    centres_y = found.boxes[:, 1] + found.boxes[:, 3] / 2
    # Letters joined along their line, not across lines: a wide, flat closing.
    mask = found.mask.astype(np.uint8)
    joined = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (3 * size, 1)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    line_of = labels[np.clip(centres_y.astype(int), 0, height - 1), np.clip(centres_x.astype(int), 0, width - 1)]
    lines = []
    for label in range(1, count):
        w, h = stats[label, 2:4]
        # Letters of the typical height only (a, e, n, o...): their middles lie on the line's middle, where an
        # ascender's or a descender's would not.
        chosen = (line_of == label) & (np.abs(found.boxes[:, 3] - size) <= 0.25 * size)
        if w < MIN_LINE_WIDTH * width or h > 3 * size or chosen.sum() < 8:
            continue
        fit = np.polynomial.Polynomial.fit(centres_x[chosen], centres_y[chosen], 3)
        near = chosen & (np.abs(fit(centres_x) - centres_y) <= size / 4)  # once more without the strays
        if near.sum() < 0.7 * chosen.sum() or near.sum() < 8:
            continue  # letters the cubic does not follow make no line to trust
        fit = np.polynomial.Polynomial.fit(centres_x[near], centres_y[near], 3)
        chosen = near
        low, high = float(centres_x[chosen].min()), float(centres_x[chosen].max())
        lines.append(_Line(fit, low, high, float(np.median(fit(np.linspace(low, high, 24))))))
    return lines


def flattened(pages: list[np.ndarray], fill: float, views: Sequence[np.ndarray] = ()
              ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each of ``pages`` (2-D grey) with its lines' bend undone where it clearly has one, else as it is; and
    ``views``, other pixels of the same pages (the app's colour view, uint8), flattened alike."""
    bends = [find_bend(page) for page in pages]
    done = [flatten(page, bend, fill) if bend is not None else page for page, bend in zip(pages, bends)]
    return done, [flatten(view, bend, 255) if bend is not None else view for view, bend in zip(views, bends)]


def flatten(pixels: np.ndarray, bend: Bend, fill: float) -> np.ndarray:
    """``pixels`` with ``bend`` undone (same shape and dtype); ``fill`` where the shift reaches beyond the page."""
    height, width = pixels.shape[:2]
    rows, columns = bend.field.shape
    out = np.empty_like(pixels)
    xs = np.arange(width, dtype=np.float32)
    for top in range(0, height, _STRIP):
        bottom = min(height, top + _STRIP)
        ys = np.arange(top, bottom, dtype=np.float32)
        # The coarse field at each output pixel of the strip, then the input row each pixel comes from.
        grid_x, grid_y = np.meshgrid(xs * ((columns - 1) / max(1, width - 1)), ys * ((rows - 1) / max(1, height - 1)))
        shift = cv2.remap(bend.field, grid_x, grid_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        map_x, map_y = np.meshgrid(xs, ys)
        out[top:bottom] = cv2.remap(pixels, map_x, map_y + shift, cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT,
                                    borderValue=(fill,) * 4)
    if out.dtype != np.uint8:
        np.clip(out, 0.0, 1.0, out=out)
    return out
