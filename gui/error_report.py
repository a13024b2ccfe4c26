"""Errors as messages a user can read: dialogs, a log file, and the last-resort excepthook.

A Python traceback never reaches the user's screen: unexpected exceptions are written to
the log with their traceback and shown as one sentence in a dialog, and the app goes on.
"""
from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import Callable, Optional

from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from gui.workers import describe_error

log = logging.getLogger("docclean.gui")

_showing = False


class _Relay(QObject):
    """Carries an error from any thread to the UI thread (queued signal)."""

    raised = Signal(str, str)


_relay: Optional[_Relay] = None


def log_file() -> Path:
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation))
    return folder / "docclean.log"


def setup_logging() -> Path:
    """Log warnings and errors to a file beside the app's data (tracebacks go there)."""
    path = log_file()
    root = logging.getLogger()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return path


def show_error(parent: Optional[QWidget], title: str, message: str) -> None:
    """A modal message; a second error while one is open only goes to the log."""
    global _showing
    log.warning("%s: %s", title, message)
    if _showing or QApplication.instance() is None:
        return
    _showing = True
    try:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
        box.exec()
    finally:
        _showing = False


def install_excepthook(
    report: Optional[Callable[[str, str], None]] = None,
) -> None:
    """Route uncaught exceptions (UI thread and plain threads) to the log and a dialog."""

    global _relay
    _relay = _Relay()  # created on the UI thread, so its slot runs there
    _relay.raised.connect(
        report or (lambda title, message: show_error(None, title, message)),
        Qt.ConnectionType.QueuedConnection,  # show it from the event loop, not inside the failing call
    )

    def hook(kind: type[BaseException], exc: BaseException, tb: Optional[TracebackType]) -> None:
        if issubclass(kind, KeyboardInterrupt):
            app = QApplication.instance()
            if app is not None:
                app.quit()
            return
        log.error("Unexpected error:\n%s", "".join(traceback.format_exception(kind, exc, tb)))
        message = (
            f"{describe_error(exc)}\n\nDocClean keeps running. "
            f"The details are in the log: {log_file()}"
        )
        if _relay is not None:
            _relay.raised.emit("Something went wrong", message)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
