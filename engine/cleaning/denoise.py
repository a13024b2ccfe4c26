"""Cleaning pages with a model: tiled inference and the batch over files.

``Denoiser`` runs a fully convolutional model over a page of any size in
overlapping tiles.  Each tile carries a margin of context at least half the
model's receptive field wide, and tiles start on multiples of its stride, so
the stitched page equals the whole-page result.  Pages are processed one band
of tiles at a time: memory follows the width of the page, not its area.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

import keras
import numpy as np
import tensorflow as tf

from engine.io import ImageReadError, ImageWriteError, OUTPUT_FORMATS, OUTPUT_MODES, PageRef, find_images, list_pages, output_path, read_page, to_uint8, to_unit, write_page
from engine.cleaning.binarize import otsu_threshold
from engine.cleaning.ink import InkReport, check_ink
from engine.models.modelfile import LoadedModel, ModelInfo, load_model
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.models.receptive_field import Geometry, geometry
from engine.tf_runtime import cpu_has_fast_bfloat16

# Largest tile core (pixels per side).  Bigger tiles waste less on margins;
# this size keeps one batch of activations around a few hundred MB.
MAX_CORE = 1024
# Pixels run through the model per call.  Activations take about 100 bytes
# per pixel, so this bounds memory on very wide pages; batching several
# tiles per call bought no speed on the CPU.
BATCH_PIXELS = 1_500_000


def _mirror(indices: np.ndarray, size: int) -> np.ndarray:
    """Map any integer positions into [0, size) by mirroring at the edges
    (like numpy's 'reflect' padding, repeated for margins wider than the page)."""
    if size == 1:
        return np.zeros_like(indices)
    period = 2 * (size - 1)
    folded = np.mod(indices, period)
    return np.where(folded < size, folded, period - folded)


def _split(length: int, multiple: int) -> tuple[int, int]:
    """(number of tiles, core size) covering ``length`` with the least waste."""
    count = math.ceil(length / MAX_CORE)
    core = -(-math.ceil(length / count) // multiple) * multiple
    return count, core


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


def plan_tiles(height: int, width: int, geo: Geometry) -> TilePlan:
    rows, core_h = _split(height, geo.size_multiple)
    cols, core_w = _split(width, geo.size_multiple)
    return TilePlan(rows, cols, (core_h, core_w), geo.margin)


PRECISIONS = ("auto", "float32", "bfloat16")


def _in_bfloat16(model: keras.Model) -> keras.Model:
    """A copy of ``model`` that computes in bfloat16 (weights stay float32).

    bfloat16 keeps 8 significant bits, as fine as the 8-bit pages it
    cleans: on the held-out pages the RMSE moves by less than 1e-4.  Every
    layer runs in it, since casts between layers would cost more than the
    few layers left in float32 would gain.
    """
    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] != "InputLayer":
            layer["config"]["dtype"] = keras.DTypePolicy("mixed_bfloat16")
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


class Denoiser:
    """Cleans grey pages with a fully convolutional model, tile by tile.

    ``precision`` 'auto' computes in bfloat16 on CPUs that do it natively
    (2.4x faster here) and in float32 elsewhere.
    """

    def __init__(self, model: keras.Model, info: Optional[ModelInfo] = None, path: Optional[Path] = None,
                 precision: str = "auto") -> None:
        shape = model.input_shape
        if len(shape) != 4 or shape[1] is not None or shape[2] is not None or shape[3] != 1:
            raise ValueError(
                f"{path or model.name}: this model takes fixed {shape[1:]} inputs; "
                "cleaning pages needs a fully convolutional model (e.g. docunet)")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        if precision == "auto":
            precision = "bfloat16" if cpu_has_fast_bfloat16() else "float32"
        self.precision = precision
        if precision == "bfloat16":
            model = _in_bfloat16(model)
        self.model = model
        self.info = info
        self.path = path
        self.geometry = geometry(model)
        # One graph for every tile shape: no retracing from page to page.
        self._run = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec([None, None, None, 1], tf.float32)],
            reduce_retracing=True,
        )

    @classmethod
    def from_file(cls, path: Optional[str | Path] = None, precision: str = "auto") -> "Denoiser":
        """A Denoiser for a model file (the bundled default when None)."""
        loaded: LoadedModel = load_model(path)
        return cls(loaded.model, loaded.info, loaded.path, precision)

    @property
    def name(self) -> str:
        return self.path.name if self.path else self.model.name

    def _predict(self, tiles: np.ndarray) -> np.ndarray:
        return self._run(tf.constant(tiles[..., None])).numpy()[..., 0].astype(np.float32, copy=False)

    def denoise(self, pixels: np.ndarray, progress: Optional[ProgressCallback] = None,
                cancel: Optional[CancelToken] = None) -> np.ndarray:
        """Clean a grey page: float in [0, 1] or uint8, shape (H, W).

        Returns the same shape and dtype.  Reports progress per row of
        tiles ('tiles' stage) and checks ``cancel`` between rows.  Besides
        the page and its output, memory holds only a few tiles at a time.
        """
        pixels = np.asarray(pixels)
        if pixels.ndim != 2:
            raise ValueError(f"expected a grey page of shape (height, width), got {pixels.shape}")
        height, width = pixels.shape
        plan = plan_tiles(height, width, self.geometry)
        out = np.empty_like(pixels)
        m = plan.margin
        tile_h, tile_w = plan.tile_shape
        per_call = max(1, BATCH_PIXELS // (tile_h * tile_w))
        col_starts = [c * plan.core[1] for c in range(plan.cols)]
        for r in range(plan.rows):
            check(cancel)
            y0 = r * plan.core[0]
            y1 = min(height, y0 + plan.core[0])
            rows = _mirror(np.arange(y0 - m, y0 + tile_h - m), height)
            for first in range(0, plan.cols, per_call):
                starts = col_starts[first:first + per_call]
                tiles = np.stack([to_unit(pixels[np.ix_(rows, _mirror(np.arange(x0 - m, x0 + tile_w - m), width))])
                                  for x0 in starts])
                for x0, tile in zip(starts, self._predict(tiles)):
                    x1 = min(width, x0 + plan.core[1])
                    core = tile[m:m + y1 - y0, m:m + x1 - x0]
                    out[y0:y1, x0:x1] = to_uint8(core) if out.dtype == np.uint8 else core
            report(progress, "tiles", r + 1, plan.rows)
        return out

    def denoise_whole(self, pixels: np.ndarray) -> np.ndarray:
        """The page cleaned in one piece, with the same mirrored border as the
        tiles: the reference a tiled result must equal.  Float in and out."""
        height, width = pixels.shape
        q, m = self.geometry.size_multiple, self.geometry.margin
        padded_h = -(-height // q) * q + 2 * m
        padded_w = -(-width // q) * q + 2 * m
        rows = _mirror(np.arange(-m, padded_h - m), height)
        cols = _mirror(np.arange(-m, padded_w - m), width)
        page = pixels.astype(np.float32)[np.ix_(rows, cols)]
        return self._predict(page[None])[0, m:m + height, m:m + width]


MODES = OUTPUT_MODES


@dataclass
class CleanedPage:
    """A page as the model cleaned it, with what the content check found.

    ``pixels`` has the input's shape and dtype; in 'bw' mode it holds only
    black (0) and white (1.0 or 255).
    """

    pixels: np.ndarray
    ink: InkReport
    mode: str = "grey"

    @property
    def bilevel(self) -> bool:
        return self.mode == "bw"


def clean_page(denoiser: "Denoiser", pixels: np.ndarray, mode: str = "grey", keep_ink: bool = True,
               progress: Optional[ProgressCallback] = None,
               cancel: Optional[CancelToken] = None) -> CleanedPage:
    """Clean one grey page with ``denoiser``, keep its ink, and render it in ``mode``.

    With ``keep_ink`` (the default) ink the model would have erased is put
    back from the page (engine.cleaning.ink): the output is never emptier than the
    text it was given.  'bw' binarises the result at Otsu's threshold.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    cleaned = denoiser.denoise(pixels, progress=progress, cancel=cancel)
    report_ = check_ink(pixels, cleaned, restore=keep_ink)
    if mode == "bw":
        scale = 255 if cleaned.dtype == np.uint8 else 1.0
        cleaned = np.where(cleaned < otsu_threshold(cleaned) * scale, 0, scale).astype(cleaned.dtype)
    return CleanedPage(cleaned, report_, mode)


@dataclass
class PageResult:
    """The outcome of cleaning one page of a batch.

    ``warning`` is set when the page was cleaned but looks unlike what the
    model knows (see engine.cleaning.ink.InkReport.warning).
    """

    ref: PageRef
    output: Optional[Path]
    error: Optional[str]
    seconds: float
    warning: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _page_refs(inputs: Iterable[Path]) -> Iterator[PageRef | tuple[Path, str]]:
    for path in inputs:
        try:
            yield from list_pages(path)
        except ImageReadError as error:
            yield (Path(path), str(error))


def iter_denoise(inputs: Iterable[str | Path], out_dir: str | Path, denoiser: Denoiser,
                 fmt: str = "png", overwrite: bool = False,
                 cancel: Optional[CancelToken] = None,
                 progress: Optional[ProgressCallback] = None,
                 mode: str = "grey", keep_ink: bool = True) -> Iterator[PageResult]:
    """Clean every page of ``inputs`` (files or folders) into ``out_dir``.

    Each page goes through clean_page with ``mode`` and ``keep_ink``.
    Yields one PageResult per page, in order.  A page that cannot be read or
    written yields its error (naming the file and the reason) and the batch
    goes on.  Outputs are named ``<stem>_clean.<ext>``; an input file is never
    overwritten, nor, unless ``overwrite``, any existing file.  ``cancel``
    stops between pages or bands of tiles, leaving no partial file.
    """
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(OUTPUT_FORMATS)}, not {fmt!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    files = find_images([Path(p) for p in inputs])
    protected = {p.resolve() for p in files}
    out_dir = Path(out_dir)
    items = list(_page_refs(files))
    for done, item in enumerate(items):
        check(cancel)
        start = time.perf_counter()
        label = item[0].name if isinstance(item, tuple) else item.label
        report(progress, "pages", done, len(items), f"cleaning {label}")
        if isinstance(item, tuple):
            path, error = item
            report(progress, "pages", done + 1, len(items), f"failed {label}")
            yield PageResult(PageRef(path, 0, 1), None, error, 0.0)
            continue
        try:
            page = read_page(item, dtype=np.uint8)
            dpi = page.dpi
            cleaned = clean_page(denoiser, page.pixels, mode, keep_ink, cancel=cancel)
            del page  # a huge page's input need not live on while its output is encoded
            target = output_path(item, out_dir, fmt, overwrite=overwrite, protected=protected)
            protected.add(target.resolve())
            write_page(cleaned.pixels, target, dpi=dpi, bilevel=cleaned.bilevel)
            result = PageResult(item, target, None, time.perf_counter() - start, warning=cleaned.ink.warning())
        except (ImageReadError, ImageWriteError) as error:
            result = PageResult(item, None, str(error), time.perf_counter() - start)
        report(progress, "pages", done + 1, len(items), f"cleaned {item.label}")
        yield result
