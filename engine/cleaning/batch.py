"""Cleaning a batch of files: every page, in order, one bad file never stopping the rest.

Both cores stay busy: while the model cleans one page, a reader thread
decodes the next and a writer thread encodes the last (decoding and
encoding release the GIL).  Pages above LARGE_PAGE pixels are not
overlapped, so a huge page never shares memory with its neighbours.

Pages are written one file per page, or a file per document (a PDF, a
multi-page TIFF, or one PDF of the whole run: engine.io.documents), whose
pages are appended as they are cleaned: one cleaned page at most waits for
the writer, whatever the document's length.
"""
from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Optional, ParamSpec

import numpy as np

from engine.cleaning.denoiser import LARGE_PAGE, Denoiser
from engine.cleaning.earlier_runs import Provenances
from engine.cleaning.ink import InkPlace, no_paper_warning
from engine.cleaning.page import CleanedPage, clean_page
from engine.cleaning.pictures import ZoneEdits
from engine.cleaning.page_fixes import PageFixes
from engine.cleaning.prepared import PreparedPage, prepare_page
from engine.errors import ImageReadError, ImageWriteError, PageError
from engine.geometry import GeometryFix, PageGeometry
from engine.geometry.transform import part_offsets
from engine.io import (PageKey, PageRef, check_output_folder, find_images, image_size, list_pages, real_path,
                       remove_leftovers, write_page)
from engine.io.documents import PageOfFailedDocument, open_document
from engine.io.naming import free_output_path, part_base
from engine.io.ocr import check_languages, write_page_and_text
from engine.io.output_folder import RunLock, check_not_in_use
from engine.io.planning import OutputFile, plan_outputs
from engine.io.provenance import Provenance, is_output
from engine.options import BatchOptions
from engine.progress import CancelToken, Cancelled, ProgressCallback, check, report
from engine.vocabulary import PageMode, RerunPolicy, Stage

# A job for the writer thread takes any arguments; what it returns is not used (a failure is raised).
_Params = ParamSpec("_Params")


@dataclass
class PageResult:
    """The outcome of cleaning one page of a batch.

    ``warning`` is set when the page was cleaned but looks unlike what the
    model knows, or the content check marked places to look at (see
    engine.cleaning.ink.InkReport.warning); ``places`` are those places, in
    page pixels, for a viewer to draw.  ``output`` is the file holding the
    page: for a document (PDF, multi-page TIFF) the whole document's, the
    page being its ``output_page`` (0-based).
    """

    ref: PageRef
    output: Optional[Path]
    error: Optional[PageError]
    seconds: float
    warning: Optional[str] = None
    # The page was not cleaned again: ``output`` is an earlier run's, made the same way.
    skipped: bool = False
    output_page: int = 0
    places: tuple[InkPlace, ...] = ()
    # What the geometry stage did to the page, in words (engine.geometry.PageGeometry.summary); "" when off.
    geometry: str = ""
    # Where ``output`` was uploaded, an object's URL, when it is not kept on this computer (engine.cleaning.staged).
    location: str = ""

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
    # Only these pages; None: every page of ``files``.
    only: Optional[frozenset[PageKey]] = None
    # The sub-folder of the output each file's outputs go in: where it was below the input folder
    # it was found in.  Files given directly, or at the top of an input folder, have none.
    folders: dict[Path, Path] = field(default_factory=dict)
    # A user's corrections of the picture zones, per page (PageRef.key); a page not here has none.
    zones: dict[PageKey, ZoneEdits] = field(default_factory=dict)
    # The user's corrections of the pages' geometry (a page not here: those the output folder's record keeps).
    fixes: dict[PageKey, GeometryFix] = field(default_factory=dict)
    # Inputs of the same run outside ``files`` (a cluster worker's share is one file of many): never overwritten either.
    others: frozenset[Path] = frozenset()

    def pages(self) -> list[PageRef | tuple[Path, ImageReadError]]:
        """The pages to clean in order, and (path, error) for files that cannot be listed."""
        return [item for item in _page_refs(self.files)
                if self.only is None or isinstance(item, tuple) or item.key in self.only]

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
               only: Optional[Iterable[PageKey]] = None,
               zones: Optional[Mapping[PageKey, ZoneEdits]] = None,
               fixes: Optional[Mapping[PageKey, GeometryFix]] = None) -> BatchPlan:
    """Find the files of ``inputs`` (files and folders) and get ``out_dir`` ready.

    Checks first that ``out_dir`` can be written and that no other run is
    writing there (ImageWriteError with the reason otherwise), removes what
    a killed run left in it (and in the sub-folders the inputs' are
    mirrored into), and leaves out earlier
    outputs found in it, so that a batch never cleans its own pages.
    ``only`` limits the batch to some pages (PageRef.key); ``zones`` gives
    pages the user's corrections of their picture zones (clean_page's ``zones``), ``fixes`` of their
    geometry (kept in the output folder's record for later runs: engine.cleaning.page_fixes).
    """
    out_dir = check_output_folder(out_dir)
    check_not_in_use(out_dir)
    files, folders = find_files(inputs)
    folder = real_path(out_dir)
    own = [f for f in files if _inside(real_path(f), folder) and is_output(f)]
    files = [f for f in files if f not in own]
    chosen = None if only is None else frozenset(only)
    leftovers = remove_leftovers(out_dir)
    for sub in sorted(set(folders.values())):
        leftovers += remove_leftovers(out_dir / sub)
    return BatchPlan(files, out_dir, leftovers, own, chosen, folders, edited_zones(zones), dict(fixes or {}))


