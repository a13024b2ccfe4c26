"""Progress reports and cancellation shared by every long operation.

The engine never imports Qt: long operations take an optional ``progress``
callback and an optional ``cancel`` token.  The CLI turns the callback into a
progress bar, the GUI's worker thread turns it into signals, tests just record
it.  A token is set from any thread; the operation notices it at its next
checkpoint (one batch, one tile row or one page) and raises ``Cancelled``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


class Cancelled(Exception):
    """Raised inside a long operation when its cancel token was set."""


class CancelToken:
    """A thread-safe flag asking a long operation to stop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Pause for ``seconds``, or less if cancelled meanwhile; whether it was cancelled."""
        return self._event.wait(seconds)

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


#: What ``Progress.values`` holds: numbers a front end may plot (floats), and in a lab's table
#: row (stage "row") the row's words too.  Any, not ``float | str``: front ends read the numbers
#: of a stage they know, such as an epoch's "loss", as floats.
ProgressValues = dict[str, Any]


@dataclass(frozen=True)
class Progress:
    """One step of a long operation.

    ``done`` of ``total`` units of ``stage`` (e.g. pages, tiles, batches,
    epochs) are finished.  ``values`` carries numbers a front end may plot,
    such as ``{"loss": 0.01, "val_loss": 0.02}`` at the end of an epoch;
    a lab's table row (stage "row", engine.lab.result) holds words too.
    """

    stage: str
    done: int
    total: int
    message: str = ""
    values: ProgressValues = field(default_factory=dict)


ProgressCallback = Callable[[Progress], None]


def report(callback: Optional[ProgressCallback], stage: str, done: int, total: int, message: str = "",
           values: Optional[ProgressValues] = None) -> None:
    """Send a Progress to ``callback`` if there is one (``values`` None: no values)."""
    if callback is not None:
        callback(Progress(stage, done, total, message, {} if values is None else values))


def check(cancel: Optional[CancelToken]) -> None:
    """Raise Cancelled if ``cancel`` was set."""
    if cancel is not None:
        cancel.raise_if_cancelled()
