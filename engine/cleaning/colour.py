"""A cleaned page in colour: the paper white and neutral, every mark with the colour it had.

The network cleans the page's grey (engine.cleaning.page); its colour is
then put back from the original, never invented, in CIE Lab:

- the paper's own colour (yellowing, a warm lamp, a stain's tint) is
  measured where the cleaned page is paper, block by block, and divided out
  of every pixel's light, channel by channel in linear light (a white
  balance, as a mark's colour is the light its ink lets through);
- what is left is a mark's: kept where the cleaned page has ink (a pen's
  stroke, a stamp: MARK_CHROMA and more) and, where the network whitened
  the page, only where it is strong (a highlighter, a colour fill:
  WASH_CHROMA and more), so a coffee stain's brown is not;
- a mark's lightness is the original's against its paper's (a
  highlighter stays light, a red stroke red, not black);
- in pictures (engine.cleaning.pictures) the original's colours are kept
  whole, against the paper's.

Lightness comes from the network everywhere else: black print stays as
black as it cleans, paper as white.
"""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.cleaning.binarize import bands
from engine.cleaning.pictures import picture_mask
from engine.io import to_unit

#: Chroma (CIE Lab a*b*, of about 0-130, once the paper is white) that a stroke of ink must have to be a
#: coloured one: a phone photo's black print stays under it (up to 14 where its darkest letters are
#: tinted), a blue pen's or a red stamp's line is 35 and more.
MARK_CHROMA = 20.0

#: Chroma that a mark the network whitened must have to be kept: a highlighter's is 50 and more (a yellow
#: one's 70); a stain's tint is paper's, and goes (a coffee ring's 10-25, a book scan's water stain 30-41).
WASH_CHROMA = 45.0

#: Chroma is judged averaged over a square this many pixels wide (see _marks).
FRINGE_WINDOW = 5

#: Where the cleaned page is at least this light (of 1), it is paper: the paper's colour is measured there.
PAPER_LIGHT = 0.9

#: The paper's colour is measured in blocks this share of the page's longer side, on a copy at most
#: PAPER_SIDE pixels long.
PAPER_BLOCK = 1 / 16
PAPER_SIDE = 1024

#: A page with coloured marks over at least this share of it is a colour page (for 'auto' mode).
COLOUR_SHARE = 0.0005


def colour_page(original: np.ndarray, cleaned: np.ndarray, cells: Optional[NDArray[np.bool_]] = None,
                least: float = 0.0) -> Optional[NDArray[np.uint8]]:
    """``cleaned`` (the network's grey page, float in [0, 1] or uint8) in the colours of ``original`` (uint8
    RGB of the same height and width), as uint8 RGB; None when no more than ``least`` of the page is in
    colour (COLOUR_SHARE: a page with coloured marks, as 'auto' mode asks), the page then best written grey.
    ``cells``: the page's pictures (a bool grid over it, engine.cleaning.pictures), which keep their colours
    whole.  Worked in bands of rows: a page of any size needs a few hundred megabytes more than its pixels."""
    height, width = cleaned.shape[:2]
    paper = paper_colour(original, cleaned)
    out = np.empty((height, width, 3), np.uint8)
    coloured = 0
    margin = FRINGE_WINDOW // 2  # rows around a band that its marks' averaging reaches
    for top, bottom in bands(height, width):
        low, high = max(0, top - margin), min(height, bottom + margin)
        light = to_unit(cleaned[low:high]).astype(np.float32)
        balanced = _balanced(original[low:high], paper.rows(low, high))
        marked, strength = _marks(balanced, light)
        pictured = _pictures(cells, (height, width), low, high)
        inside = slice(top - low, bottom - low)
        coloured += int(np.count_nonzero((marked | (pictured & (strength >= MARK_CHROMA)))[inside]))
        out[top:bottom] = _composed(balanced[inside], light[inside], (marked | pictured)[inside])
    return None if coloured <= least * height * width else out


def _composed(balanced: NDArray[np.float32], light: NDArray[np.float32], kept: NDArray[np.bool_]) -> NDArray[np.uint8]:
    """uint8 RGB: the network's lightness (``light``) and no chroma, but where ``kept`` (marks and pictures)
    the white-balanced original (``balanced``, Lab) whole."""
    # Marks and pictures keep their own lightness against their paper's: the network's would make a
    # highlighter white or a red stroke black, and a colour's lightness is part of it.
    out = np.empty_like(balanced)
    out[..., 0] = np.where(kept, balanced[..., 0], 100.0 * light)
    out[..., 1:] = balanced[..., 1:] * kept.astype(np.float32)[..., None]
    rgb = cv2.cvtColor(out, cv2.COLOR_Lab2RGB)
    return np.asarray(np.clip(rgb * 255.0 + 0.5, 0, 255), np.uint8)


def _balanced(original: np.ndarray, paper: NDArray[np.float32]) -> NDArray[np.float32]:
    """``original`` (uint8 RGB) as CIE Lab once its light is divided by its ``paper``'s colour (linear RGB under
    each pixel), channel by channel in linear light: a mark printed or drawn on yellowed paper under a warm
    lamp as it would be on white paper in daylight, the paper itself white."""
    balanced = np.clip(_linear(original) / np.maximum(paper, 1e-3), 0.0, 1.0)
    return np.asarray(cv2.cvtColor(balanced, cv2.COLOR_LRGB2Lab), np.float32)