def edited_zones(zones: Optional[Mapping[PageKey, ZoneEdits]]) -> dict[PageKey, ZoneEdits]:
    """The pages with edits: empty edits are no edits, so such a page records what a page without any does."""
    return {key: edits for key, edits in (zones or {}).items() if not edits.empty}


def find_files(inputs: Iterable[str | Path]) -> tuple[list[Path], dict[Path, Path]]:
    """The files of ``inputs`` as find_images finds them, and the sub-folder below its input folder each was in
    (files given directly, and those at the top of an input folder, have none)."""
    files: list[Path] = []
    folders: dict[Path, Path] = {}
    seen: set[Path] = set()
    for item in map(Path, inputs):
        is_folder = item.is_dir()
        for path in find_images([item]):
            key = real_path(path)
            if key in seen:
                continue
            seen.add(key)
            files.append(path)
            if is_folder and path.parent != item:
                folders[path] = path.parent.relative_to(item)
    return files, folders


def _page_refs(inputs: Iterable[Path]) -> Iterator[PageRef | tuple[Path, ImageReadError]]:
    for path in inputs:
        try:
            yield from list_pages(path)
        except ImageReadError as error:
            yield (Path(path), error)


def _small(ref: PageRef) -> bool:
    """Whether the page is small enough to overlap with its neighbours (header only)."""
    try:
        height, width = image_size(ref.path, ref.index)
    except ImageReadError:
        return False  # read in turn, where its error is reported
    return height * width <= LARGE_PAGE


def name_fields(denoiser: Denoiser, mode: PageMode) -> dict[str, str]:
    """The naming template's fields a whole batch shares: the model's short name and the mode."""
    return {"model": Path(denoiser.name).stem, "mode": mode}


# ---------------------------------------------------------------- what the writer thread is doing


@dataclass
class _Writing:
    """A page handed to the writer thread, and what its result will say."""

    ref: PageRef
    target: Path
    future: Future[object]
    started: float
    warning: Optional[str]
    places: tuple[InkPlace, ...] = ()
    geometry: str = ""

    def done(self) -> bool:
        return self.future.done()

    def result(self) -> PageResult:
        try:
            self.future.result()
        except ImageWriteError as error:
            return PageResult(self.ref, None, error, time.perf_counter() - self.started)
        return PageResult(self.ref, self.target, None, time.perf_counter() - self.started, self.warning,
                          places=self.places, geometry=self.geometry)


