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
from engine.io import (OUTPUT_FORMATS, ImageReadError, ImageWriteError, Page, PageRef, check_output_folder,
                       existing_outputs, find_images, image_size, list_pages, output_path, read_page, real_path,
                       remove_leftovers, write_page)
from engine.files import file_sha256
from engine.io.provenance import Provenance, read_provenance
from engine.progress import CancelToken, Cancelled, ProgressCallback, check, report

# What a batch does with a page whose output an earlier run already wrote:
# skip it when that output was made by the same model from the same input
# with the same settings (else write a new one beside it), replace it, or
# always write a new one beside it.
ON_EXISTING = ("skip", "overwrite", "keep-both")
ON_EXISTING_LABELS = {
    "skip": "Skip pages already cleaned",
    "overwrite": "Clean again, replace",
    "keep-both": "Clean again, keep both",
}


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
    # The page was not cleaned again: ``output`` is an earlier run's, made the same way.
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class BatchPlan:
    """The files a batch will clean, and what was tidied or left out before it starts.

    ``leftovers`` are unfinished files of a run that was killed, now
    removed; ``own_outputs`` are pages DocClean made that sit in the output
    folder among the inputs (writing into the input folder), never cleaned again.
    """

    files: list[Path]
    out_dir: Path
    leftovers: list[Path]
    own_outputs: list[Path]
    # Only these pages, as (real path, 0-based page index); None: every page of ``files``.
    only: Optional[frozenset[tuple[str, int]]] = None

    def pages(self) -> list[PageRef | tuple[Path, str]]:
        """The pages to clean in order, and (path, error) for files that cannot be listed."""
        return [item for item in _page_refs(self.files)
                if self.only is None or isinstance(item, tuple)
                or (str(real_path(item.path)), item.index) in self.only]

    def notes(self) -> list[str]:
        """What the plan did that the user should hear about, as sentences."""
        notes = []
        if self.leftovers:
            notes.append(f"removed {len(self.leftovers)} unfinished file(s) left in {self.out_dir} "
                         "by an interrupted run")
        if self.own_outputs:
            notes.append(f"left out {len(self.own_outputs)} page(s) in {self.out_dir} that DocClean "
                         "cleaned earlier (they are outputs, not scans)")
        return notes


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def plan_batch(inputs: Iterable[str | Path], out_dir: str | Path,
               only: Optional[Iterable[tuple[str | Path, int]]] = None) -> BatchPlan:
    """Find the files of ``inputs`` (files and folders) and get ``out_dir`` ready.

    Checks first that ``out_dir`` can be written (ImageWriteError with the
    reason otherwise), removes what a killed run left in it, and leaves out
    earlier outputs found in it, so that a batch never cleans its own pages.
    ``only`` limits the batch to some pages: (file, 0-based page index) pairs.
    """
    out_dir = check_output_folder(out_dir)
    files = find_images([Path(p) for p in inputs])
    folder = real_path(out_dir)
    own = [f for f in files if _inside(real_path(f), folder) and read_provenance(f) is not None]
    files = [f for f in files if f not in own]
    chosen = None if only is None else frozenset((str(real_path(path)), int(index)) for path, index in only)
    return BatchPlan(files, out_dir, remove_leftovers(out_dir), own, chosen)


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
            verb = "failed" if not result.ok else ("already clean" if result.skipped else "cleaned")
            report(self.progress, "pages", self.done, self.total, f"{verb} {result.ref.label}")
            yield result


class _Provenances:
    """What each page's output records, with each input file hashed once and only when needed."""

    def __init__(self, denoiser: Denoiser, mode: str, keep_ink: bool) -> None:
        self.model = denoiser.name
        self.model_sha256 = file_sha256(denoiser.path) if denoiser.path else None
        self.settings = f"mode={mode} keep_ink={'on' if keep_ink else 'off'}"
        self.hashes: dict[Path, str] = {}

    def of(self, ref: PageRef) -> Optional[Provenance]:
        """None when it cannot be known (no model file, or the input cannot be read: its page reports why)."""
        if self.model_sha256 is None:
            return None
        if ref.path not in self.hashes:
            try:
                self.hashes[ref.path] = file_sha256(ref.path)
            except OSError:
                return None
        return Provenance(self.model, self.model_sha256, ref.path.name, self.hashes[ref.path],
                          ref.index + 1, self.settings)

    def done_before(self, ref: PageRef, out_dir: Path, fmt: str) -> Optional[Path]:
        """An earlier output of ``ref`` made by this model with these settings, if there is one."""
        earlier = [(path, read_provenance(path)) for path in existing_outputs(ref, out_dir, fmt)]
        earlier = [(path, found) for path, found in earlier if found is not None]
        if not earlier:
            return None  # nothing to compare with: the input need not be hashed
        wanted = self.of(ref)
        return next((path for path, found in earlier if wanted is not None and wanted.same_work(found)), None)


