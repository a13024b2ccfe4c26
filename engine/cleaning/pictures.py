"""Pictures on a page: found by a small network, kept with their tones.

A denoiser trained to whiten paper and keep ink turns a photograph into
white wash and black speckle.  Pictures (photographs, half-tones, drawings
with tone) are found first, on the page seen whole at WORK_SIDE pixels, by a
small fully convolutional network that labels each CELL x CELL square of it
as picture or not (resources/models/docclean-pictures.npz, trained by
engine.training.pictures).  In a picture the output is the input with only
its paper level corrected: tones intact.  In black and white a picture is
dithered, never thresholded.

The network runs in NumPy (a few hundred milliseconds a page): no deep
learning runtime is loaded for it.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from engine.cleaning.binarize import PaperLevel, bands
from engine.errors import ModelFileError
from engine.io import to_uint8, to_unit
from engine.models.bundled import MODELS_FOLDER

PICTURE_MODEL = MODELS_FOLDER / "docclean-pictures.npz"
# A picture finder of the user's own (docclean train-pictures) replaces the bundled one.
PICTURE_MODEL_ENV = "DOCCLEAN_PICTURE_MODEL"
# The page is looked at whole, its longer side at most this many pixels (never enlarged).
WORK_SIDE = 1024
# The network labels squares of CELL x CELL working pixels (its four 2x poolings).
CELL = 16
# A square is picture when the network is at least this sure, in a zone that somewhere holds a
# 3 x 3 block of squares it is CORE_THRESHOLD sure of (hysteresis: a photograph's light edges
# are kept, a stain or a dark heading that looks a little like one is not).
THRESHOLD = 0.5
CORE_THRESHOLD = 0.7
# Smaller zones are not kept (squares): a picture is at least ~3 x 3 squares, some 1.5 cm across
# on an A4 page; smaller dark spots are a stain, a seal or a bold letter, which the model handles.
MIN_CELLS = 9


Array = NDArray[np.float32]


@dataclass(frozen=True)
class PictureNet:
    """The weights of the picture network: 3x3 convolutions (ReLU), each of the first
    ``pooled`` followed by a 2x2 max pooling, then a 1x1 convolution to a probability."""

    kernels: tuple[Array, ...]  # (3, 3, in, out) each; the last (1, 1, in, 1)
    biases: tuple[Array, ...]
    dilations: tuple[int, ...]
    pooled: int

    @classmethod
    def load(cls, path: Path = PICTURE_MODEL) -> "PictureNet":
        """The network saved in ``path`` (an .npz of kernel_i, bias_i and a JSON 'layout')."""
        try:
            with np.load(path, allow_pickle=False) as saved:
                layout = json.loads(str(saved["layout"]))
                count = len(layout["dilations"])
                kernels = tuple(np.asarray(saved[f"kernel_{i}"], np.float32) for i in range(count))
                biases = tuple(np.asarray(saved[f"bias_{i}"], np.float32) for i in range(count))
        except (OSError, KeyError, ValueError):
            raise ModelFileError("the picture finder cannot be read: it is missing or damaged (reinstall DocClean, "
                                 "or make it again with docclean train-pictures)", path=path) from None
        return cls(kernels, biases, tuple(int(d) for d in layout["dilations"]), int(layout["pooled"]))

    def save(self, path: Path) -> None:
        """Write the network to ``path`` (.npz)."""
        arrays = {f"kernel_{i}": k for i, k in enumerate(self.kernels)}
        arrays.update({f"bias_{i}": b for i, b in enumerate(self.biases)})
        layout = json.dumps({"dilations": list(self.dilations), "pooled": self.pooled})
        np.savez_compressed(path, layout=np.array(layout), **arrays)  # type: ignore[arg-type]

    def __call__(self, page: Array) -> Array:
        """Picture probability of each CELL square of ``page`` (float32 (H, W) in [0, 1])."""
        x = (page[..., None] * np.float32(2.0) - np.float32(1.0)).astype(np.float32)
        last = len(self.kernels) - 1
        for i, (kernel, bias, dilation) in enumerate(zip(self.kernels, self.biases, self.dilations)):
            x = _conv(x, kernel, bias, dilation)
            if i == last:
                break
            np.maximum(x, np.float32(0.0), out=x)
            if i < self.pooled:
                x = _pool(x)
        probability: Array = (1.0 / (1.0 + np.exp(-x[..., 0]))).astype(np.float32)
        return probability


def _conv(x: Array, kernel: Array, bias: Array, dilation: int) -> Array:
    """A 'same' convolution of (H, W, C) by (k, k, C, F) with ``dilation``, plus bias."""
    size = kernel.shape[0]
    if size == 1:
        out: Array = x @ kernel[0, 0] + bias
        return out
    if x.shape[2] == 1 and dilation == 1:
        # One input channel (the page itself): OpenCV's correlation is 15x faster than 9 thin products.
        planes = [cv2.filter2D(x[..., 0], -1, kernel[:, :, 0, f], borderType=cv2.BORDER_CONSTANT) + bias[f]
                  for f in range(kernel.shape[3])]
        stacked: Array = np.stack(planes, axis=-1)
        return stacked
    reach = dilation * (size // 2)
    padded = np.pad(x, ((reach, reach), (reach, reach), (0, 0)))
    height, width = x.shape[:2]
    out = np.broadcast_to(bias, (height, width, bias.shape[0])).copy()
    for dy in range(size):
        for dx in range(size):
            shifted = padded[dy * dilation:dy * dilation + height, dx * dilation:dx * dilation + width]
            out += shifted @ kernel[dy, dx]
    return out


def _pool(x: Array) -> Array:
    """2x2 max pooling (an odd last row or column dropped, as Keras' 'valid' pooling does)."""
    height, width = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    pooled: Array = x[:height, :width].reshape(height // 2, 2, width // 2, 2, -1).max(axis=(1, 3))
    return pooled


def picture_net() -> PictureNet:
    """The picture network: $DOCCLEAN_PICTURE_MODEL if set, else the bundled one; read once."""
    return _read_net(Path(os.environ.get(PICTURE_MODEL_ENV) or PICTURE_MODEL))


@lru_cache(maxsize=2)
def _read_net(path: Path) -> PictureNet:
    return PictureNet.load(path)


# Pages above this many pixels are reduced for the finder without a full-size float copy.
HUGE_PAGE = 50_000_000


def _working_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """(height, width) of a page of ``shape`` seen whole: its longer side at most WORK_SIDE, never enlarged."""
    height, width = shape
    scale = min(1.0, WORK_SIDE / max(height, width))
    return (height, width) if scale == 1.0 else (max(1, round(height * scale)), max(1, round(width * scale)))


def _cell_pixels(shape: tuple[int, int]) -> float:
    """Page pixels per CELL square of a page of ``shape`` (as keep_pictures and picture_mask count them)."""
    return CELL / min(1.0, WORK_SIDE / max(shape))


def working_page(page: np.ndarray) -> Array:
    """``page`` (grey, uint8 or float) as float32 with its longer side at most WORK_SIDE."""
    height, width = _working_shape(page.shape)
    if (height, width) == page.shape:
        return np.asarray(to_unit(page), np.float32)
    if page.dtype == np.uint8 and page.size > HUGE_PAGE:
        # Reduced in 8 bits, within half a grey level of the float result: a float copy of a
        # 20,000-pixel square page would take 1.6 GB.
        return np.asarray(to_unit(cv2.resize(page, (width, height), interpolation=cv2.INTER_AREA)), np.float32)
    return np.asarray(cv2.resize(to_unit(page), (width, height), interpolation=cv2.INTER_AREA), np.float32)


def picture_cells(page: np.ndarray, net: Optional[PictureNet] = None) -> NDArray[np.bool_]:
    """Which CELL squares of the working page are pictures (bool grid), cleaned of specks.

    Squares over THRESHOLD are joined across one-square gaps and their holes
    filled (a picture's white highlights are part of it); a zone is kept when
    it holds MIN_CELLS squares and somewhere a 3 x 3 block of CORE_THRESHOLD
    ones (a gutter's shadow, a rule, a bold line are thinner), and grown by a square.
    """
    seen = working_page(page)
    if min(seen.shape) < CELL:  # a strip or a speck: no room for a picture, nor for the network's poolings
        return np.zeros((seen.shape[0] // CELL, seen.shape[1] // CELL), bool)
    probability = (net or picture_net())(seen)
    square = np.ones((3, 3), np.uint8)
    sure = (probability >= THRESHOLD).astype(np.uint8)
    core = np.asarray(cv2.morphologyEx((probability >= CORE_THRESHOLD).astype(np.uint8), cv2.MORPH_OPEN, square))
    if not core.any():
        return core.astype(bool)
    cells = np.asarray(cv2.morphologyEx(sure, cv2.MORPH_CLOSE, square))
    outside = np.pad(cells, 1)
    cv2.floodFill(outside, None, (0, 0), 1)
    cells = np.maximum(cells, (outside[1:-1, 1:-1] == 0).astype(np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cells, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= MIN_CELLS
    keep &= np.bincount(labels[core > 0], minlength=count) > 0
    keep[0] = False
    # A square further out: the network is unsure at a picture's light edges, while the paper or
    # print around a picture loses nothing by being kept (its paper is made white all the same).
    grown = cv2.dilate(keep[labels].astype(np.uint8), square)
    kept: NDArray[np.bool_] = grown.astype(bool)
    return kept


def _band_of(grid: Array, step: float, top: int, bottom: int, width: int, left: int = 0,
             right: Optional[int] = None) -> Array:
    """Rows [top, bottom), columns [left, right) of ``grid`` (one value per ``step`` pixels of a
    page ``width`` wide) at full size, bilinear."""
    def axis(positions: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, Array]:
        at = np.clip((positions + 0.5) / step - 0.5, 0, size - 1).astype(np.float32)
        low = np.floor(at).astype(np.intp)
        return low, np.minimum(low + 1, size - 1), at - low

    y0, y1, fy = axis(np.arange(top, bottom), grid.shape[0])
    x0, x1, fx = axis(np.arange(left, width if right is None else right), grid.shape[1])
    rows = grid[y0] * (1 - fy)[:, None] + grid[y1] * fy[:, None]
    band: Array = rows[:, x0] * (1 - fx) + rows[:, x1] * fx
    return band


def _paper_grid(level: PaperLevel, cells: NDArray[np.bool_], cell: float) -> tuple[Array, int]:
    """The paper level grid of a page with its pictures bridged by the paper around them, and its step."""
    rows, cols = level.small.shape
    centres_y = ((np.arange(rows) + 0.5) * level.step / cell).astype(np.intp).clip(0, cells.shape[0] - 1)
    centres_x = ((np.arange(cols) + 0.5) * level.step / cell).astype(np.intp).clip(0, cells.shape[1] - 1)
    inside = cells[centres_y][:, centres_x]
    # A zone's squares may stop short of the picture's edge: the paper is read a square further out.
    reach = 2 * int(np.ceil(cell / level.step)) + 1
    inside = cv2.dilate(inside.astype(np.uint8), np.ones((reach, reach), np.uint8)).astype(bool)
    grid = level.small.copy()
    if inside.all():
        grid[:] = np.percentile(level.brightest, 95)
    elif inside.any():
        # Inpainting fills each picture from the paper level at its edge, smoothly.
        scaled = np.clip(grid * 255.0 + 0.5, 0, 255).astype(np.uint8)
        grid = cv2.inpaint(scaled, inside.astype(np.uint8), 5, cv2.INPAINT_TELEA).astype(np.float32) / 255.0
    return np.maximum(grid, np.float32(1 / 255)), level.step


def keep_pictures(page: np.ndarray, cleaned: np.ndarray, cells: NDArray[np.bool_],
                  paper_level: PaperLevel | None = None) -> None:
    """Put ``page``'s pictures into ``cleaned`` (in place): tones kept, paper made white.

    ``cells`` comes from picture_cells(page).  In a picture the output is the
    input divided by the paper level around the picture; the edge of a zone
    blends over about one square.  ``paper_level`` is ``page``'s PaperLevel when the
    caller already has it.  Works band by band.
    """
    if not cells.any():
        return
    height, width = page.shape
    cell = _cell_pixels(page.shape)
    weight_grid = cells.astype(np.float32)
    paper_grid, paper_step = _paper_grid(paper_level or PaperLevel(page), cells, cell)
    rows_with_pictures: NDArray[np.bool_] = np.asarray(cells.any(axis=1))
    for top, bottom in bands(height, width):
        # The squares whose blend reaches these rows: one square above and below.
        first, last = max(0, int(top / cell) - 1), int(bottom / cell) + 2
        if not rows_with_pictures[first:last].any():
            continue
        # Only the columns the pictures of these rows reach, a square either side.
        reached = np.flatnonzero(cells[first:last].any(axis=0))
        left, right = max(0, int((reached[0] - 1) * cell)), min(width, int((reached[-1] + 2) * cell))
        weight = _band_of(weight_grid, cell, top, bottom, width, left, right)
        paper = _band_of(paper_grid, paper_step, top, bottom, width, left, right)
        tones = np.clip(to_unit(page[top:bottom, left:right]) / paper, 0.0, 1.0)
        blended = to_unit(cleaned[top:bottom, left:right]) * (1 - weight) + tones * weight
        cleaned[top:bottom, left:right] = to_uint8(blended) if cleaned.dtype == np.uint8 else blended


def picture_mask(cells: NDArray[np.bool_], shape: tuple[int, int], top: int, bottom: int) -> NDArray[np.bool_]:
    """Rows [top, bottom) of the page: True where a pixel is mostly picture."""
    cell = _cell_pixels(shape)
    width = shape[1]
    mask: NDArray[np.bool_] = _band_of(cells.astype(np.float32), cell, top, bottom, width) >= 0.5
    return mask


def dither(tones: Array) -> Array:
    """Floyd-Steinberg dithering of a grey picture to black (0) and white (1)."""
    image = Image.fromarray(np.clip(tones * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    dithered: Array = np.asarray(image.convert("1"), dtype=np.float32)
    return dithered


# ---------------------------------------------------------------- the zones as boxes, and a user's edits of them

# A box on the page in page pixels: (top, left, bottom, right), bottom and right excluded.
Box = tuple[int, int, int, int]
# What a user marks a region as.
PICTURE = "picture"
TEXT = "text"


def _grid_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """The shape of picture_cells' grid for a page of ``shape``, without running the network.

    The working page is shrunk as working_page does, then halved (rounding down) once per
    pooling: CELL = 2 ** 4, and halving down four times is dividing down by 16.
    """
    height, width = _working_shape(shape)
    return height // CELL, width // CELL


def picture_boxes(cells: NDArray[np.bool_], shape: tuple[int, int]) -> list[Box]:
    """The picture zones of ``cells`` (picture_cells of a page of ``shape``) as boxes in page pixels.

    One box per connected zone (squares touching at a corner are one zone, as picture_cells
    counts them), its bounding box, clipped to the page: what a viewer outlines.
    """
    if not cells.any():
        return []
    height, width = shape
    cell = _cell_pixels(shape)
    count, _, stats, _ = cv2.connectedComponentsWithStats(cells.astype(np.uint8), connectivity=8)
    boxes: list[Box] = []
    for label in range(1, count):
        x, y, w, h = (int(v) for v in stats[label, :4])
        # The last square of a row or column stands for the page's edge too (the grid rounds down).
        bottom = height if y + h >= cells.shape[0] else min(height, round((y + h) * cell))
        right = width if x + w >= cells.shape[1] else min(width, round((x + w) * cell))
        boxes.append((round(y * cell), round(x * cell), bottom, right))
    return sorted(boxes)


def _clipped(box: Box, shape: tuple[int, int]) -> Optional[Box]:
    """``box`` within a page of ``shape``; None when nothing of it is on the page."""
    top, left, bottom, right = (int(v) for v in box)
    top, left = max(0, top), max(0, left)
    bottom, right = min(shape[0], bottom), min(shape[1], right)
    return (top, left, bottom, right) if bottom > top and right > left else None


@dataclass(frozen=True)
class ZoneEdits:
    """A user's corrections to one page's picture zones, boxes in page pixels (see Box).

    ``pictures`` are kept as pictures, ``text`` is cleaned as text; where both
    cover a square, text wins (a caption marked inside a photograph is read).
    Frozen and hashable: a preview cache and a batch's page mapping use it as a value.
    """

    pictures: tuple[Box, ...] = ()
    text: tuple[Box, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.pictures and not self.text

    def marked(self, kind: str, box: Box) -> "ZoneEdits":
        """These edits and ``box`` marked as ``kind`` (PICTURE or TEXT)."""
        clean = tuple(int(v) for v in box)
        if len(clean) != 4:
            raise ValueError(f"a box is (top, left, bottom, right), not {box!r}")
        top, left, bottom, right = clean
        if kind == PICTURE:
            return ZoneEdits(self.pictures + ((top, left, bottom, right),), self.text)
        if kind == TEXT:
            return ZoneEdits(self.pictures, self.text + ((top, left, bottom, right),))
        raise ValueError(f"a region is marked as {PICTURE!r} or {TEXT!r}, not {kind!r}")

    def moved(self, scale: float = 1.0, top: int = 0, left: int = 0) -> "ZoneEdits":
        """These edits on a part of the page: boxes shifted by (-top, -left), then scaled by ``scale``
        (a preview's reduced page, a region cut out of it)."""
        def move(box: Box) -> Box:
            return (round((box[0] - top) * scale), round((box[1] - left) * scale),
                    round((box[2] - top) * scale), round((box[3] - left) * scale))
        return ZoneEdits(tuple(map(move, self.pictures)), tuple(map(move, self.text)))

    def digest(self) -> str:
        """12 hex digits that change with the boxes, not with the order they were marked in."""
        text = json.dumps({"pictures": sorted(self.pictures), "text": sorted(self.text)}, separators=(",", ":"))
        return hashlib.sha256(text.encode("ascii")).hexdigest()[:12]

    def settings_text(self) -> str:
        """What an output's settings record gains for these edits: " zones=<digest>", or "" for none.

        An output made with other edits (or none) records other settings, so a
        re-run cleans the page again instead of skipping it.
        """
        return "" if self.empty else f" zones={self.digest()}"


def _coverage(box: Box, shape: tuple[int, int], grid: tuple[int, int]) -> Array:
    """The share of each square of a ``grid`` over a page of ``shape`` that ``box`` covers (0 to 1)."""
    cell = _cell_pixels(shape)

    def axis(low: int, high: int, count: int, size: int) -> Array:
        starts = np.arange(count, dtype=np.float32) * np.float32(cell)
        ends = np.minimum(starts + np.float32(cell), np.float32(size))
        # The last square also stands for the page's edge beyond the grid (as _band_of stretches it).
        if count:
            ends[-1] = size
        overlap = np.clip(np.minimum(ends, high) - np.maximum(starts, low), 0, None)
        share: Array = (overlap / np.maximum(ends - starts, np.float32(1))).astype(np.float32)
        return share

    top, left, bottom, right = box
    return np.outer(axis(top, bottom, grid[0], shape[0]), axis(left, right, grid[1], shape[1]))


def apply_zone_edits(cells: Optional[NDArray[np.bool_]], shape: tuple[int, int],
                     edits: ZoneEdits) -> NDArray[np.bool_]:
    """``cells`` (picture_cells of a page of ``shape``; None: no picture found) with a user's edits.

    A square a picture box covers at least half of becomes picture; a square a
    text box covers at all becomes text, so no picture tone is left inside a
    region the user said is text.  Text wins where both apply.  A copy; the
    grid given is not changed.
    """
    grid = _grid_shape(shape) if cells is None else (int(cells.shape[0]), int(cells.shape[1]))
    result = np.zeros(grid, bool) if cells is None else cells.astype(bool, copy=True)
    for box in edits.pictures:
        inside = _clipped(box, shape)
        if inside is not None:
            result |= _coverage(inside, shape, grid) >= 0.5
    for box in edits.text:
        inside = _clipped(box, shape)
        if inside is not None:
            result &= ~(_coverage(inside, shape, grid) > 0)
    return result


def find_picture_boxes(page: np.ndarray, edits: Optional[ZoneEdits] = None,
                       parts: Sequence[tuple[int, int]] = ()) -> list[Box]:
    """The boxes a viewer outlines on ``page``: its picture zones as cleaning will keep them
    (found, then ``edits`` applied), in page pixels.  A few hundred milliseconds: run it off the UI thread.
    ``parts``: the columns (left, right) of a spread's pages side by side, each found on its own as the
    batch finds them."""
    if parts:
        return [(top, left + shift, bottom, right + shift)
                for shift, stop in parts
                for top, left, bottom, right in find_picture_boxes(page[:, shift:stop], edits and edits.moved(left=shift))]
    cells = picture_cells(page)
    if edits is not None and not edits.empty:
        cells = apply_zone_edits(cells, page.shape, edits)
    return picture_boxes(cells, page.shape)
