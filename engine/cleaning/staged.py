"""The batch where inputs or outputs are in an object store (``s3://``, ``gs://``): a file at a time, staged here.

Each input file is downloaded whole into a scratch folder under its own name (so that what its
outputs record of it, its name and hash, is what a local run records), cleaned there by
``run_batch``, and each output written is uploaded once, whole, with a conditional create: an
object already in the store is never replaced unless the run replaces it on purpose
(``--overwrite``, or a document an earlier run left without some pages, as the local batch does).
The earlier outputs of the file are downloaded first, so skipping what was done, and picking a
free name, are the local batch's.  The scratch folder is removed after each file.

The unit is the file, as on a cluster (engine.distributed runs ``clean_staged`` on its workers):
what cannot be done file by file (``--combine``, ``--keep-both``) is refused before any work.
"""
from __future__ import annotations

import tempfile
from collections import defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from itertools import islice
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Iterator, Optional, Sequence

from engine.cleaning.batch import BatchPlan, PageResult, find_files, name_fields, run_batch
from engine.cleaning.denoiser import Denoiser
from engine.errors import ConfigurationError, DocCleanError, ImageReadError, ImageWriteError, PageError
from engine.io import PageRef, plan_outputs
from engine.io.naming import part_base
from engine.io.output_folder import RunLock, check_not_in_use, check_output_folder, remove_leftovers
from engine.io.page_types import real_path
from engine.io.stores import Store, StoredFile, is_url
from engine.options import BatchOptions
from engine.progress import CancelToken, Cancelled, ProgressCallback, report
from engine.vocabulary import RerunPolicy, Stage

#: Files cleaned at once, here or by a cluster's worker: while one's page is in the model (one page at a time),
#: the other is moved, read, made upright and written, as the local batch overlaps a page's reading and writing
#: with the next one's cleaning.
FILES_AT_ONCE = 2


@dataclass
class StagedPlan:
    """The files of a run that reads or writes a store: each an object's URL or a local file's path, with the
    sub-folder of the output it goes in; ``output`` a store's URL or a folder (checked, its leftovers removed)."""

    files: list[StoredFile]
    output: str
    tidied: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        """What the plan did that the user should hear about, as sentences (BatchPlan.notes)."""
        return list(self.tidied)

    @property
    def local_output(self) -> Optional[Path]:
        return None if is_url(self.output) else Path(self.output)

    def inputs(self) -> frozenset[Path]:
        """The run's input files on this computer, which no output may replace."""
        return frozenset(real_path(Path(item.url)) for item in self.files if not is_url(item.url))


def needs_staging(inputs: Sequence[str | Path], output: str | Path) -> bool:
    """Whether a run reads or writes an object store."""
    return any(is_url(item) for item in [*inputs, output])


def plan_staged(inputs: Sequence[str | Path], output: str | Path, options: BatchOptions) -> StagedPlan:
    """Every input file (listed in its store, or found in its folder) and the output, checked before any work:
    ConfigurationError for options that cannot run file by file, a store that cannot be listed, or two inputs
    whose outputs would take one name."""
    options.check_file_by_file("a run with an object store")
    files: list[StoredFile] = []
    for item in inputs:
        if is_url(item):
            files += Store(str(item)).inputs()
        else:
            found, folders = find_files([item])
            files += [StoredFile(str(path), PurePosixPath(folders.get(path, Path()).as_posix())) for path in found]
    plan = StagedPlan(_distinct(files), str(output))
    out = plan.local_output
    if out is None:
        Store(plan.output).check_bucket()  # the scheme, its package and the bucket, before any work
    else:
        out = check_output_folder(out)
        check_not_in_use(out)
        subs = sorted({str(item.folder) for item in files})
        leftovers = [path for sub in subs for path in remove_leftovers(out / sub)]
        if leftovers:
            plan.tidied.append(f"removed {len(leftovers)} unfinished file(s) left in {out} by an interrupted run")
    return plan


