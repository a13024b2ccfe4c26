"""The Lab window: runs one of the autoencoder lab's experiments (engine.lab) on a worker.

It shows the run's stage, each table row and each figure as they are written, then the
experiment's protocol.  All numerics stay in the engine; this window only lays out what
LabResult holds.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QSize, QStandardPaths, Qt, QThreadPool, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QHeaderView,
    QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QProgressBar, QPushButton, QSizePolicy, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout,
    QWidget,
)

from engine.lab import DATA_SET, EXPERIMENTS, experiment, missing_extra
from engine.lab.result import LabResult
from engine.progress import Progress
from engine.vocabulary import Stage
from gui.training_data import shared_data_folder
from gui.training_fields import sentence
from gui.workers import Task, TaskRunner, engine_module

LAB_POOL = "lab"
DESCRIPTIONS = {
    "sweep": "Dense autoencoders, bottleneck sizes compared (MNIST)",
    "denoise": "Denoising autoencoders: Gaussian noise in, clean digit out (MNIST)",
    "notmnist": "The autoencoders on letters instead of digits (notMNIST)",
    "cluster": "k-means on pixels, PCA and autoencoder codes (MNIST)",
    "classify": "Frozen encoder codes as features for few labels (MNIST)",
    "anomaly": "Can a model of digits flag letters? (MNIST vs notMNIST)",
}


def default_data_folder(name: str) -> Optional[Path]:
    """The shared data folder's sub-folder of the experiment's data set, if this machine has it."""
    shared = shared_data_folder()
    if shared is None:
        return None
    folder = shared / DATA_SET.get(name, "mnist")
    return folder if folder.is_dir() else shared


def _cell(value: Any) -> str:
    return f"{value:.5g}" if isinstance(value, float) else str(value)


class LabWindow(QDialog):
    """Pick an experiment, run it on a worker, read its table and look at its figures."""

    lab_finished = Signal(str)  # "done", "cancelled" or "failed"

    def __init__(self, runner: TaskRunner, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Autoencoder lab")
        self.runner = runner
        if LAB_POOL not in runner.pools:  # its own pool: a long run starves neither previews nor training
            pool = QThreadPool(runner)
            pool.setMaxThreadCount(1)
            runner.pools[LAB_POOL] = pool
        self._task: Optional[Task] = None
        self._started = 0.0
        self._data_edited = False
        self.lab_result: Optional[LabResult] = None  # not ``result``: QDialog.result() is the dialog's code
        self._rows: list[dict[str, object]] = []  # the table so far
        self._build()
        self._on_experiment_changed()
        self._set_running(False)
        self.resize(1200, 800)

    def _build(self) -> None:
        self._refusal = ""  # what the status says when the chosen experiment lacks the lab's extra
        self.experiment_combo = QComboBox()
        for name in EXPERIMENTS:
            self.experiment_combo.addItem(f"{name} — {DESCRIPTIONS.get(name, '')}", name)
        self.experiment_combo.currentIndexChanged.connect(self._on_experiment_changed)
        self.data_edit = QLineEdit()
        self.data_edit.setPlaceholderText("Empty: download the full MNIST / notMNIST sets once")
        self.data_edit.textEdited.connect(lambda: setattr(self, "_data_edited", True))
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        self.output_edit = QLineEdit(str(Path(base) / "lab"))
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setMaximumWidth(120)
        self.quick_check = QCheckBox("Quick run (seconds): a few images and epochs")
        form = QFormLayout()
        form.addRow("Experiment", self.experiment_combo)
        form.addRow("Data folder", self._with_browse(self.data_edit, "Data folder"))
        form.addRow("Output folder", self._with_browse(self.output_edit, "Output folder"))
        form.addRow("Seed", self.seed_spin)
        form.addRow("", self.quick_check)

        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.status_label = QLabel("Pick an experiment and press Run.")
        self.status_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress_bar, 1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)

        self.protocol_label = QLabel("")
        self.protocol_label.setWordWrap(True)
        self.protocol_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.figure_list = QListWidget()
        self.figure_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.figure_list.setIconSize(QSize(140, 100))
        self.figure_list.setMaximumHeight(150)
        self.figure_list.setFlow(QListWidget.Flow.LeftToRight)
        self.figure_list.setWrapping(False)
        self.figure_list.currentRowChanged.connect(self._show_figure)
        self.figure_label = QLabel("")
        self.figure_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.figure_label.setMinimumSize(200, 200)
        self.figure_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        figures = QWidget()
        figures_layout = QVBoxLayout(figures)
        figures_layout.setContentsMargins(0, 0, 0, 0)
        figures_layout.addWidget(self.figure_label, 1)
        figures_layout.addWidget(self.figure_list)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(figures)
        splitter.setSizes([400, 800])

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(self.protocol_label)
        layout.addWidget(splitter, 1)

    def _with_browse(self, edit: QLineEdit, title: str) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        button = QPushButton("Browse…")
        button.clicked.connect(lambda: self._browse(edit, title))
        row.addWidget(button)
        return box

    def _browse(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, title, edit.text())
        if folder:
            edit.setText(folder)
            self._data_edited = self._data_edited or edit is self.data_edit

    def _on_experiment_changed(self) -> None:
        if not self._data_edited:
            folder = default_data_folder(self.experiment_name())
            self.data_edit.setText(str(folder) if folder else "")
        if self.isVisible():
            self._check_extra()

    def experiment_name(self) -> str:
        return str(self.experiment_combo.currentData())

    # ================================================================ running
    def running(self) -> bool:
        return self._task is not None

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._check_extra()

    def _check_extra(self) -> bool:
        """Whether the chosen experiment has what it needs of the lab's extra; if not, say so with the
        command that adds it, and keep Run off."""
        missing = missing_extra(self.experiment_name())
        refusal = sentence(str(missing)) if missing is not None else ""
        if refusal or self.status_label.text() == self._refusal:
            self.status_label.setText(refusal)  # another experiment's refusal no longer applies
        self._refusal = refusal
        self.run_button.setEnabled(missing is None and not self.running())
        return missing is None

    def start(self) -> None:
        if self.running() or not self._check_extra():
            return
        name, seed, quick = self.experiment_name(), self.seed_spin.value(), self.quick_check.isChecked()
        data_text, out_text = self.data_edit.text().strip(), self.output_edit.text().strip()
        data_folder = Path(data_text) if data_text else None
        if data_folder is not None and not data_folder.is_dir():
            return self._fail(f"The data folder {data_folder} does not exist.")
        if not out_text:
            return self._fail("Choose an output folder for the figures.")
        out_dir = Path(out_text) / name

        def work(task: Task) -> LabResult:
            engine_module(f"lab.{name}")  # imported off the UI thread, see engine_module
            return experiment(name)(data_folder, out_dir, seed=seed, quick=quick, progress=task.report,
                                    cancel=task.cancel_token)

        self._clear_result()
        self._started = time.monotonic()
        self.progress_bar.setValue(0)
        self.status_label.setText(f"Starting {name}…")
        self._set_running(True)
        self._task = self.runner.start(work, LAB_POOL, name=f"lab {name}", on_result=self._on_result,
                                       on_failed=self._fail, on_progress=self._on_progress,
                                       on_cancelled=self._on_cancelled)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.status_label.setText("Cancelling…")

    def _on_progress(self, progress: Progress) -> None:
        if progress.stage == Stage.FIGURE:
            self._add_figure(progress.message)
            return
        if progress.stage == Stage.ROW:
            self._show_table(self._rows + [progress.values])
            return
        if progress.total:
            self.progress_bar.setValue(int(1000 * min(1.0, progress.done / progress.total)))
        text = f"{progress.stage}: {progress.done} of {progress.total}" if progress.total else progress.stage
        self.status_label.setText(f"{text} — {progress.message}" if progress.message else text)

    def _on_result(self, result: LabResult) -> None:
        self._task = None
        self._set_running(False)
        self.lab_result = result
        self.progress_bar.setValue(1000)
        self.status_label.setText(f"{result.name} done in {time.monotonic() - self._started:.0f} s; "
                                  f"figures and numbers.json in {self.output_edit.text().strip()}/{result.name}.")
        self.protocol_label.setText(sentence(f"{result.name}: {result.protocol}"))
        self._show_table(result.table)
        for path in result.figures:
            self._add_figure(str(path))
        self.lab_finished.emit("done")

    def _on_cancelled(self) -> None:
        self._task = None
        self._set_running(False)
        self.progress_bar.setValue(0)
        self.status_label.setText("Cancelled.")
        self.lab_finished.emit("cancelled")

    def _fail(self, message: str) -> None:
        self._task = None
        self._set_running(False)
        self.status_label.setText(sentence(message))
        self.lab_finished.emit("failed")

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for widget in (self.experiment_combo, self.data_edit, self.output_edit, self.seed_spin, self.quick_check):
            widget.setEnabled(not running)

    # ================================================================ results
    def _clear_result(self) -> None:
        self.lab_result = None
        self._rows = []
        self.protocol_label.setText("")
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.figure_list.clear()
        self.figure_label.clear()

    def _show_table(self, rows: list[dict[str, object]]) -> None:
        self._rows = list(rows)
        columns = list(dict.fromkeys(key for row in rows for key in row))
        self.table.setColumnCount(len(columns))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, key in enumerate(columns):
                self.table.setItem(r, c, QTableWidgetItem(_cell(row.get(key, ""))))
        header = self.table.horizontalHeader()
        for column in range(len(columns)):  # numbers as wide as they are; the last column takes the rest
            last = column == len(columns) - 1
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch if last
                                        else QHeaderView.ResizeMode.ResizeToContents)

    def _add_figure(self, path: str) -> None:
        """List a written figure (once; a figure redrawn later keeps its place) and show the first one."""
        for row in range(self.figure_list.count()):
            if self.figure_list.item(row).data(Qt.ItemDataRole.UserRole) == path:
                return
        item = QListWidgetItem(QIcon(path), Path(path).name)
        item.setData(Qt.ItemDataRole.UserRole, path)
        self.figure_list.addItem(item)
        if self.figure_list.currentRow() < 0:
            self.figure_list.setCurrentRow(0)

    def shown_figure(self) -> Optional[str]:
        item = self.figure_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None and self.figure_label.pixmap() else None

    def _show_figure(self, row: int) -> None:
        item = self.figure_list.item(row)
        pixmap = QPixmap(item.data(Qt.ItemDataRole.UserRole)) if item is not None else QPixmap()
        self._pixmap = pixmap
        self._fit_figure()

    def _fit_figure(self) -> None:
        pixmap = getattr(self, "_pixmap", None)
        if pixmap is None or pixmap.isNull():
            self.figure_label.clear()
            return
        size = self.figure_label.size()
        if pixmap.width() > size.width() or pixmap.height() > size.height():
            pixmap = pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self.figure_label.setPixmap(pixmap)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_figure()

    def reject(self) -> None:
        """Closing the window cancels a run; the window itself stays for the next time."""
        self.cancel()
        super().reject()