class _Document:
    """A document being written on the writer thread; its pages' results wait until it is complete."""

    def __init__(self, target: Path, options: BatchOptions) -> None:
        self.writer = open_document(target, options.ocr, options.text, options.document_quality, options.pdfa)
        self.error: Optional[ImageWriteError] = None  # why the document could not be written
        self.failure: Optional[Exception] = None  # anything else that stopped it, raised with its pages' results
        self.pages = 0  # pages handed to the writer
        self.finished: Optional[Future[object]] = None  # set once its last page is handed over
        self.abandoned = False  # the batch stopped before its last page: it is never written

    def add(self, pixels: np.ndarray, dpi: Optional[tuple[float, float]], bilevel: bool,
            provenance: Optional[Provenance]) -> None:
        """Append a page (on the writer thread); a failure loses the document, and the later pages are not written."""
        if self.error is None and self.failure is None:
            try:
                self.writer.add_page(pixels, dpi, bilevel, provenance)
            except ImageWriteError as error:
                self.error = error
            except Exception as failure:  # noqa: BLE001 - raised where the results are read, as a page's write would be
                self.failure = failure

    def complete(self) -> None:
        """Complete the file and give it its name (on the writer thread)."""
        if self.error is None and self.failure is None:
            try:
                self.writer.finish()
            except ImageWriteError as error:
                self.error = error


@dataclass
class _DocumentPage:
    """A page appended to a document: its result is the document's."""

    ref: PageRef
    document: _Document
    position: int
    seconds: float
    warning: Optional[str]
    places: tuple[InkPlace, ...] = ()
    geometry: str = ""

    def done(self) -> bool:
        return self.document.finished is not None and self.document.finished.done()

    def result(self) -> PageResult:
        # _Outcomes.ready asks only once the document's last page is handed over.
        assert self.document.finished is not None, "a document's page has no result before its last page"
        self.document.finished.result()
        if self.document.failure is not None:
            raise self.document.failure
        if self.document.error is not None:
            # Why the document failed is told once, with its first page; the others say they belong to it.
            error = self.document.error if self.position == 0 else PageOfFailedDocument(self.ref.label,
                                                                                         self.document.error)
            return PageResult(self.ref, None, error, self.seconds)
        return PageResult(self.ref, self.document.writer.path, None, self.seconds, self.warning,
                          output_page=self.position, places=self.places, geometry=self.geometry)


class _Outcomes:
    """Results in input order, while the last write may still be under way and documents are being written."""

    def __init__(self, progress: Optional[ProgressCallback], total: int) -> None:
        self.queue: deque[PageResult | _Writing | _DocumentPage] = deque()
        self.progress = progress
        self.total = total
        self.done = 0

    def add(self, outcome: PageResult | _Writing | _DocumentPage) -> None:
        self.queue.append(outcome)
        if isinstance(outcome, _DocumentPage):
            # Its result waits for the whole document; the progress need not.
            self._report(f"cleaned {outcome.ref.label}")

    def ready(self, keep_last_write: bool = True) -> Iterator[PageResult]:
        """Every result that can be given now, in order.

        With ``keep_last_write`` the last write under way stays (the model
        cleans the next page meanwhile); a page of a document not complete
        yet stays in any case, and one of a document the batch abandoned is
        dropped: it was never written.
        """
        while self.queue:
            head = self.queue[0]
            if isinstance(head, _DocumentPage):
                if head.document.abandoned:
                    self.queue.popleft()
                    continue
                if head.document.finished is None or (keep_last_write and not head.done()):
                    return
            elif isinstance(head, _Writing) and keep_last_write and len(self.queue) == 1:
                return
            self.queue.popleft()
            result = head if isinstance(head, PageResult) else head.result()
            if not isinstance(head, _DocumentPage):
                verb = "failed" if not result.ok else ("already clean" if result.skipped else "cleaned")
                self._report(f"{verb} {result.ref.label}")
            yield result

    def _report(self, message: str) -> None:
        self.done += 1
        report(self.progress, Stage.PAGES, self.done, self.total, message)


