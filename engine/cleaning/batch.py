"""Cleaning a batch of files: every page, in order, one bad file never stopping the rest.

Both cores stay busy: while the model cleans one page, a reader thread
decodes the next and a writer thread encodes the last (decoding and
encoding release the GIL).  Pages above LARGE_PAGE pixels are not
overlapped, so a huge page never shares memory with its neighbours.
"""
from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

import numpy as np

from engine.cleaning.denoiser import LARGE_PAGE, Denoiser
from engine.cleaning.page import MODES, clean_page
from engine.io import (OUTPUT_FORMATS, ImageReadError, ImageWriteError, Page, PageRef, find_images, image_size,
                       list_pages, output_path, read_page, real_path, write_page)
from engine.progress import CancelToken, Cancelled, ProgressCallback, check, report


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


def _small(ref: PageRef) -> bool:
    """Whether the page is small enough to overlap with its neighbours (header only)."""
    try:
        height, width = image_size(ref.path, ref.index)
    except ImageReadError:
        return False  # read in turn, where its error is reported
    return height * width <= LARGE_PAGE


def _read(ref: PageRef) -> Page:
    return read_page(ref, dtype=np.uint8)


@dataclass
class _Writing:
    """A page handed to the writer thread, and what its result will say."""

    ref: PageRef
    target: Path
    future: Future
    started: float
    warning: Optional[str]

    def result(self) -> PageResult:
        try:
            self.future.result()
        except ImageWriteError as error:
            return PageResult(self.ref, None, str(error), time.perf_counter() - self.started)
        return PageResult(self.ref, self.target, None, time.perf_counter() - self.started, self.warning)


class _Outcomes:
    """Results in input order, while the last page's write may still be under way."""

    def __init__(self, progress: Optional[ProgressCallback], total: int) -> None:
        self.queue: deque[PageResult | _Writing] = deque()
        self.progress = progress
        self.total = total
        self.done = 0

    def add(self, outcome: PageResult | _Writing) -> None:
        self.queue.append(outcome)

    def ready(self, keep_last_write: bool = True) -> Iterator[PageResult]:
        """Every result that can be given now; with ``keep_last_write`` a last write under way stays."""
        while self.queue and (not keep_last_write or len(self.queue) > 1 or isinstance(self.queue[0], PageResult)):
            outcome = self.queue.popleft()
            result = outcome if isinstance(outcome, PageResult) else outcome.result()
            self.done += 1
            verb = "cleaned" if result.ok else "failed"
            report(self.progress, "pages", self.done, self.total, f"{verb} {result.ref.label}")
            yield result


def iter_denoise(inputs: Iterable[str | Path], out_dir: str | Path, denoiser: Denoiser,
                 fmt: str = "png", overwrite: bool = False,
                 cancel: Optional[CancelToken] = None,
                 progress: Optional[ProgressCallback] = None,
                 mode: str = "grey", keep_ink: bool = True) -> Iterator[PageResult]:
    """Clean every page of ``inputs`` (files or folders) into ``out_dir``.

    Each page goes through clean_page with ``mode`` and ``keep_ink``.
    Yields one PageResult per page, in order, once its file is written.  A
    page that cannot be read or written yields its error (naming the file
    and the reason) and the batch goes on.  Outputs are named
    ``<stem>_clean.<ext>``; an input file is never overwritten, nor, unless
    ``overwrite``, any existing file.  ``cancel`` stops between pages or
    rows of tiles, leaving no partial file.
    """
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(OUTPUT_FORMATS)}, not {fmt!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    files = find_images([Path(p) for p in inputs])
    protected = {real_path(p) for p in files}
    out_dir = Path(out_dir)
    items = list(_page_refs(files))
    outcomes = _Outcomes(progress, len(items))
    # Leaving the with-block waits for a write under way: a file is whole or absent.
    with ThreadPoolExecutor(1, thread_name_prefix="docclean-read") as reader, \
            ThreadPoolExecutor(1, thread_name_prefix="docclean-write") as writer:
        reads: dict[int, Future] = {}
        small_next: Optional[bool] = None  # the next page's size, read with its header once
        try:
            for index, item in enumerate(items):
                check(cancel)
                if isinstance(item, tuple):
                    path, error = item
                    outcomes.add(PageResult(PageRef(path, 0, 1), None, error, 0.0))
                    yield from outcomes.ready()
                    continue
                report(progress, "pages", outcomes.done, len(items), f"cleaning {item.label}")
                started = time.perf_counter()
                small = _small(item) if small_next is None else small_next
                small_next = None
                if not small:  # a huge page waits for the last write to leave memory
                    yield from outcomes.ready(keep_last_write=False)
                try:
                    future = reads.pop(index, None)
                    page = future.result() if future is not None else _read(item)
                    following = items[index + 1] if index + 1 < len(items) else None
                    if isinstance(following, PageRef):
                        small_next = _small(following)
                        if small and small_next:
                            reads[index + 1] = reader.submit(_read, following)
                    dpi = page.dpi
                    cleaned = clean_page(denoiser, page.pixels, mode, keep_ink, cancel=cancel)
                    del page  # a huge page's input need not live on while its output is encoded
                    target = output_path(item, out_dir, fmt, overwrite=overwrite, protected=protected)
                    protected.add(real_path(target))
                    job = writer.submit(write_page, cleaned.pixels, target, dpi=dpi, bilevel=cleaned.bilevel)
                    outcomes.add(_Writing(item, target, job, started, cleaned.ink.warning()))
                except (ImageReadError, ImageWriteError) as error:
                    outcomes.add(PageResult(item, None, str(error), time.perf_counter() - started))
                yield from outcomes.ready()
        except Cancelled:
            # Report the pages already written before stopping: every file the
            # batch made is one the caller hears about.
            yield from outcomes.ready(keep_last_write=False)
            raise
        yield from outcomes.ready(keep_last_write=False)
