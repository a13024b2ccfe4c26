"""The batch's controller: runs engine.cleaning.batch on the batch worker and tells the workspace what happened.

It also runs a watch of the opened folder (engine.cleaning.watch): a batch that lasts until it is
cancelled, whose pages join the list as they arrive.

The workspace (engine.workspace) keeps the pages' states, the counts, the
progress and the time left; the window shows them.  Page progress events
(Stage.PAGES) count pages as they are cleaned, also those of a document
(one PDF of every page) whose results only come once it is written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from PySide6.QtCore import QObject, Signal

from engine.cleaning.batch import PageResult, plan_batch, run_batch
from engine.cleaning.watch import watch_folder
from engine.cleaning.model_pool import ModelPool
from engine.distributed.cluster import ClusterOptions
from engine.models.bundled import model_for_mode
from engine.cleaning.pictures import ZoneEdits
from engine.geometry import GeometryFix
from engine.options import BatchOptions
from engine.progress import Progress
from engine.io import PageKey
from engine.workspace import Workspace
from gui.workers import Task, TaskRunner


class BatchController(QObject):
    """Starts and cancels the batch; its results go into the workspace, then out as signals."""

    started = Signal()
    note = Signal(str)  # something the plan did that the user should hear about, as a sentence
    page_done = Signal(object, object)  # the PageResult and its page's key, once the workspace has it
    finished = Signal(str)  # "done", "cancelled" or "failed"
    failed = Signal(str)  # why the batch stopped, for the user (after finished("failed"))

    def __init__(self, runner: TaskRunner, denoisers: ModelPool, workspace: Workspace,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.runner, self.denoisers, self.workspace = runner, denoisers, workspace
        self.task: Optional[Task] = None
        self.out_dir: Optional[Path] = None  # the folder of the batch under way, or of the last one
        self.watching = False  # the task under way is a watch of a folder

    @property
    def running(self) -> bool:
        return self.task is not None

    def start(self, refs: Sequence[Any], inputs: list[Path], out_dir: Path, options: BatchOptions,
              model: Optional[Path], cluster: Optional[ClusterOptions] = None, backend: str = "auto") -> None:
        """Clean ``refs`` (pages of ``inputs``) into ``out_dir``, here or on the Ray ``cluster`` (with the
        ``backend`` runtime there); the workspace resets only these pages."""
        if self.running:
            return
        pages = [ref.key for ref in refs]
        # The user's picture zone marks of these pages, as they are now (marking waits while the batch runs).
        edits = self.workspace.zone_edits()
        zones = {key: edits[key] for key in pages if key in edits}
        corrected = self.workspace.geometry_fixes()
        fixes = {key: corrected[key] for key in pages if key in corrected}
        self.workspace.start_batch(pages)
        self.out_dir = out_dir
        pool = self.denoisers
        self.task = self.runner.start(
            lambda task: _run_batch(pool, model, inputs, pages, out_dir, options, task, zones, fixes, cluster,
                                    backend), "batch",
            name="batch",
            owner=self,
            on_item=self._on_item,
            on_progress=self._on_progress,
            on_result=lambda _: self._end("done"),
            on_cancelled=lambda: self._end("cancelled"),
            on_failed=self._on_failed)
        self.started.emit()

    def watch(self, folder: Path, out_dir: Path, options: BatchOptions, model: Optional[Path]) -> None:
        """Clean every page that appears in ``folder`` into ``out_dir`` until cancel(); its pages join the list."""
        if self.running:
            return
        self.out_dir, self.watching = out_dir, True
        pool = self.denoisers
        self.task = self.runner.start(
            lambda task: _run_watch(pool, model, folder, out_dir, options, task), "batch", name="watch", owner=self,
            on_item=self._on_item,
            on_result=lambda _: self._end("done"),
            on_cancelled=lambda: self._end("cancelled"),
            on_failed=self._on_failed)
        self.started.emit()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _on_item(self, item: Any) -> None:
        if isinstance(item, str):  # a note about the output folder, before the first page
            self.note.emit(item[0].upper() + item[1:])
            return
        if self.workspace.get(item.ref.key) is None:  # a page that came while watching joins the list
            self.workspace.add([(item.ref, None)])
        key: Optional[PageKey] = self.workspace.page_result(item)
        self.page_done.emit(item, key)

    def _on_progress(self, progress: Progress) -> None:
        self.workspace.page_progress(progress.stage, progress.done, progress.total)

    def _on_failed(self, message: str) -> None:
        self._end("failed")
        self.failed.emit(message)

    def _end(self, how: str) -> None:
        self.workspace.finish_batch(how)
        self.task, self.watching = None, False
        self.finished.emit(how)


def _run_batch(pool: ModelPool, model: Optional[Path], inputs: list[Path], pages: list[PageKey],
               out_dir: Path, options: BatchOptions, task: Task,
               zones: Optional[dict[PageKey, ZoneEdits]] = None,
               fixes: Optional[dict[PageKey, GeometryFix]] = None, cluster: Optional[ClusterOptions] = None,
               backend: str = "auto") -> int:
    """On the batch worker: plan, then clean page by page (each with the user's zone edits and geometry
    corrections, if any), here or on ``cluster``, each result streamed as an item."""
    plan = plan_batch(inputs, out_dir, only=pages, zones=zones, fixes=fixes)
    for note in plan.notes():
        task.emit_item(note)
    chosen = model_for_mode(model, options.mode)
    results: Iterator[PageResult]
    if cluster is not None:
        from engine.distributed.ray_batch import ModelChoice, run_on_cluster

        results = run_on_cluster(plan, ModelChoice(chosen, backend), options, cluster, cancel=task.cancel_token,
                                 progress=task.report, say=task.emit_item)
    else:
        denoiser: Any = pool.get(chosen)  # shared: one lock per loaded model (engine.cleaning.model_pool)
        results = run_batch(plan, denoiser, options, cancel=task.cancel_token, progress=task.report)
    count = 0
    for result in results:
        task.emit_item(result)
        count += 1
    return count


def _run_watch(pool: ModelPool, model: Optional[Path], folder: Path, out_dir: Path, options: BatchOptions,
               task: Task) -> int:
    """On the batch worker: clean the pages that appear in ``folder`` until cancelled, each result an item."""
    denoiser: Any = pool.get(model_for_mode(model, options.mode))
    count = 0
    for result in watch_folder(folder, out_dir, denoiser, options, cancel=task.cancel_token):
        task.emit_item(result)
        count += 1
    return count