# ---------------------------------------------------------------- the batch


def iter_denoise(inputs: Iterable[str | Path], out_dir: str | Path, denoiser: Denoiser,
                 options: BatchOptions = BatchOptions(), cancel: Optional[CancelToken] = None,
                 progress: Optional[ProgressCallback] = None) -> Iterator[PageResult]:
    """Clean every page of ``inputs`` (files or folders) into ``out_dir``: plan_batch, then run_batch."""
    return run_batch(plan_batch(inputs, out_dir), denoiser, options, cancel, progress)


def run_batch(plan: BatchPlan, denoiser: Denoiser, options: BatchOptions = BatchOptions(),
              cancel: Optional[CancelToken] = None,
              progress: Optional[ProgressCallback] = None, lock: bool = True) -> Iterator[PageResult]:
    """Clean every page of a planned batch as ``options`` say.

    Each page goes through clean_page with the options' mode and keep_ink.
    Yields one PageResult per page, in order, once its file is written.  A
    page that cannot be read or written yields its error (naming the file
    and the reason) and the batch goes on.

    PNG and JPEG write a file per page; PDF one PDF per input file; TIFF
    one multi-page TIFF per multi-page input and a file per page otherwise;
    ``options.combine`` (a file name such as "all.pdf") puts every page of
    the batch into that one PDF instead.  Files are named by the template
    ``options.name`` (engine.io.NAME_FIELDS), in the sub-folder of the
    output that mirrors where the input was (BatchPlan.folders), and record
    what made them (engine.io.provenance).  A document whose page fails is
    written with its other pages; a re-run makes it again, in its place.
    The options are checked, and every file named, before any page is
    cleaned: ConfigurationError with a sentence when they cannot name them apart.

    ``options.existing`` says what to do where an earlier run left an
    output: by default a page already cleaned the same way is skipped.  An
    input file is never overwritten, nor, unless it is OVERWRITE, any
    existing file.  ``cancel`` stops between pages or rows of tiles,
    leaving no partial file.  A page of ``plan.zones`` is cleaned with the
    user's picture zone edits, which its output records.  The output folder
    is locked against other runs while the batch writes there, unless
    ``lock`` is false: a cluster's workers clean a file each under the lock
    their driver holds (engine.distributed).
    """
    options.check()
    if options.ocr:  # Tesseract and every language asked for, before any page is cleaned
        check_languages(options.ocr)
    items = plan.pages()
    refs = [item for item in items if isinstance(item, PageRef)]
    outputs = plan_outputs(refs, plan.out_dir, options.fmt, options.name, name_fields(denoiser, options.mode),
                           plan.folders, options.combine)
    provenances = Provenances(denoiser, options.settings_text(), plan.zones,
                              PageFixes(plan.out_dir, plan.fixes, options.geometry.active))
    run = _Run(plan, items, outputs, denoiser, provenances, options)
    return run.pages(cancel, progress, lock)


