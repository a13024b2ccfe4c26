"""Uncaught errors become readable messages, never a crash or a traceback on screen."""
from __future__ import annotations

import sys

from engine.errors import ConfigurationError, ImageReadError
from gui.error_report import install_excepthook
from gui.workers import TaskRunner


def test_excepthook_reports_a_readable_message(qtbot):
    shown: list[tuple[str, str]] = []
    old_hook, old_thread_hook = sys.excepthook, __import__("threading").excepthook
    try:
        install_excepthook(report=lambda title, message: shown.append((title, message)))
        try:
            raise ConfigurationError("the page is upside down")
        except ConfigurationError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        qtbot.waitUntil(lambda: bool(shown), timeout=2000)
    finally:
        sys.excepthook = old_hook
        __import__("threading").excepthook = old_thread_hook
    title, message = shown[0]
    assert "the page is upside down" in message
    assert "Traceback" not in message


def test_a_failing_worker_reports_a_sentence(qtbot):
    runner = TaskRunner()
    failures: list[str] = []

    def work(task):
        raise FileNotFoundError(2, "No such file", "/nowhere/page.png")

    runner.start(work, on_failed=failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=5000)
    assert failures == ["/nowhere/page.png: no such file or folder"]


def test_an_internal_fault_is_not_shown_as_python(qtbot):
    runner = TaskRunner()
    failures: list[str] = []

    def work(task):
        return None.pages  # a bug: AttributeError, whose text names Python's types

    runner.start(work, on_failed=failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=5000)
    assert failures == ["Something went wrong inside DocClean; the details are in its log file."]


def test_what_is_shown_is_decided_by_type_not_by_module(qtbot):
    runner = TaskRunner()
    failures: list[str] = []

    def engine_sentence(task):
        raise ImageReadError("/scans/page.png", "not an image")

    def library_value_error(task):
        raise ValueError("operands could not be broadcast together with shapes (3,) (4,)")

    runner.start(engine_sentence, on_failed=failures.append)
    runner.start(library_value_error, on_failed=failures.append)
    qtbot.waitUntil(lambda: len(failures) == 2, timeout=5000)
    assert sorted(failures) == ["/scans/page.png: not an image",
                                "Something went wrong inside DocClean; the details are in its log file."]
