"""Pieces the training form's boxes share: the engine's training defaults, form rows, path fields, faint
hints, a wheel that scrolls the form rather than the field under it, and engine messages as sentences."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QWidget

from engine.training.config import TrainConfig
from gui.fields import folder_field

# What a new TrainConfig holds: the defaults the command line has too.
CONFIG_DEFAULTS = TrainConfig(data="", arch="")
# Hints are faint; when the form is disabled (training) they grey like the rest.
_HINT_STYLE = "QLabel:enabled { color: palette(placeholder-text); }"


def sentence(text: str) -> str:
    """An engine message as a sentence: capital first letter, full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def form_rows(box: QWidget) -> QFormLayout:
    """The rows of a box of the form, whose fields take the box's whole width."""
    form = QFormLayout(box)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


def path_field(choose: Callable[[], None]) -> tuple[QLineEdit, QHBoxLayout]:
    """A path to type, and a "Choose…" button that calls ``choose``."""
    edit, row = folder_field("", choose)
    # A long path shows only its end in the field; the tooltip has all of it.
    edit.textChanged.connect(edit.setToolTip)
    return edit, row


def hint_label() -> QLabel:
    """A faint, wrapping line that explains the row above it."""
    label = QLabel("")
    label.setWordWrap(True)
    label.setStyleSheet(_HINT_STYLE)
    return label


class _WheelGuard(QObject):
    """Lets the wheel scroll the form instead of changing whichever field passes under the pointer."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()  # ignored and filtered: Qt hands it on to the scroll area
            return True
        return False


def guard_wheel(widget: QWidget) -> None:
    """Let the wheel change ``widget`` only once it has been clicked or tabbed into."""
    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone must not focus it
    widget.installEventFilter(_WheelGuard(widget))
