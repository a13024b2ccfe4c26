"""Seconds per megapixel for a cleaning method, file I/O included.

A user experiences read + clean + write, so that is what is timed: each page
is read from disk with the engine's reader and the result written as a PNG
with the engine's (atomic, fsynced) writer.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import numpy as np

from engine.io import read_page, write_page

PageCleaner = Callable[[np.ndarray], np.ndarray]


def _round_trip(source: Path, clean_fn: PageCleaner, destination: Path) -> int:
    """Read ``source``, clean it, write ``destination``; return its pixel count."""
    pixels = read_page(source).pixels
    write_page(clean_fn(pixels), destination)
    return pixels.size


A4_AT_300_DPI = (3508, 2480)  # (height, width) in pixels
SMOKE_PAGE = (516, 720)  # a page a smoke run times in a moment: two rows of NoisyOffice pages


def make_a4_pages(sources: List[Path], folder: Path, count: int = 2,
                  size: Tuple[int, int] = A4_AT_300_DPI) -> List[Path]:
    """Write ``count`` A4 pages at 300 dpi made of real noisy pages, as PNG.

    The issue's speed target is for such a page; the NoisyOffice pages are
    only a quarter megapixel, where per-page overheads would dominate.  Each
    A4 page is a mosaic of the source pages (held-out ones, so nothing a
    model trained on), cut to size.  ``size`` (height, width) makes smaller
    mosaics for a smoke run.
    """
    height, width = size
    pages = [read_page(path).pixels for path in sources]
    written = []
    for number in range(count):
        rows, row, filled = [], [], 0
        index = number
        while sum(r.shape[0] for r in rows) < height:
            page = pages[index % len(pages)][:258]  # all pages are at least 258 high
            index += 1
            row.append(page)
            filled += page.shape[1]
            if filled >= width:
                rows.append(np.concatenate(row, axis=1)[:, :width])
                row, filled = [], 0
        mosaic = np.concatenate(rows, axis=0)[:height]
        written.append(write_page(mosaic, folder / f"a4-{number}.png", dpi=(300, 300)))
    return written


def seconds_per_megapixel(
    pages: List[Path],
    clean_fn: PageCleaner,
    repeats: int = 3,
    bar: Optional[Callable[[int], None]] = None,
) -> float:
    """Wall seconds per million pixels to read, clean and write each page.

    Args:
        pages: noisy page files; the first one is also cleaned once untimed
            beforehand, so that lazy initialisation (graph tracing, thread
            pools, caches) is not charged to the method.
        clean_fn: float32 grey page in [0, 1] -> cleaned page in [0, 1].
        repeats: timed passes over all pages (>= 1); the fastest counts,
            because other processes on a shared machine only ever add time.
        bar: optional callable told ``1`` after each timed page (tqdm.update).

    Returns:
        Seconds per megapixel (> 0) of the fastest pass: its total time over
        its total pixels.
    """
    if not pages:
        raise ValueError("seconds_per_megapixel needs at least one page, got none")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    with tempfile.TemporaryDirectory(prefix="docclean-speed-") as scratch:
        folder = Path(scratch)
        _round_trip(pages[0], clean_fn, folder / "warm-up.png")
        passes = [_timed_pass(pages, clean_fn, folder, bar) for _ in range(repeats)]
    return min(passes)


def _timed_pass(pages: List[Path], clean_fn: PageCleaner, folder: Path,
                bar: Optional[Callable[[int], None]]) -> float:
    """One pass over ``pages``: seconds per megapixel."""
    pixels = 0
    started = time.perf_counter()
    for index, page in enumerate(pages):
        pixels += _round_trip(page, clean_fn, folder / f"{index}.png")
        if bar is not None:
            bar(1)
    seconds = time.perf_counter() - started
    return seconds / (pixels / 1e6)