class _Run:
    """One batch under way: its pages, the files they go into, and the reader and writer threads."""

    def __init__(self, plan: BatchPlan, items: list[PageRef | tuple[Path, ImageReadError]],
                 outputs: list[OutputFile], denoiser: Denoiser, provenances: Provenances,
                 options: BatchOptions) -> None:
        self.items = items
        self.out_dir = plan.out_dir
        self.owner = {ref: output for output in outputs for ref in output.refs}
        self.denoiser = denoiser
        self.provenances = provenances
        self.options = options
        self.zones = plan.zones
        self.protected = {real_path(p) for p in plan.files} | set(plan.others)
        self.done_before: dict[OutputFile, Path] = {}  # output -> an earlier file with every page, made the same way
        self.replace: dict[OutputFile, Path] = {}  # output -> an earlier document made the same way that lacks pages
        self.documents: dict[OutputFile, _Document] = {}
        self.writer: Optional[ThreadPoolExecutor] = None
        self.last_job: Optional[Future[object]] = None

    def pages(self, cancel: Optional[CancelToken], progress: Optional[ProgressCallback],
              lock: bool = True) -> Iterator[PageResult]:
        """Clean every page: the generator run_batch returns."""
        outcomes = _Outcomes(progress, len(self.items))
        # One run at a time in an output folder: a second would clean every page again beside the first's.
        held = RunLock(self.out_dir).acquire() if lock else None
        try:
            self.provenances.fixes.keep(item for item in self.items if isinstance(item, PageRef))
            if self.options.existing == RerunPolicy.SKIP:
                self._find_earlier(cancel)
            # Leaving the with-block waits for a write under way: a file is whole or absent.
            with ThreadPoolExecutor(1, thread_name_prefix="docclean-read") as reader, \
                    ThreadPoolExecutor(1, thread_name_prefix="docclean-write") as self.writer:
                try:
                    yield from self._clean_all(reader, outcomes, cancel, progress)
                except Cancelled:
                    # Report the pages already written before stopping: every file the
                    # batch made is one the caller hears about.  Unfinished documents are not made.
                    for document in self.documents.values():
                        document.abandoned = document.finished is None
                    yield from outcomes.ready(keep_last_write=False)
                    raise
                yield from outcomes.ready(keep_last_write=False)
        finally:
            # Also on Ctrl+C, SIGTERM or a caller that stops early: no document is left half-written.
            for document in self.documents.values():
                if document.finished is None:
                    document.writer.abort()
            if held is not None:
                held.release()

    def _find_earlier(self, cancel: Optional[CancelToken]) -> None:
        for output in dict.fromkeys(self.owner.values()):
            check(cancel)
            whole, part = self.provenances.earlier(output)
            if whole is not None:
                self.done_before[output] = whole
            elif part is not None:
                self.replace[output] = part

    def _clean_all(self, reader: ThreadPoolExecutor, outcomes: _Outcomes, cancel: Optional[CancelToken],
                   progress: Optional[ProgressCallback]) -> Iterator[PageResult]:
        items = self.items
        reads: dict[int, Future[PreparedPage]] = {}
        small_next: Optional[bool] = None  # the next page's size, read with its header once
        for index, item in enumerate(items):
            check(cancel)
            if isinstance(item, tuple):
                path, error = item
                outcomes.add(PageResult(PageRef(path, 0, 1), None, error, 0.0))
                yield from outcomes.ready()
                continue
            output = self.owner[item]
            if output in self.done_before:
                outcomes.add(PageResult(item, self.done_before[output], None, 0.0, skipped=True,
                                        output_page=output.refs.index(item)))
                yield from outcomes.ready()
                continue
            report(progress, Stage.PAGES, outcomes.done, len(items), f"cleaning {item.label}")
            started = time.perf_counter()
            small = _small(item) if small_next is None else small_next
            small_next = None
            if not small:  # a huge page waits for the last write to leave memory
                yield from outcomes.ready(keep_last_write=False)
                self._wait_for_writer()
            try:
                future = reads.pop(index, None)
                page = future.result() if future is not None else self._prepare(item)
                following = self._to_clean(index + 1)
                if following is not None:
                    small_next = _small(following)
                    if small and small_next:
                        reads[index + 1] = reader.submit(self._prepare, following)
                outcomes.total += len(page.pages) - 1  # a spread is two pages
                # The user marked zones on the spread's pages side by side (engine.geometry.side_by_side).
                offsets = part_offsets([pixels.shape[1] for pixels in page.pages])
                zones = self.zones.get(item.key) if self.zones else None
                while page.pages:  # a huge page's input need not live on while its output is encoded
                    pixels, geometry = page.pages.pop(0), page.geometries.pop(0)
                    colour = page.colours.pop(0) if page.colours else None
                    notes = [*page.notes, no_paper_warning(pixels)]
                    cleaned = clean_page(self.denoiser, pixels, self.options.mode, self.options.keep_ink,
                                         cancel=cancel, pictures=self.options.pictures,
                                         zones=zones and zones.moved(left=offsets.pop(0)), colour=colour)
                    del pixels, colour
                    outcomes.add(self._write(item, output, cleaned, page.dpi, started, notes, geometry))
            except (ImageReadError, ImageWriteError) as error:
                outcomes.add(PageResult(item, None, error, time.perf_counter() - started))
            if output.document and item == output.refs[-1]:
                self._complete(output)
            yield from outcomes.ready()

    def _prepare(self, ref: PageRef) -> PreparedPage:
        return prepare_page(ref, self.options, self.provenances.fixes.of(ref))

    def _to_clean(self, index: int) -> Optional[PageRef]:
        item = self.items[index] if index < len(self.items) else None
        if not isinstance(item, PageRef) or self.owner[item] in self.done_before:
            return None
        return item

    def _write(self, ref: PageRef, output: OutputFile, cleaned: CleanedPage, dpi: Optional[tuple[float, float]],
               started: float, notes: Iterable[Optional[str]] = (),
               geometry: Optional[PageGeometry] = None) -> _Writing | _DocumentPage:
        """Hand a cleaned page to the writer thread: into its own file, or appended to its document.

        ``notes`` are what the user should hear about the page besides the content check's warning;
        ``geometry`` what was done to make it upright, straight and cropped (recorded in its provenance).
        """
        provenance = self.provenances.of(ref)
        if provenance is not None and geometry is not None and self.options.geometry.active:
            provenance = replace(provenance, geometry=geometry.describe())
        warning = "; ".join(note for note in (*notes, cleaned.ink.warning()) if note) or None
        done = geometry.summary() if geometry is not None and self.options.geometry.active else ""
        if output.document:
            document = self._document(output)
            self._hand_over(document.add, cleaned.pixels, dpi, cleaned.bilevel, provenance)
            document.pages += 1
            return _DocumentPage(ref, document, document.pages - 1, time.perf_counter() - started, warning,
                                 cleaned.ink.places, done)
        target = self._target(output, geometry.part if geometry is not None else 0)
        write = partial(write_page_and_text, languages=self.options.ocr) if self.options.text else write_page
        job = self._hand_over(write, cleaned.pixels, target, dpi=dpi, bilevel=cleaned.bilevel,
                              provenance=provenance, jpeg_quality=self.options.quality)
        return _Writing(ref, target, job, started, warning, cleaned.ink.places, done)

    def _document(self, output: OutputFile) -> _Document:
        """The document ``output`` is being written into, begun with its first cleaned page."""
        if output not in self.documents:
            self.documents[output] = _Document(self._target(output), self.options)
        return self.documents[output]

    def _target(self, output: OutputFile, part: int = 0) -> Path:
        """Where ``output`` (page ``part`` of a spread, when split) goes: its name, numbered unless it replaces an
        earlier file; never an input."""
        target = None if part else self.replace.get(output)
        if target is None or real_path(target) in self.protected:
            base = part_base(output.base, part) if part else output.base
            target = free_output_path(base, output.fmt, overwrite=self.options.existing == RerunPolicy.OVERWRITE,
                                      protected=self.protected)
        self.protected.add(real_path(target))
        return target

    def _complete(self, output: OutputFile) -> None:
        """After a document's last page: complete its file (none if no page of it was cleaned)."""
        document = self.documents.get(output)
        if document is not None:
            # Not waiting for the last page's write: completing holds no page in memory.
            document.finished = self.last_job = self._writer().submit(document.complete)

    def _hand_over(self, job: Callable[_Params, object], *args: _Params.args,
                   **kwargs: _Params.kwargs) -> Future[object]:
        """Give the writer thread a job once its last one is done: one cleaned page at most waits for it."""
        self._wait_for_writer()
        self.last_job = self._writer().submit(job, *args, **kwargs)
        return self.last_job

    def _writer(self) -> ThreadPoolExecutor:
        """The writer thread: there while pages() runs, which is when pages are written."""
        assert self.writer is not None, "pages are written only while the batch runs"
        return self.writer

    def _wait_for_writer(self) -> None:
        if self.last_job is not None:
            wait([self.last_job])
