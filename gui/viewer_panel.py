"""The middle of the window: how to start (no pages yet), or the before/after viewer with its tools."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QProgressBar,
                               QStackedWidget, QTextEdit, QToolBar, QToolButton, QVBoxLayout, QWidget)

from gui.compare_view import CompareView
from gui.empty_state import EmptyState

# Widgets where Space is typed, not a request to see the original.
_TYPING_WIDGETS = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


class ViewerPanel(QStackedWidget):
    """The empty state, or the viewer: its toolbar, a thin preview progress line and the compare view."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.compare = CompareView()
        self.compare.set_message("Open a folder (Ctrl+O) or drop scanned pages here")
        self.toolbar = QToolBar("Viewer")
        self.toolbar.setIconSize(QSize(16, 16))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.hold_button = QToolButton()
        self.hold_button.setText("Hold for original")
        self.hold_button.setToolTip("Press and hold (or hold Space, or the right mouse button) to see the original")
        self.hold_button.pressed.connect(lambda: self.compare.set_flash(True))
        self.hold_button.released.connect(lambda: self.compare.set_flash(False))
        self.preview_progress = QProgressBar()
        self.preview_progress.setMaximumHeight(6)  # a thin line under the tools while a preview is cleaned
        self.preview_progress.setTextVisible(False)
        self.preview_progress.hide()
        self.empty_state = EmptyState()
        viewer = QWidget()
        layout = QVBoxLayout(viewer)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.preview_progress)
        layout.addWidget(self.compare, 1)
        self.addWidget(self.empty_state)
        self.addWidget(viewer)

    def show_viewer(self, on: bool) -> None:
        """The viewer when there are pages; else how to start."""
        self.setCurrentIndex(1 if on else 0)


class HoldSpace(QObject):
    """Holding Space shows the original wherever the focus is in ``window`` (a thumbnail, a button),
    except while typing; installed on the application."""

    def __init__(self, window: QWidget, compare: CompareView) -> None:
        super().__init__(window)
        self.window, self.compare = window, compare

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (isinstance(event, QKeyEvent) and event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
                and event.key() == Qt.Key.Key_Space and not event.isAutoRepeat()
                and watched is QApplication.focusWidget() and isinstance(watched, QWidget)
                and watched.window() is self.window and not isinstance(watched, _TYPING_WIDGETS)):
            self.compare.set_flash(event.type() == QEvent.Type.KeyPress)
            return True
        return super().eventFilter(watched, event)