def _distinct(files: list[StoredFile]) -> list[StoredFile]:
    """``files`` without repeats; ConfigurationError where two files of one folder share a name but their suffix,
    as their outputs would (scan.png and scan.tif both make scan_clean.png)."""
    unique = list(dict.fromkeys(files))
    stems: dict[tuple[PurePosixPath, str], str] = {}
    for item in unique:
        key = (item.folder, PurePosixPath(item.name).stem)
        if key in stems:
            raise ConfigurationError(f"{stems[key]} and {item.url} would be written under one name: rename one, "
                                     "or clean them in two runs")
        stems[key] = item.url
    return unique


def run_staged(plan: StagedPlan, denoiser: Denoiser, options: BatchOptions, cancel: Optional[CancelToken] = None,
               progress: Optional[ProgressCallback] = None) -> Iterator[PageResult]:
    """Clean every file of ``plan`` here, yielding each page's result as its file is done, in input order.

    Two files are under way at once (the model takes one page at a time): while one is in the model the other
    is downloaded, read, made upright, written and uploaded.  The progress's total counts a file not yet seen
    as one page, and grows by a document's other pages."""
    out = plan.local_output
    held = RunLock(out).acquire() if out is not None else None
    stop = CancelToken()  # the files under way stop on the caller's cancel, and when the caller stops early
    try:
        done, inputs, files = 0, plan.inputs(), iter(plan.files)
        with ThreadPoolExecutor(FILES_AT_ONCE, thread_name_prefix="docclean-file") as pool:
            try:
                under_way = deque(pool.submit(clean_staged, item, plan.output, denoiser, options, stop, inputs)
                                  for item in islice(files, FILES_AT_ONCE))
                for position in range(len(plan.files)):
                    if not under_way:
                        break
                    while not _finished(under_way[0]) and not stop.cancelled:
                        if cancel is not None and cancel.cancelled:
                            stop.cancel()
                    if cancel is not None and cancel.cancelled:
                        stop.cancel()
                    results = under_way.popleft().result()  # Cancelled, unless it had finished
                    following = None if stop.cancelled else next(files, None)
                    if following is not None:
                        under_way.append(pool.submit(clean_staged, following, plan.output, denoiser, options,
                                                     stop, inputs))
                    for result in results:
                        done += 1
                        report(progress, Stage.PAGES, done, done + len(plan.files) - position - 1, result.ref.label)
                        yield result
                if stop.cancelled:
                    raise Cancelled()
            finally:
                stop.cancel()  # a file under way finishes its page and uploads what is whole, then stops
    finally:
        if held is not None:
            held.release()


def _finished(future: Future[list[PageResult]]) -> bool:
    """Whether ``future`` is done, after waiting a moment for it (so that a cancel is heard within that moment)."""
    wait([future], timeout=0.2)
    return future.done()


def clean_staged(item: StoredFile, output: str, denoiser: Denoiser, options: BatchOptions,
                 cancel: Optional[CancelToken] = None, inputs: frozenset[Path] = frozenset()) -> list[PageResult]:
    """The pages of one file, cleaned into ``output`` (a store's URL or a folder) as ``options`` say.

    Pages finished before a cancel are uploaded, then Cancelled is raised.  ``inputs``: the run's files on this
    computer, never replaced.  The caller holds a local output folder's lock.
    """
    store = None if not is_url(output) else Store(output)
    with tempfile.TemporaryDirectory(prefix="docclean-stage-") as scratch:
        local = Path(item.url)
        if is_url(item.url):
            local = Path(scratch, "in", item.name)
            try:
                Store(item.url).download(item.url, local)
            except ImageReadError as error:
                return [PageResult(PageRef(Path(item.name)), None, error, 0.0)]
        out_dir = Path(scratch, "out") if store is not None else Path(output)
        folders = {local: Path(item.folder)} if item.folder.parts else {}
        plan = BatchPlan([local], out_dir, [], [], folders=folders, others=inputs)
        try:
            fetched = _fetch_earlier(plan, store, denoiser, options) if store is not None else set()
        except DocCleanError as error:  # the store's folder could not be read: this file fails, the run goes on
            failed = error if isinstance(error, PageError) else ImageWriteError(output, error.reason)
            return [PageResult(PageRef(Path(item.name)), None, failed, 0.0)]
        results: list[PageResult] = []
        stopped = None
        try:
            results.extend(run_batch(plan, denoiser, options, cancel, lock=False))
        except Cancelled as error:
            stopped = error
        if store is not None:
            results = _upload(results, store, out_dir, fetched, options.existing == RerunPolicy.OVERWRITE)
        if is_url(item.url):
            results = [_told_of(result, item) for result in results]
    if stopped is not None:
        raise stopped
    return results


