"""The batch on a Ray cluster: one input file a task, cleaned by the local batch's own code on a worker.

Each worker is a Ray actor that loads the model once and runs it on the CPUs Ray gave it (its
threads set to match, so workers on one computer do not fight over cores).  A worker cleans a
file with ``run_batch``, exactly as a local run would, so naming, provenance, skipping what was
done, documents, atomic writes and per-page errors are the local batch's and the outputs are
byte-identical.  The driver plans the run as the local batch does (every file named before any
work, the output folder locked against other runs) and never loads a model: a model of the user's
is exported once (on a worker, where no export is found here) and shipped with its file to every
worker, so workers need neither TensorFlow nor a view of the driver's files.  Where inputs or outputs are
in an object store, each worker downloads its file and uploads its outputs itself (engine.cleaning.staged).

A file whose worker dies (out of memory, a crash in a library) is given to a new worker, at most
MAX_TRIES times, then reported alone.  Results come in the order files finish, not input order.
Cancelling stops handing out files; files under way finish within GRACE seconds or their workers
are stopped, which leaves only hidden temporary files that the next run removes.  Running the same
command again after the driver was killed finishes the job: what was written is skipped by its
provenance.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Generator, Iterator, Optional

from engine.cleaning.batch import BatchPlan, PageResult, run_batch
from engine.cleaning.staged import FILES_AT_ONCE, StagedPlan, clean_staged
from engine.distributed.cluster import ClusterOptions, connected
from engine.errors import ImageReadError
from engine.io import PageRef, list_pages, real_path
from engine.io.ocr import check_languages
from engine.io.output_folder import RunLock
from engine.io.stores import StoredFile
from engine.io.planning import plan_outputs
from engine.models.bundled import MODELS_FOLDER, resolve_model
from engine.models.export import export_files, export_openvino, find_export, install_export
from engine.options import BatchOptions
from engine.progress import CancelToken, Cancelled, ProgressCallback, report
from engine.vocabulary import Stage

#: How many workers a file may stop before it is reported as failed.
MAX_TRIES = 3
#: Seconds files under way may take to finish once the run is cancelled.
GRACE = 30.0


@dataclass(frozen=True)
class ModelChoice:
    """The model every worker loads: a bundled name or a file (None: the default), its runtime and precision."""

    model: Optional[str | Path] = None
    backend: str = "auto"
    precision: str = "auto"


@dataclass(frozen=True)
class ShippedModel:
    """A model file that is not bundled, and its OpenVINO export, as bytes: what a worker needs of it, on a
    computer that may see neither the file nor TensorFlow."""

    name: str
    data: bytes
    sha256: str
    export: dict[str, bytes]


def ship_model(path: Path, ray: Any) -> Optional[ShippedModel]:
    """On the driver: ``path`` and its export for the workers, exported once, on a worker, when no export is
    found here (the driver never loads TensorFlow); None for a bundled model, which every install has."""
    if path.parent == MODELS_FOLDER:
        return None
    found, sha256 = find_export(path)
    data = path.read_bytes()
    if found is not None:
        files = export_files(found)
    else:
        files = ray.get(ray.remote(_export_model).options(num_cpus=1).remote(path.name, data))
    return ShippedModel(path.name, data, sha256, files)


def _export_model(name: str, data: bytes) -> dict[str, bytes]:
    """On a worker: the export of the model file ``data`` (named ``name``), as files."""
    with tempfile.TemporaryDirectory(prefix="docclean-export-") as scratch:
        model = Path(scratch) / name
        model.write_bytes(data)
        return export_files(export_openvino(model, destination=Path(scratch) / "export"))


class Cleaner:
    """A worker: one model, loaded once, cleaning a file at a time (a Ray actor; plain Python here)."""

    def __init__(self, model: ModelChoice, threads: int, shipped: Optional[ShippedModel] = None,
                 inputs: frozenset[Path] = frozenset()) -> None:
        import cv2

        from engine.cleaning.denoiser import Denoiser

        self.inputs = inputs  # the run's input files, which no output may replace
        # OpenCV's pool (the geometry, the content check) takes every core of the computer by default: two
        # workers on two cores would then run four threads.  Ray sets the BLAS pools' (OMP_NUM_THREADS) itself.
        cv2.setNumThreads(threads)

        if shipped is not None:  # the driver's model file and its export, put where this computer finds them
            folder = Path(tempfile.mkdtemp(prefix="docclean-model-"))
            atexit.register(shutil.rmtree, folder, True)
            (folder / shipped.name).write_bytes(shipped.data)
            install_export(shipped.export, shipped.sha256)
            model = ModelChoice(folder / shipped.name, model.backend, model.precision)
        self.denoiser = Denoiser.from_file(model.model, backend=model.backend, precision=model.precision,
                                           threads=threads)

    def pid(self) -> int:
        return os.getpid()

    def clean(self, plan: BatchPlan, options: BatchOptions) -> list[PageResult]:
        """Every page of ``plan`` (one file's share of a run: _share) cleaned as ``options`` say, under the
        driver's lock of the output folder."""
        return list(run_batch(replace(plan, others=self.inputs), self.denoiser, options, lock=False))

    def clean_staged(self, item: StoredFile, output: str, options: BatchOptions) -> list[PageResult]:
        """One file of a run that reads or writes a store, downloaded and uploaded by this worker
        (engine.cleaning.staged): the driver moves no pages."""
        return clean_staged(item, output, self.denoiser, options, inputs=self.inputs)


def _share(plan: BatchPlan, file: Path) -> BatchPlan:
    """``plan``'s part for ``file``: its pages, sub-folder, picture zone edits and geometry corrections."""
    keys = {ref.key for ref in list_pages(file)} if plan.only is not None or plan.zones or plan.fixes else set()
    return BatchPlan([file], plan.out_dir, [], [], None if plan.only is None else plan.only & keys,
                     {file: plan.folders[file]} if file in plan.folders else {},
                     {key: edits for key, edits in plan.zones.items() if key in keys},
                     {key: fix for key, fix in plan.fixes.items() if key in keys})


def check_distributable(options: BatchOptions) -> None:
    """ConfigurationError, in one sentence, for options a cluster cannot run file by file."""
    options.check_file_by_file("a cluster")


def run_on_cluster(plan: BatchPlan | StagedPlan, model: ModelChoice, options: BatchOptions,
                   cluster: ClusterOptions, cancel: Optional[CancelToken] = None,
                   progress: Optional[ProgressCallback] = None,
                   say: Optional[Callable[[str], None]] = None) -> Iterator[PageResult]:
    """Clean every file of ``plan`` on Ray workers as ``run_batch`` (or, with a store, ``run_staged``) would here;
    yields each page's result as its file finishes.  Everything is checked, and every output of a local plan
    named, before Ray starts."""
    options.check()
    check_distributable(options)
    cluster.check()
    if options.ocr:
        check_languages(options.ocr)
    path = resolve_model(model.model)
    work: list[Path] | list[StoredFile]
    if isinstance(plan, StagedPlan):
        work, total, out, inputs = plan.files, len(plan.files), plan.local_output, plan.inputs()
    else:
        refs = yield from _listed(plan, options, path)
        work, total, out = list(dict.fromkeys(ref.path for ref in refs)), len(refs), plan.out_dir
        inputs = frozenset(real_path(file) for file in plan.files)
    lock = RunLock(out) if out is not None else nullcontext()
    with lock, connected(cluster, say) as ray:
        run = _ClusterRun(ray, ModelChoice(path, model.backend, model.precision), cluster, plan, options, work,
                          inputs)
        yield from run.results(total, cancel, progress)


def _listed(plan: BatchPlan, options: BatchOptions, model: Path) -> Generator[PageResult, None, list[PageRef]]:
    """The pages of ``plan``, every output named (refusing clashes) as the local batch does; yields the files
    that cannot be listed as failed, as the local batch does."""
    pages = plan.pages()
    refs = [item for item in pages if isinstance(item, PageRef)]
    plan_outputs(refs, plan.out_dir, options.fmt, options.name, {"model": model.stem, "mode": options.mode},
                 plan.folders, options.combine)
    for item in pages:
        if not isinstance(item, PageRef):
            yield PageResult(PageRef(item[0], 0, 1), None, item[1], 0.0)
    return refs


class _ClusterRun:
    """The driver's side of one run: workers, the files still to hand out, the files under way."""

    def __init__(self, ray: Any, model: ModelChoice, cluster: ClusterOptions, plan: BatchPlan | StagedPlan,
                 options: BatchOptions, files: list[Path] | list[StoredFile], inputs: frozenset[Path]) -> None:
        self.ray, self.plan, self.options = ray, plan, options
        self.actor = ray.remote(Cleaner).options(num_cpus=cluster.cpus_per_worker, max_restarts=0,
                                                 max_concurrency=FILES_AT_ONCE)
        self.model, self.threads = model, cluster.cpus_per_worker
        assert model.model is not None, "the driver resolves the model's file before the run"
        self.shipped = ray.put(ship_model(Path(model.model), ray))
        self.inputs = ray.put(inputs)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = cluster.workers or max(1, cpus // cluster.cpus_per_worker)
        self.workers = [self._worker() for _ in range(max(1, min(count, len(files))))]
        self.waiting: deque[Path | StoredFile] = deque(files)
        self.tries: dict[Path | StoredFile, int] = {file: 0 for file in files}
        # A task's reference -> its file, its worker's place, and which worker at that place (a dead one's
        # other task still reports, after its place has a new worker).
        self.running: dict[Any, tuple[Path | StoredFile, int, Any]] = {}
        self.load = [0] * len(self.workers)  # files each worker holds
        self.alone: set[int] = set()  # workers given a file whose worker died: they take no other
        self.suspects = 0  # files waiting whose worker died, at the front of ``waiting``

    def _worker(self) -> Any:
        return self.actor.remote(self.model, self.threads, self.shipped, self.inputs)

    def results(self, total: int, cancel: Optional[CancelToken],
                progress: Optional[ProgressCallback]) -> Iterator[PageResult]:
        done, deadline = 0, None  # deadline: when the files under way must have finished, once cancelled
        try:
            while self.running or (self.waiting and deadline is None):
                if deadline is None and cancel is not None and cancel.cancelled:
                    deadline = time.monotonic() + GRACE
                if deadline is not None and time.monotonic() > deadline:
                    break
                while self.waiting and deadline is None and self._hand_out():
                    pass
                finished, _ = self.ray.wait(list(self.running), num_returns=1, timeout=0.5)
                for reference in finished:
                    for result in self._outcome(reference, *self.running.pop(reference)):
                        done += 1
                        # A store's files are counted a page each until their documents are seen.
                        total = max(total, done + len(self.waiting) + len(self.running))
                        report(progress, Stage.PAGES, done, total, result.ref.label)
                        yield result
            if deadline is not None:
                raise Cancelled()
        finally:  # also on Ctrl+C: a worker stopped mid-file leaves only hidden files, removed by the next run
            for worker in self.workers:
                self.ray.kill(worker)

    def _hand_out(self) -> bool:
        """Give the next waiting file to the least loaded worker with room; False when none has.  A file whose
        worker died goes to an idle worker and is its only one, so a file that kills its worker takes no other
        down with it, and no worker takes a second file while such a file waits."""
        room = [place for place, load in enumerate(self.load) if place not in self.alone
                and (load == 0 or (load < FILES_AT_ONCE and not self.suspects))]
        if not room:
            return False
        place = min(room, key=self.load.__getitem__)
        file = self.waiting.popleft()
        if self.tries[file]:
            self.suspects -= 1
            self.alone.add(place)
        worker = self.workers[place]
        if isinstance(file, StoredFile):
            assert isinstance(self.plan, StagedPlan)
            reference = worker.clean_staged.remote(file, self.plan.output, self.options)
        else:
            assert isinstance(self.plan, BatchPlan)
            reference = worker.clean.remote(_share(self.plan, file), self.options)
        self.running[reference] = (file, place, worker)
        self.load[place] += 1
        return True

    def _outcome(self, reference: Any, file: Path | StoredFile, place: int, worker: Any) -> list[PageResult]:
        """The pages of a finished task; a worker that died is replaced, and its file tried again or failed."""
        exceptions = self.ray.exceptions
        if worker is self.workers[place]:
            self.load[place] -= 1
            self.alone.discard(place)
        try:
            results: list[PageResult] = self.ray.get(reference)
            return results
        except exceptions.RayTaskError as error:  # DocClean's own code failed on the worker: a fault, raised here
            raise error.as_instanceof_cause() from None
        except (exceptions.RayActorError, exceptions.WorkerCrashedError, exceptions.ObjectLostError):
            if worker is self.workers[place]:  # its other file, if any, reports the same death later
                self.workers[place] = self._worker()
                self.load[place] = 0
                self.alone.discard(place)
            self.tries[file] += 1
            if self.tries[file] < MAX_TRIES:
                self.waiting.appendleft(file)
                self.suspects += 1
                return []
            reason = (f"the worker stopped {MAX_TRIES} times on this file: likely out of memory "
                      "(give each worker more with --cpus-per-worker, or clean it on its own)")
            name, place_text = (Path(file.name), file.url) if isinstance(file, StoredFile) else (file, str(file))
            return [PageResult(PageRef(name, 0, 1), None, ImageReadError(place_text, reason), 0.0)]
