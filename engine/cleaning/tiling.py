"""Running a per-pixel model over a page of any size, in exact tiles.

Each tile carries a margin of context at least half the model's receptive
field wide, and tiles start on multiples of its size step, so the stitched
page equals the whole-page result.  Pages go one row of tiles at a time:
memory follows the width of the page, not its area.  The model is any
``predict(tiles) -> tiles`` callable (engine.cleaning.backends): tiling knows
nothing of the runtime behind it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from numpy.typing import NDArray

from engine.io import to_uint8, to_unit
from engine.models.geometry import Geometry
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.vocabulary import Stage

# float32 (N, H, W) grey tiles in [0, 1] -> the cleaned tiles, same shape.
Predict = Callable[[NDArray[np.float32]], NDArray[np.float32]]


def _mirror(indices: NDArray[np.intp], size: int) -> NDArray[np.intp]:
    """Map any integer positions into [0, size) by mirroring at the edges
    (like numpy's 'reflect' padding, repeated for margins wider than the page)."""
    if size == 1:
        return np.zeros_like(indices)
    period = 2 * (size - 1)
    folded = np.mod(indices, period)
    mirrored: NDArray[np.intp] = np.where(folded < size, folded, period - folded)
    return mirrored


def _split(length: int, count: int, multiple: int) -> int:
    """The core size that covers ``length`` in ``count`` tiles, rounded up to ``multiple``."""
    return -(-math.ceil(length / count) // multiple) * multiple


@dataclass(frozen=True)
class TilePlan:
    """Where the tiles of one page go: a grid of ``rows`` x ``cols`` cores of
    ``core`` = (height, width) pixels, each read with ``margin`` around it."""

    rows: int
    cols: int
    core: tuple[int, int]
    margin: int

    @property
    def tile_shape(self) -> tuple[int, int]:
        return self.core[0] + 2 * self.margin, self.core[1] + 2 * self.margin


def plan_tiles(height: int, width: int, geo: Geometry, tile_pixels: int = 1_500_000) -> TilePlan:
    """The tiles for a ``height`` x ``width`` page: no tile (core and margins) above
    ``tile_pixels`` pixels, and the fewest pixels run through the model in all.

    Bigger tiles waste less on margins and run faster per pixel, but a
    model's activations grow with the tile (some 300 bytes per pixel for
    docunet), so the backend sets the bound.  When even the smallest tile is
    above it, the smallest tiles are used.
    """
    m, q = geo.margin, geo.size_multiple
    most_rows, most_cols = -(-height // q), -(-width // q)
    best = TilePlan(most_rows, most_cols, (q, q), m)
    cost = math.inf
    for rows in range(1, most_rows + 1):
        tile_h = _split(height, rows, q) + 2 * m
        if tile_h * (q + 2 * m) > tile_pixels:
            continue  # too tall even one size step wide
        # The fewest columns that keep the tiles within bounds.
        cols = max(1, math.ceil(width / max(q, (tile_pixels // tile_h - 2 * m) // q * q)))
        while (_split(width, cols, q) + 2 * m) * tile_h > tile_pixels:
            cols += 1
        core_w = _split(width, cols, q)
        total = rows * cols * tile_h * (core_w + 2 * m)
        if total < cost:
            best, cost = TilePlan(rows, cols, (tile_h - 2 * m, core_w), m), total
    return best


def clean_tiled(pixels: np.ndarray, predict: Predict, geo: Geometry, tile_pixels: int = 1_500_000,
                progress: Optional[ProgressCallback] = None,
                cancel: Optional[CancelToken] = None) -> np.ndarray:
    """Run ``predict`` over a grey page (float in [0, 1] or uint8, shape (H, W)) tile by tile.

    Returns the same shape and dtype.  Reports progress per row of tiles
    ('tiles' stage) and checks ``cancel`` between rows.  Besides the page
    and its output, memory holds one tile at a time.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim != 2:
        raise ValueError(f"expected a grey page of shape (height, width), got {pixels.shape}")
    height, width = pixels.shape
    plan = plan_tiles(height, width, geo, tile_pixels)
    out = np.empty_like(pixels)
    m = plan.margin
    tile_h, tile_w = plan.tile_shape
    for r in range(plan.rows):
        check(cancel)
        y0 = r * plan.core[0]
        y1 = min(height, y0 + plan.core[0])
        rows = _mirror(np.arange(y0 - m, y0 + tile_h - m), height)
        # One tile per call: the plan already makes tiles as big as the backend
        # takes, and batching several bought no speed on the CPU.
        for x0 in range(0, width, plan.core[1]):
            x1 = min(width, x0 + plan.core[1])
            tile = to_unit(pixels[np.ix_(rows, _mirror(np.arange(x0 - m, x0 + tile_w - m), width))])
            core = predict(tile[None])[0, m:m + y1 - y0, m:m + x1 - x0]
            out[y0:y1, x0:x1] = to_uint8(core) if out.dtype == np.uint8 else core
        report(progress, Stage.TILES, r + 1, plan.rows)
    return out


def clean_whole(pixels: np.ndarray, predict: Predict, geo: Geometry) -> np.ndarray:
    """The page cleaned in one piece, with the same mirrored border as the
    tiles: the reference a tiled result must equal.  Float in and out."""
    height, width = pixels.shape
    q, m = geo.size_multiple, geo.margin
    padded_h = -(-height // q) * q + 2 * m
    padded_w = -(-width // q) * q + 2 * m
    rows = _mirror(np.arange(-m, padded_h - m), height)
    cols = _mirror(np.arange(-m, padded_w - m), width)
    page = to_unit(pixels)[np.ix_(rows, cols)]
    return predict(page[None])[0, m:m + height, m:m + width]