def _linear(rgb: np.ndarray) -> NDArray[np.float32]:
    """uint8 sRGB as linear light in [0, 1] (the sRGB transfer curve undone)."""
    unit = rgb.astype(np.float32) / 255.0
    return np.asarray(np.where(unit <= 0.04045, unit / 12.92, np.power((unit + 0.055) / 1.055, 2.4)), np.float32)


class PaperColour:
    """The paper's colour (linear RGB) over a page, as a coarse ``grid`` of blocks smoothly joined."""

    def __init__(self, grid: NDArray[np.float32], shape: tuple[int, int]) -> None:
        self.grid, self.shape = grid, shape

    def rows(self, top: int, bottom: int) -> NDArray[np.float32]:
        """The paper's colour under every pixel of rows [top, bottom): the grid interpolated bilinearly, as a
        resize of it to the whole page would give."""
        height, width = self.shape
        rows, columns = self.grid.shape[:2]
        xs = (np.arange(width, dtype=np.float32) + 0.5) * (columns / width) - 0.5
        ys = (np.arange(top, bottom, dtype=np.float32) + 0.5) * (rows / height) - 0.5
        map_x, map_y = np.meshgrid(xs, ys)
        return np.asarray(cv2.remap(self.grid, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
                          np.float32)


def paper_colour(original: np.ndarray, cleaned: np.ndarray) -> PaperColour:
    """The paper's colour under ``original`` (uint8 RGB): the median over each block (PAPER_BLOCK of the page)
    of where ``cleaned`` is paper, blocks without paper taken from their neighbours; found on a copy at most
    PAPER_SIDE pixels long."""
    height, width = cleaned.shape[:2]
    shrink = min(1.0, PAPER_SIDE / max(height, width))
    size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    small = _linear(np.asarray(cv2.resize(original, size, interpolation=cv2.INTER_AREA)))
    paper = to_unit(np.asarray(cv2.resize(cleaned, size, interpolation=cv2.INTER_AREA))) >= PAPER_LIGHT
    side = max(4, round(PAPER_BLOCK * max(size)))
    rows, columns = -(-size[1] // side), -(-size[0] // side)
    grid = np.full((rows, columns, 3), np.nan, np.float32)
    for row in range(rows):
        for column in range(columns):
            block = (slice(row * side, (row + 1) * side), slice(column * side, (column + 1) * side))
            chosen = paper[block]
            if chosen.sum() >= 16:
                grid[row, column] = np.median(small[block][chosen], axis=0)
    if np.isnan(grid[..., 0]).all():
        # No paper the network is sure of (a picture, a dark page): the page's lightest tenth is its paper.
        brightness = small.sum(axis=2)
        grid[:] = np.median(small[brightness >= np.percentile(brightness, 90)], axis=0)
    return PaperColour(_filled(grid), (height, width))


def _filled(grid: NDArray[np.float32]) -> NDArray[np.float32]:
    """``grid`` with its NaN cells the mean of their known neighbours, repeatedly, then smoothed."""
    grid = grid.copy()
    known = ~np.isnan(grid[..., 0])
    while not known.all():
        values = np.where(known[..., None], grid, 0.0)
        kernel = np.ones((3, 3), np.float32)
        total = cv2.filter2D(values, -1, kernel, borderType=cv2.BORDER_CONSTANT)
        count = cv2.filter2D(known.astype(np.float32), -1, kernel, borderType=cv2.BORDER_CONSTANT)
        reached = ~known & (count > 0)
        grid[reached] = total[reached] / count[reached][:, None]
        known = known | reached
    return np.asarray(cv2.GaussianBlur(grid, (3, 3), 0), np.float32)


def _marks(balanced: NDArray[np.float32], light: NDArray[np.float32]) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
    """Where the page (``balanced``: white-balanced Lab) has a coloured mark: chroma over MARK_CHROMA where
    the cleaned page (``light``) has ink, over WASH_CHROMA where it is paper; and that chroma."""
    # Averaged over a few pixels: a lens's or a JPEG's colour fringes along black strokes come in opposite
    # hues on either side and cancel; a coloured stroke's own chroma stays.
    chroma = cv2.blur(balanced[..., 1:], (FRINGE_WINDOW, FRINGE_WINDOW))
    strength = np.asarray(np.sqrt(np.square(chroma).sum(axis=2)), np.float32)
    return np.asarray(strength >= np.where(light < PAPER_LIGHT, MARK_CHROMA, WASH_CHROMA), bool), strength


def _pictures(cells: Optional[NDArray[np.bool_]], shape: tuple[int, int], top: int, bottom: int) -> NDArray[np.bool_]:
    """Rows [top, bottom) of the pictures' mask over a page of ``shape``."""
    if cells is None or not cells.any():
        return np.zeros((bottom - top, shape[1]), bool)
    return picture_mask(cells, shape, top, bottom)