def _fetch_earlier(plan: BatchPlan, store: Store, denoiser: Denoiser, options: BatchOptions) -> set[PurePosixPath]:
    """Download what earlier runs wrote for ``plan``'s file (its outputs' names, numbered or split into a spread's
    pages) into the scratch output folder, for run_batch to skip or keep beside; the objects fetched."""
    refs = [item for item in plan.pages() if isinstance(item, PageRef)]
    if not refs:
        return set()
    outputs = plan_outputs(refs, plan.out_dir, options.fmt, options.name, name_fields(denoiser, options.mode),
                           plan.folders, options.combine)
    bases: dict[PurePosixPath, set[str]] = defaultdict(set)
    for output in outputs:
        relative = PurePosixPath(output.base.relative_to(plan.out_dir).as_posix())
        bases[relative.parent] |= {relative.name, part_base(Path(relative.name), 1).name,
                                   part_base(Path(relative.name), 2).name}
    fetched = set()
    for folder, names in bases.items():
        for name in sorted(store.names_below(folder)):
            if any(name.startswith(base) for base in names):
                store.download(store.where(folder / name), plan.out_dir / folder / name)
                fetched.add(folder / name)
    return fetched


def _upload(results: list[PageResult], store: Store, out_dir: Path, fetched: set[PurePosixPath],
            overwrite: bool) -> list[PageResult]:
    """``results`` with their outputs uploaded, each file once: a page's ``location`` its object's URL, or its
    error where the upload failed."""
    uploaded: dict[Path, str | PageError] = {}
    told = []
    for result in results:
        if result.error is not None and out_dir in result.error.path.parents:  # a page that could not be written
            place = store.where(_relative(result.error.path, out_dir))
            told.append(replace(result, error=_about(result.error, place)))
            continue
        if result.output is None or not result.ok:
            told.append(result)
            continue
        relative = _relative(result.output, out_dir)
        if result.output not in uploaded:
            try:
                uploaded[result.output] = (store.where(relative) if result.skipped else
                                           store.upload(result.output, relative, overwrite or relative in fetched))
            except PageError as error:
                uploaded[result.output] = error
        outcome = uploaded[result.output]
        told.append(replace(result, error=outcome, output=None) if isinstance(outcome, PageError)
                    else replace(result, location=outcome, output=None))
    return told


def _relative(path: Path, folder: Path) -> PurePosixPath:
    return PurePosixPath(path.relative_to(folder).as_posix())


def _about(error: PageError, place: str) -> PageError:
    told = error.about(place)
    assert isinstance(told, PageError)
    return told


def _told_of(result: PageResult, item: StoredFile) -> PageResult:
    """``result`` of a downloaded copy, as of the object: its errors name the object's URL."""
    error = result.error
    ref = PageRef(Path(item.name), result.ref.index, result.ref.count)
    if error is not None and error.path.name == item.name:
        error = _about(error, item.url)
    return replace(result, ref=ref, error=error)
