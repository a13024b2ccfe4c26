"""Running engine calls off the UI thread.

A ``Task`` wraps one plain function.  The function runs on a QThreadPool thread and talks
back only through Qt signals, which Qt queues onto the UI thread; the engine itself never
sees Qt.  The function receives the task so it can pass ``task.report`` as the engine's
progress callback, ``task.cancel_token`` as its cancel token and ``task.emit_item`` for
results that arrive one by one (pages of a batch).
"""
from __future__ import annotations

import logging
import traceback
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from shiboken6 import isValid

from engine.cleaning.model_pool import KERAS_LOCK, import_engine_module
from engine.errors import DocCleanError
from engine.io.os_errors import describe_os_error
from engine.progress import CancelToken, Cancelled, Progress

log = logging.getLogger(__name__)

# The engine's model pool owns the runtime's thread safety; the app only schedules work.
engine_module = import_engine_module
model_lock = KERAS_LOCK


class TaskSignals(QObject):
    progress = Signal(object)  # engine.progress.Progress
    item = Signal(object)  # one streamed result, e.g. a PageResult
    result = Signal(object)  # the function's return value
    failed = Signal(str)  # a sentence for the user, never a traceback
    cancelled = Signal()
    finished = Signal()  # always last, whatever happened


class Task(QRunnable):
    """One engine call on a worker thread."""

    def __init__(self, work: Callable[["Task"], Any], name: str = "task") -> None:
        super().__init__()
        self.setAutoDelete(False)  # the Python side owns it; TaskRunner drops it when done
        self.name = name
        self.signals = TaskSignals()
        self.cancel_token = CancelToken()
        self._work = work

    # Called from the worker thread ---------------------------------------------------
    def run(self) -> None:  # noqa: D401 - Qt's name
        try:
            result = self._work(self)
        except Cancelled:
            self._emit(self.signals.cancelled)
        except BaseException as exc:  # any failure must reach the user as a message
            log.error("%s failed:\n%s", self.name, traceback.format_exc())
            self._emit(self.signals.failed, describe_error(exc))
        else:
            if self.cancel_token.cancelled:
                self._emit(self.signals.cancelled)
            else:
                self._emit(self.signals.result, result)
        finally:
            self._emit(self.signals.finished)

    def _emit(self, signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:
            # The receiver is gone (the app is quitting): nobody is left to tell.
            pass

    def report(self, progress: Progress) -> None:
        self._emit(self.signals.progress, progress)

    def emit_item(self, item: object) -> None:
        self._emit(self.signals.item, item)

    # Called from the UI thread -------------------------------------------------------
    def cancel(self) -> None:
        self.cancel_token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled


class TaskRunner(QObject):
    """Owns the thread pools and keeps every running task alive until it finishes.

    Separate pools keep a long batch or training run from starving the quick jobs
    (thumbnails, reading the page on screen, previews).
    """

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.pools: dict[str, QThreadPool] = {}
        for name, threads in (("io", 2), ("preview", 1), ("batch", 1), ("training", 1)):
            pool = QThreadPool(self)
            pool.setMaxThreadCount(threads)
            self.pools[name] = pool
        self._running: set[Task] = set()

    def start(
        self,
        work: Callable[[Task], Any],
        pool: str = "io",
        *,
        name: str = "task",
        on_result: Optional[Callable[[Any], None]] = None,
        on_failed: Optional[Callable[[str], None]] = None,
        on_progress: Optional[Callable[[Progress], None]] = None,
        on_item: Optional[Callable[[Any], None]] = None,
        on_cancelled: Optional[Callable[[], None]] = None,
        on_finished: Optional[Callable[[], None]] = None,
        owner: Optional[QObject] = None,
    ) -> Task:
        """Run ``work`` on ``pool``; the ``on_`` callbacks run on the UI thread.

        With ``owner`` (a QObject) the callbacks are dropped once it is destroyed: a result that
        arrives after its window closed reaches nobody.
        """
        task = Task(work, name)
        for signal, slot in (
            (task.signals.result, on_result),
            (task.signals.failed, on_failed),
            (task.signals.progress, on_progress),
            (task.signals.item, on_item),
            (task.signals.cancelled, on_cancelled),
            (task.signals.finished, on_finished),
        ):
            if slot is not None:
                signal.connect(slot if owner is None else _while_alive(owner, slot))
        task.signals.finished.connect(lambda t=task: self._running.discard(t))
        self._running.add(task)
        self.pools[pool].start(task)
        return task

    def running(self) -> list[Task]:
        return list(self._running)

    def cancel_all(self) -> None:
        for task in list(self._running):
            task.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every pool is idle (used on quit and in tests)."""
        return all(pool.waitForDone(msecs) for pool in self.pools.values())


def _while_alive(owner: QObject, slot: Callable[..., Any]) -> Callable[..., None]:
    """``slot``, called only while ``owner`` still exists (a result may arrive after its window closed)."""
    def call(*args: Any) -> None:
        if isValid(owner):
            slot(*args)

    return call


def describe_error(exc: BaseException) -> str:
    """Turn an exception into one sentence a user can act on."""
    if isinstance(exc, DocCleanError):
        return str(exc)  # written for people, by type: never a library's or Python's text
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    if isinstance(exc, MemoryError):
        return "Out of memory. Try a smaller page or close other programs."
    # Anything else is a fault of DocClean's, not the user's: its details go to the log.
    return "Something went wrong inside DocClean; the details are in its log file."
