"""The "Batch" box: run and cancel, the progress, the output folder and the pages that failed.

Everything it shows is read from the workspace (engine.workspace): the
progress, the time left and the failures, never back from other widgets.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar,
                               QPushButton, QVBoxLayout, QWidget)

from engine.workspace import Workspace


class BatchPanel(QGroupBox):
    """Run/Cancel, a progress bar with its sentence, "Open output folder", and the failure list."""

    failure_chosen = Signal(object)  # the PageKey of a failure the user activated

    def __init__(self, workspace: Workspace, parent: Optional[QWidget] = None) -> None:
        super().__init__("Batch", parent)
        self.workspace = workspace
        layout = QVBoxLayout(self)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Clean all pages")
        self.run_button.setToolTip("Run the batch (Ctrl+R)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current page (Esc)")
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("%v / %m pages")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.hide()  # "0 / 100 pages" before any batch would mean nothing
        self.progress_label = QLabel("")
        self.progress_label.setWordWrap(True)
        self.open_output_button = QPushButton("Open output folder")
        self.failures_label = QLabel("Failures")
        self.failures = QListWidget()
        self.failures.setWordWrap(True)
        self.failures.setToolTip("Pages that could not be cleaned")
        self.failures.itemActivated.connect(
            lambda item: self.failure_chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.open_output_button)
        layout.addWidget(self.failures_label)
        layout.addWidget(self.failures, 1)
        # An empty failure list is just a grey box: show it only when something failed.
        self.failures_label.hide()
        self.failures.hide()

    def show_progress(self) -> None:
        """The batch's numbers as the workspace has them."""
        batch = self.workspace.batch
        if batch is None:
            self.progress_bar.hide()
            self.progress_label.setText("")
            return
        self.progress_bar.setRange(0, max(1, batch.total))
        self.progress_bar.setValue(min(batch.done, batch.total))
        self.progress_bar.show()
        if batch.running and batch.done == 0 and batch.results == 0:
            self.progress_label.setText("Loading the model…")
        else:
            self.progress_label.setText(self.workspace.progress_text())

    def show_failures(self) -> bool:
        """List the pages that failed, each with the reason its error gives; True when there are any."""
        self.failures.clear()
        for entry in self.workspace.failures():
            item = QListWidgetItem(f"{entry.label}: {entry.reason}")
            item.setData(Qt.ItemDataRole.UserRole, entry.key)
            item.setToolTip(str(entry.error) if entry.error is not None else entry.label)
            self.failures.addItem(item)
        shown = self.failures.count() > 0
        self.failures_label.setVisible(shown)
        self.failures.setVisible(shown)
        return shown
