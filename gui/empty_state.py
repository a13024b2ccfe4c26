"""What the window shows before any page is open: the two ways to start."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class EmptyState(QWidget):
    """A short invitation with "Open folder…" and "Try the sample pages"."""

    open_requested = Signal()
    samples_requested = Signal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        title = QLabel("<h2>Clean scanned pages</h2>")
        text = QLabel("Open a folder of scans (PNG, JPEG, TIFF, PDF …) or drop files here. Every page is "
                      "shown before and after; nothing is written until you clean.")
        text.setWordWrap(True)
        text.setFixedWidth(380)  # a wrapped label in a centred layout needs a width to wrap to
        text.setMinimumHeight(text.heightForWidth(380))  # and the height of its lines, or it shows only the first
        self.open_button = QPushButton("Open folder…")
        self.samples_button = QPushButton("Try the sample pages")
        self.open_button.clicked.connect(self.open_requested)
        self.samples_button.clicked.connect(self.samples_requested)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (title, text, self.open_button, self.samples_button):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
            if isinstance(widget, QLabel):
                widget.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
