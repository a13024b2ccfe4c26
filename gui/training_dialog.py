"""The training dialog: the training form beside the loss plot, and the run it starts, stops or cancels.

The form (gui.training_form) offers every option of ``docclean train``, checked by the engine as it is
typed and remembered between sessions.  Training runs on the "training" worker; the loss plot shows each
batch faintly and each epoch as a point.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.io import ImageWriteError, check_output_folder
from engine.progress import CancelToken, Progress
from engine.training.config import TrainConfig
from engine.workspace import format_duration
from engine.vocabulary import Stage
from gui.loss_plot import LossPlot
from gui.settings import AppSettings
from gui.training_fields import sentence
from gui.training_form import TrainingForm
from gui.workers import Task, TaskRunner, engine_module


class TrainingDialog(QDialog):
    """Trains one model on a worker; ``model_saved`` carries the new file's path.

    The form's fields and methods (``epochs_spin``, ``arch_combo``, ``set_data``, ``config``, ...) are
    reached through the dialog too; see __getattr__.
    """

    model_saved = Signal(object)  # Path
    architectures_loaded = Signal()
    parameters_counted = Signal(int)
    noise_preview_ready = Signal()
    training_started = Signal()
    training_finished = Signal(str)  # "done", "stopped", "cancelled" or "failed"

    def __init__(
        self, settings: AppSettings, runner: TaskRunner, parent: Optional[QWidget] = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a model")
        self.runner = runner
        self._train_task: Optional[Task] = None
        self._stop_token: Optional[CancelToken] = None
        self._output_existed = False
        self._output: Optional[Path] = None
        self._epochs = 1
        self._epochs_done = 0
        self._started = 0.0
        self._problem = ""

        self.form = TrainingForm(settings, runner)
        self.form.changed.connect(self._on_form_changed)
        self.form.architectures_loaded.connect(self.architectures_loaded)
        self.form.parameters_counted.connect(self.parameters_counted)
        self.form.noise_preview_ready.connect(self.noise_preview_ready)
        self._build()
        self.resize(980, 640)
        self._on_form_changed()

    def __getattr__(self, name: str) -> Any:
        # Callers (the main window, scripts/screenshots.py, the tests) drive the fields as the dialog's own,
        # as they did before the form was split into boxes: dialog.set_data(...), dialog.arch_combo.
        form = self.__dict__.get("form")
        for part in (form, form.data, form.model) if form is not None else ():
            if hasattr(part, name):
                return getattr(part, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ================================================================ building
    def _build(self) -> None:
        scroll = QScrollArea()
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(450)

        self.plot = LossPlot()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(False)
        self.status_label = QLabel("Choose the data and a model, then start training.")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # What keeps Start disabled, in the engine's words, where the eye goes before pressing it.
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #c01010")
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem_label.hide()
        self.train_button = QPushButton("Start training")
        self.train_button.clicked.connect(self.start_training)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End training now and keep the best epoch so far")
        self.stop_button.clicked.connect(self.stop_training)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Abandon training; nothing is saved (Esc)")
        self.cancel_button.clicked.connect(self.cancel_training)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        right = QVBoxLayout()
        title = QLabel("Loss")
        title.setToolTip("Faint dots: the training loss during an epoch; lines: each epoch's training "
                         "and validation loss")
        right.addWidget(title)
        right.addWidget(self.plot, 1)
        right.addWidget(self.progress_bar)
        right.addWidget(self.status_label)
        right.addWidget(self.problem_label)
        right.addLayout(buttons)

        layout = QHBoxLayout(self)
        layout.addWidget(scroll)
        layout.addLayout(right, 1)
        for button in self.findChildren(QPushButton):
            # A dialog's buttons take Return by default: here it would start minutes of training.
            button.setAutoDefault(False)
            button.setDefault(False)
        self._set_running(False)

    # ================================================================ checking
    def _on_form_changed(self) -> None:
        self._validate()
        if not self.running and not self.plot.point_count() and not self.plot.batch_count():
            self.plot.clear(self.form.epochs_spin.value())  # the empty plot's axis spans the epochs chosen

    def _validate(self) -> None:
        self._problem = self.form.problem()
        self.problem_label.setText(self._problem)
        self.problem_label.setVisible(bool(self._problem))
        self.train_button.setEnabled(not self.running and not self._problem)
        self.train_button.setToolTip(self._problem or "Train with these settings")

    # ================================================================ training
    @property
    def running(self) -> bool:
        return self._train_task is not None

    def start_training(self) -> None:
        if self.running:
            return
        self._validate()
        output = self.form.output_path()
        if self._problem or output is None:
            return
        try:
            check_output_folder(output.parent)  # before minutes of training, not after
        except ImageWriteError as error:
            self._fail(sentence(str(error)))
            return
        config = self.form.config()
        self._output = output
        self._output_existed = output.exists()
        self._stop_token = CancelToken()
        self._epochs = config.epochs
        self._epochs_done = 0
        self._started = time.monotonic()
        self.plot.clear(config.epochs)
        self.progress_bar.setValue(0)
        self.status_label.setText("Starting…")
        stop = self._stop_token
        self._train_task = self.runner.start(
            lambda task: _train(config, output, stop, task),
            "training",
            name="training",
            on_progress=self._on_progress,
            on_result=self._on_trained,
            on_cancelled=self._on_cancelled,
            on_failed=self._on_failed,
        )
        self._set_running(True)
        self.training_started.emit()

    def stop_training(self) -> None:
        """End now, keeping (and saving) the best epoch so far."""
        if self._stop_token is not None and self.running:
            self._stop_token.cancel()
            self.status_label.setText("Stopping after this batch; the best epoch will be saved…")

    def cancel_training(self) -> None:
        """Abandon the run; nothing is saved."""
        if self._train_task is not None:
            self._train_task.cancel()
            self.status_label.setText("Cancelling…")

    def abandon(self) -> None:
        """The app is closing: cancel training and start no more background work."""
        self.cancel_training()
        self.form.abandon()

    def _on_progress(self, progress: Progress) -> None:
        epochs = max(1, self._epochs)
        if progress.stage == Stage.DATA:
            self.status_label.setText(sentence(progress.message) if progress.message else "Loading data…")
        elif progress.stage == Stage.BATCH and progress.total:
            position = self._epochs_done + progress.done / progress.total
            fraction = position / epochs
            self.progress_bar.setValue(int(1000 * min(1.0, fraction)))
            loss = progress.values.get("loss")
            text = f"Epoch {self._epochs_done + 1} of {epochs}, batch {progress.done} of {progress.total}"
            if loss is not None and math.isfinite(loss):
                self.plot.add_batch(position, loss)
                text += f" · loss {loss:.5f}"
            left = self._time_left(fraction)
            self.status_label.setText(text + (f" · about {left} left" if left else ""))
        elif progress.stage == Stage.EPOCH:
            self._epochs_done = progress.done
            self.plot.add_epoch(progress.values)
            self.progress_bar.setValue(int(1000 * min(1.0, progress.done / epochs)))
            self.status_label.setText(sentence(progress.message) if progress.message
                                      else f"Epoch {progress.done} done")

    def _time_left(self, fraction: float) -> str:
        elapsed = time.monotonic() - self._started
        if fraction <= 0.02 or elapsed < 2:
            return ""
        return format_duration(elapsed / fraction * (1 - fraction))

    def _on_trained(self, result: tuple[Path, dict[str, float], bool]) -> None:
        path, metrics, stopped = result
        self._train_task = None
        self._set_running(False)
        self.progress_bar.setValue(1000)
        best = metrics.get("best_epoch")
        val = metrics.get("val_loss")
        detail = f" (best epoch {best}" + (f", val_loss {val:.5f})" if isinstance(val, float) else ")") if best else ""
        self.status_label.setText(f"{'Stopped early. ' if stopped else ''}Saved the model{detail} to {path}")
        self.model_saved.emit(path)  # the window decides whether it joins the page cleaners and recents
        self.training_finished.emit("stopped" if stopped else "done")
        self.form.propose_output()

    def _on_cancelled(self) -> None:
        self._train_task = None
        self._set_running(False)
        # The engine checkpoints the best epoch as it goes; a cancelled run leaves nothing.
        if self._output is not None and not self._output_existed:
            self._output.unlink(missing_ok=True)
        self.status_label.setText("Cancelled; nothing was saved.")
        self.training_finished.emit("cancelled")

    def _on_failed(self, message: str) -> None:
        self._train_task = None
        self._set_running(False)
        self._fail(f"Training failed: {message}")
        self.training_finished.emit("failed")

    def _fail(self, message: str) -> None:
        self.status_label.setText(message)
        self.status_label.setStyleSheet("color: #c01010")
        QTimer.singleShot(8000, lambda: self.status_label.setStyleSheet(""))

    def _set_running(self, running: bool) -> None:
        self.form.setEnabled(not running)
        self.train_button.setEnabled(not running and not self._problem)
        self.stop_button.setEnabled(running)
        self.cancel_button.setEnabled(running)

    # ================================================================ keys and closing
    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Return confirms a typed value; it must never start (or end) minutes of training.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        # Esc cancels a run first; a second Esc closes the dialog.
        if self.running:
            self.cancel_training()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:
            # Training goes on in the background; the dialog can be shown again.
            self.status_label.setText("Training continues in the background…")
        super().closeEvent(event)


def _train(config: TrainConfig, output: Path, stop: CancelToken, task: Task) -> tuple[Path, dict[str, float], bool]:
    """Worker: train, and say where the model went, its metrics and whether it was stopped early."""
    train = engine_module("training.fit").train
    result = train(config, output=output, progress=task.report, cancel=task.cancel_token, stop=stop)
    return Path(result.path or output), dict(result.info.metrics), bool(result.stopped_early)