def iter_denoise(inputs: Iterable[str | Path], out_dir: str | Path, denoiser: Denoiser,
                 fmt: str = "png", existing: str = "skip",
                 cancel: Optional[CancelToken] = None,
                 progress: Optional[ProgressCallback] = None,
                 mode: str = "grey", keep_ink: bool = True) -> Iterator[PageResult]:
    """Clean every page of ``inputs`` (files or folders) into ``out_dir``: plan_batch, then run_batch."""
    return run_batch(plan_batch(inputs, out_dir), denoiser, fmt, existing, cancel, progress, mode, keep_ink)


def run_batch(plan: BatchPlan, denoiser: Denoiser,
              fmt: str = "png", existing: str = "skip",
              cancel: Optional[CancelToken] = None,
              progress: Optional[ProgressCallback] = None,
              mode: str = "grey", keep_ink: bool = True) -> Iterator[PageResult]:
    """Clean every page of a planned batch.

    Each page goes through clean_page with ``mode`` and ``keep_ink``.
    Yields one PageResult per page, in order, once its file is written.  A
    page that cannot be read or written yields its error (naming the file
    and the reason) and the batch goes on.  Outputs are named
    ``<stem>_clean.<ext>`` and record what made them (engine.io.provenance).
    ``existing`` (one of ON_EXISTING) says what to do where an earlier run
    left an output: by default a page already cleaned the same way is
    skipped.  An input file is never overwritten, nor, unless ``existing``
    is 'overwrite', any existing file.  ``cancel`` stops between pages or
    rows of tiles, leaving no partial file.
    """
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(OUTPUT_FORMATS)}, not {fmt!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if existing not in ON_EXISTING:
        raise ValueError(f"existing must be one of {', '.join(ON_EXISTING)}, not {existing!r}")
    return _run(plan, denoiser, fmt, existing, cancel, progress, mode, keep_ink)


def _run(plan: BatchPlan, denoiser: Denoiser, fmt: str, existing: str, cancel: Optional[CancelToken],
         progress: Optional[ProgressCallback], mode: str, keep_ink: bool) -> Iterator[PageResult]:
    files, out_dir = plan.files, plan.out_dir
    protected = {real_path(p) for p in files}
    items = plan.pages()
    provenances = _Provenances(denoiser, mode, keep_ink)
    outcomes = _Outcomes(progress, len(items))
    done_before: dict[int, Path] = {}
    if existing == "skip":
        for index, item in enumerate(items):
            check(cancel)
            earlier = provenances.done_before(item, out_dir, fmt) if isinstance(item, PageRef) else None
            if earlier is not None:
                done_before[index] = earlier

    def to_clean(index: int) -> Optional[PageRef]:
        item = items[index] if index < len(items) else None
        return item if isinstance(item, PageRef) and index not in done_before else None

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
                if index in done_before:
                    outcomes.add(PageResult(item, done_before[index], None, 0.0, skipped=True))
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
                    following = to_clean(index + 1)
                    if following is not None:
                        small_next = _small(following)
                        if small and small_next:
                            reads[index + 1] = reader.submit(_read, following)
                    dpi = page.dpi
                    cleaned = clean_page(denoiser, page.pixels, mode, keep_ink, cancel=cancel)
                    del page  # a huge page's input need not live on while its output is encoded
                    target = output_path(item, out_dir, fmt, overwrite=existing == "overwrite", protected=protected)
                    protected.add(real_path(target))
                    job = writer.submit(write_page, cleaned.pixels, target, dpi=dpi, bilevel=cleaned.bilevel,
                                        provenance=provenances.of(item))
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
