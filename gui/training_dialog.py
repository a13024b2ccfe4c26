"""The training dialog: choose data, architecture and settings, watch the loss, save the model."""
from __future__ import annotations

import math
import time
from datetime import datetime
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QImage
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.data.digits import label_name
from engine.data.noise import noisy_samples
from engine.models import registry
from engine.models.registry import Architecture
from engine.progress import CancelToken, Progress
from engine.training.config import TrainConfig
from gui.formatting import format_duration
from gui.loss_plot import LossPlot
from gui.noise_preview import NoisePreview
from gui.qimage import pixels_to_qimage
from gui.settings import AppSettings
from gui.workers import Task, TaskRunner, engine_module, model_lock

DATA_CHOICES = (
    ("Folder of noisy/clean pairs", "pairs"),
    ("NoisyOffice", "noisyoffice"),
    ("MNIST digits", "mnist"),
    ("notMNIST letters (A–J)", "notmnist"),
)
DIGIT_DATA = ("mnist", "notmnist")
OPTIMIZERS = ("adam", "rmsprop", "adadelta")
LOSSES = (("mean squared error", "mse"), ("binary cross-entropy", "bce"))
PREVIEW_SAMPLES = 8


class TrainingDialog(QDialog):
    """Trains one model on a worker; ``model_saved`` carries the new file's path."""

    model_saved = Signal(object)  # Path
    architectures_loaded = Signal()
    parameters_counted = Signal(int)
    noise_preview_ready = Signal()
    training_finished = Signal(str)  # "done", "stopped", "cancelled" or "failed"

    def __init__(
        self, settings: AppSettings, runner: TaskRunner, parent: Optional[QWidget] = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a model")
        self.settings = settings
        self.runner = runner
        self._architectures: dict[str, list[Architecture]] = {}
        self._count_generation = 0
        self._preview_generation = 0
        self._train_task: Optional[Task] = None
        self._stop_token: Optional[CancelToken] = None
        self._output_existed = False
        self._output: Optional[Path] = None
        self._epochs_done = 0
        self._started = 0.0
        self._output_edited = False
        self._option_spins: dict[str, QSpinBox] = {}

        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(250)
        self._count_timer.timeout.connect(self._count_parameters)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(300)
        self._preview_timer.timeout.connect(self._update_noise_preview)

        self._build()
        self.resize(1000, 640)
        self._on_data_changed()

    # ================================================================ building
    def _build(self) -> None:
        data_box = QGroupBox("Data")
        data_form = QFormLayout(data_box)
        self.data_combo = QComboBox()
        for text, value in DATA_CHOICES:
            self.data_combo.addItem(text, value)
        self.data_combo.setCurrentIndex(1)
        self.data_combo.currentIndexChanged.connect(self._on_data_changed)
        self.folder_edit = QLineEdit()
        self.folder_edit.editingFinished.connect(self._schedule_preview)
        folder_button = QPushButton("Choose…")
        folder_button.clicked.connect(self._choose_data_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(folder_button)
        self.folder_label = QLabel("Folder")
        self.max_samples_spin = QSpinBox()
        self.max_samples_spin.setRange(0, 1_000_000)
        self.max_samples_spin.setSingleStep(1000)
        self.max_samples_spin.setSpecialValueText("all")
        self.noise_spin = QDoubleSpinBox()
        self.noise_spin.setRange(0.0, 2.0)
        self.noise_spin.setSingleStep(0.1)
        self.noise_spin.setValue(0.5)
        self.noise_spin.valueChanged.connect(self._schedule_preview)
        self.noise_preview = NoisePreview()
        data_form.addRow("Data set", self.data_combo)
        data_form.addRow(self.folder_label, folder_row)
        data_form.addRow("Samples", self.max_samples_spin)
        data_form.addRow("Noise factor", self.noise_spin)
        data_form.addRow(self.noise_preview)

        model_box = QGroupBox("Model")
        model_form = QFormLayout(model_box)
        self.arch_combo = QComboBox()
        self.arch_combo.currentIndexChanged.connect(self._on_arch_changed)
        self.arch_summary = QLabel("")
        self.arch_summary.setWordWrap(True)
        self.options_row = QHBoxLayout()
        self.options_widget = QWidget()
        self.options_widget.setLayout(self.options_row)
        self.options_row.setContentsMargins(0, 0, 0, 0)
        self.params_label = QLabel("–")
        model_form.addRow("Architecture", self.arch_combo)
        model_form.addRow("", self.arch_summary)
        model_form.addRow("Options", self.options_widget)
        model_form.addRow("Parameters", self.params_label)

        fit_box = QGroupBox("Training")
        fit_form = QFormLayout(fit_box)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setValue(10)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 8192)
        self.batch_spin.setValue(128)
        self.optimizer_combo = QComboBox()
        self.optimizer_combo.addItems(list(OPTIMIZERS))
        self.loss_combo = QComboBox()
        for text, value in LOSSES:
            self.loss_combo.addItem(f"{value} ({text})", value)
        self.output_edit = QLineEdit()
        self.output_edit.textEdited.connect(lambda _: setattr(self, "_output_edited", True))
        output_button = QPushButton("Choose…")
        output_button.clicked.connect(self._choose_output)
        output_row = QHBoxLayout()
        output_row.addWidget(self.output_edit, 1)
        output_row.addWidget(output_button)
        fit_form.addRow("Epochs", self.epochs_spin)
        fit_form.addRow("Batch size", self.batch_spin)
        fit_form.addRow("Optimizer", self.optimizer_combo)
        fit_form.addRow("Loss", self.loss_combo)
        fit_form.addRow("Save as", output_row)

        left = QVBoxLayout()
        left.addWidget(data_box)
        left.addWidget(model_box)
        left.addWidget(fit_box)
        left.addStretch(1)

        self.plot = LossPlot()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(False)
        self.status_label = QLabel("Choose the data and a model, then press Train.")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.train_button = QPushButton("Train")
        self.train_button.setDefault(True)
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
        right.addWidget(QLabel("Loss per epoch"))
        right.addWidget(self.plot, 1)
        right.addWidget(self.progress_bar)
        right.addWidget(self.status_label)
        right.addLayout(buttons)

        layout = QHBoxLayout(self)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setMaximumWidth(470)
        left.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(left_widget)
        layout.addLayout(right, 1)
        self._set_running(False)

    # ================================================================ choices
    def data_kind(self) -> str:
        return str(self.data_combo.currentData())

    def set_data(self, kind: str, folder: Optional[Path] = None) -> None:
        index = self.data_combo.findData(kind)
        if index < 0:
            raise ValueError(f"unknown data {kind!r}")
        self.folder_edit.setText(str(folder) if folder else "")
        if index == self.data_combo.currentIndex():
            self._on_data_changed()
        else:
            self.data_combo.setCurrentIndex(index)  # calls _on_data_changed

    def set_architecture(self, name: str, **options: int) -> None:
        """Select ``name`` (architectures must be loaded) and set its options."""
        index = self.arch_combo.findData(name)
        if index < 0:
            raise ValueError(f"architecture {name!r} is not offered for {self.data_kind()}")
        self.arch_combo.setCurrentIndex(index)
        for key, value in options.items():
            self._option_spins[key].setValue(int(value))

    def _on_data_changed(self) -> None:
        kind = self.data_kind()
        digits = kind in DIGIT_DATA
        self.folder_label.setText("Folder" if kind == "pairs" else "Local copy")
        self.folder_edit.setPlaceholderText(
            "Folder with noisy/ and clean/ sub-folders" if kind == "pairs"
            else "Optional: a folder holding the files (empty: download to the cache)"
        )
        for widget in (self.max_samples_spin, self.noise_spin, self.noise_preview):
            widget.setEnabled(digits)
        self.noise_preview.setVisible(digits)
        self._load_architectures(kind)
        self._schedule_preview()
        self._propose_output()

    def _load_architectures(self, kind: str) -> None:
        family = "digits" if kind in DIGIT_DATA else "document"
        if family not in self._architectures:
            self._architectures[family] = registry.architectures_for(kind if kind in DIGIT_DATA else "pairs")
        self._fill_architectures(family)

    def _fill_architectures(self, family: str) -> None:
        self.arch_combo.blockSignals(True)
        self.arch_combo.clear()
        for arch in self._architectures[family]:
            self.arch_combo.addItem(arch.name, arch.name)
            self.arch_combo.setItemData(self.arch_combo.count() - 1, arch.summary, Qt.ItemDataRole.ToolTipRole)
        preferred = self.arch_combo.findData("docunet" if family == "document" else "mnist_denoiser")
        self.arch_combo.setCurrentIndex(max(0, preferred))
        self.arch_combo.blockSignals(False)
        self._on_arch_changed()
        self.architectures_loaded.emit()

    def _current_arch(self) -> Optional[Architecture]:
        name = self.arch_combo.currentData()
        family = "digits" if self.data_kind() in DIGIT_DATA else "document"
        for arch in self._architectures.get(family, []):
            if arch.name == name:
                return arch
        return None

    def _on_arch_changed(self) -> None:
        arch = self._current_arch()
        while self.options_row.count():
            item = self.options_row.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._option_spins = {}
        if arch is None:
            return
        self.arch_summary.setText(arch.summary)
        for key, value in arch.defaults.items():
            if isinstance(value, int) and not isinstance(value, bool):
                spin = QSpinBox()
                spin.setRange(*arch.options.get(key, (1, 4096)))
                spin.setValue(value)
                spin.valueChanged.connect(self._schedule_count)
                self.options_row.addWidget(QLabel(key))
                self.options_row.addWidget(spin)
                self._option_spins[key] = spin
        if not self._option_spins:
            self.options_row.addWidget(QLabel("none"))
        self.options_row.addStretch(1)
        self.optimizer_combo.setCurrentText(arch.optimizer)
        self.loss_combo.setCurrentIndex(max(0, self.loss_combo.findData(arch.loss)))
        self.batch_spin.setValue(arch.batch_size)
        self._propose_output()
        self._schedule_count()

    def arch_options(self) -> dict[str, int]:
        return {key: spin.value() for key, spin in self._option_spins.items()}

    # Parameter count and noise preview (both on workers) ------------------------------
    def _schedule_count(self) -> None:
        self._count_generation += 1  # a count already under way is for an old choice
        self.params_label.setText("counting…")
        self._count_timer.start()

    def _count_parameters(self) -> None:
        name = self.arch_combo.currentData()
        if not name:
            return
        self._count_generation += 1
        generation = self._count_generation
        options = self.arch_options()
        self.runner.start(
            lambda t: _parameter_count(name, options),
            "io",
            name="parameter count",
            on_result=lambda n: self._on_count(generation, n),
            on_failed=lambda message: self.params_label.setText(f"cannot build: {message}"),
        )

    def _on_count(self, generation: int, count: int) -> None:
        if generation == self._count_generation:
            self.params_label.setText(f"{count:,}")
            self.parameters_counted.emit(count)

    def _schedule_preview(self) -> None:
        if self.data_kind() in DIGIT_DATA:
            self._preview_timer.start()

    def _update_noise_preview(self) -> None:
        kind = self.data_kind()
        if kind not in DIGIT_DATA:
            return
        self._preview_generation += 1
        generation = self._preview_generation
        folder = self.folder_edit.text().strip() or None
        factor = self.noise_spin.value()
        self.noise_preview.set_message("Loading samples…")
        self.runner.start(
            lambda t: _noise_samples(kind, factor, folder),
            "io",
            name="noise preview",
            on_result=lambda samples: self._on_noise_preview(generation, samples),
            on_failed=lambda message: self._on_noise_preview_failed(generation, message),
        )

    def _on_noise_preview(self, generation: int, samples: list[tuple[QImage, QImage, str]]) -> None:
        if generation == self._preview_generation:
            self.noise_preview.set_samples(samples)
            self.noise_preview_ready.emit()

    def _on_noise_preview_failed(self, generation: int, message: str) -> None:
        if generation == self._preview_generation:
            self.noise_preview.set_message(f"No preview: {message}")

    # Files -----------------------------------------------------------------------------
    def _choose_data_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)
            self._schedule_preview()

    def _models_folder(self) -> Path:
        folder = self.settings.models_folder()
        if folder is None:
            base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
            folder = Path(base) / "models"
        return folder

    def _propose_output(self) -> None:
        if self._output_edited:
            return
        arch = self.arch_combo.currentData() or "model"
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        self.output_edit.setText(str(self._models_folder() / f"{arch}-{self.data_kind()}-{stamp}.keras"))

    def set_output(self, path: Path) -> None:
        self._output_edited = True
        self.output_edit.setText(str(path))

    def _choose_output(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save the model as", self.output_edit.text(),
                                              "Keras models (*.keras)")
        if name:
            if not name.endswith(".keras"):
                name += ".keras"
            self.set_output(Path(name))
            self.settings.set_models_folder(Path(name).parent)

    # ================================================================ training
    @property
    def running(self) -> bool:
        return self._train_task is not None

    def start_training(self) -> None:
        if self.running:
            return
        output_text = self.output_edit.text().strip()
        if not output_text:
            self._fail("Choose where to save the model.")
            return
        output = Path(output_text).expanduser()
        if output.suffix != ".keras":
            output = output.with_suffix(".keras")
        kind, name, options = self.data_kind(), self.arch_combo.currentData(), self.arch_options()
        folder = self.folder_edit.text().strip()
        if kind == "pairs" and not folder:
            self._fail("Choose the folder of noisy/clean pairs first.")
            return
        if not name:
            self._fail("The model zoo has not loaded yet.")
            return
        config = TrainConfig(
            data=folder if kind == "pairs" else kind,
            data_folder=None if kind == "pairs" else (folder or None),
            arch=name, arch_options=options, epochs=self.epochs_spin.value(),
            batch_size=self.batch_spin.value(), optimizer=self.optimizer_combo.currentText(),
            loss=str(self.loss_combo.currentData()), noise_factor=self.noise_spin.value(),
            max_samples=self.max_samples_spin.value() or None,
        )
        self._output = output
        self._output_existed = output.exists()
        self._stop_token = CancelToken()
        self._epochs_done = 0
        self._started = time.monotonic()
        self.plot.clear(self.epochs_spin.value())
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
        self.cancel_training()

    def _on_progress(self, progress: Progress) -> None:
        epochs = max(1, self.epochs_spin.value())
        if progress.stage == "data":
            self.status_label.setText(progress.message or "Loading data…")
        elif progress.stage == "batch" and progress.total:
            fraction = (self._epochs_done + progress.done / progress.total) / epochs
            self.progress_bar.setValue(int(1000 * min(1.0, fraction)))
            loss = progress.values.get("loss")
            text = f"Epoch {self._epochs_done + 1} of {epochs}, batch {progress.done} of {progress.total}"
            if loss is not None and math.isfinite(loss):
                text += f" · loss {loss:.5f}"
            left = self._time_left(fraction)
            self.status_label.setText(text + (f" · about {left} left" if left else ""))
        elif progress.stage == "epoch":
            self._epochs_done = progress.done
            self.plot.add_epoch(progress.values)
            self.progress_bar.setValue(int(1000 * min(1.0, progress.done / epochs)))
            self.status_label.setText(progress.message or f"Epoch {progress.done} done")

    def _time_left(self, fraction: float) -> str:
        elapsed = time.monotonic() - self._started
        if fraction <= 0.02 or elapsed < 2:
            return ""
        return format_duration(elapsed / fraction * (1 - fraction))

    def _on_trained(self, result: tuple[Path, dict, bool]) -> None:
        path, metrics, stopped = result
        self._train_task = None
        self._set_running(False)
        self.progress_bar.setValue(1000)
        best = metrics.get("best_epoch")
        val = metrics.get("val_loss")
        detail = f" (best epoch {best}" + (f", val_loss {val:.5f})" if isinstance(val, float) else ")") if best else ""
        self.status_label.setText(f"{'Stopped early. ' if stopped else ''}Saved the model{detail} to {path}")
        self.settings.add_recent_model(path)
        self.model_saved.emit(path)
        self.training_finished.emit("stopped" if stopped else "done")
        self._propose_output()

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
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        for widget in (self.data_combo, self.folder_edit, self.arch_combo, self.options_widget,
                       self.epochs_spin, self.batch_spin, self.optimizer_combo, self.loss_combo,
                       self.output_edit, self.max_samples_spin, self.noise_spin):
            widget.setEnabled(not running)
        if not running:
            digits = self.data_kind() in DIGIT_DATA
            self.max_samples_spin.setEnabled(digits)
            self.noise_spin.setEnabled(digits)

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


# ==================================================================== worker functions

def _parameter_count(name: str, options: dict) -> int:
    zoo = engine_module("models.zoo")
    with model_lock:
        return zoo.parameter_count(name, **options)


def _noise_samples(kind: str, factor: float, folder: Optional[str]) -> list[tuple[QImage, QImage, str]]:
    clean, noisy, labels = noisy_samples(kind, PREVIEW_SAMPLES, factor, folder=folder)
    return [
        (pixels_to_qimage(c), pixels_to_qimage(n), label_name(kind, int(label)))
        for c, n, label in zip(clean, noisy, labels)
    ]


def _train(config: TrainConfig, output: Path, stop: CancelToken, task: Task) -> tuple[Path, dict, bool]:
    train = engine_module("training.fit").train
    result = train(config, output=output, progress=task.report, cancel=task.cancel_token, stop=stop)
    return Path(result.path or output), dict(result.info.metrics), bool(result.stopped_early)
