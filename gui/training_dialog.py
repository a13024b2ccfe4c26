"""The training dialog: every option of ``docclean train``, checked by the engine as it is typed.

The choices (data, architectures and their option ranges, optimizers, losses,
schedules, precisions, limits) come from the engine's registry and
engine.training.config, so the dialog and the command line cannot drift apart.
What was chosen is remembered between sessions.  Training runs on the
"training" worker; the loss plot shows each batch faintly and each epoch as a
point.
"""
from __future__ import annotations

import math
import os
import re
import time
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, Optional

from PySide6.QtCore import QEvent, QObject, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QImage, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.data import digits, pairs
from engine.data.digits import label_name
from engine.data.noise import noisy_samples
from engine.data.sources import NOISYOFFICE, RECIPE_SUFFIX, SYNTHETIC, parse_data
from engine.io import ImageWriteError, check_output_folder
from engine.io.os_errors import describe_os_error
from engine.models import registry
from engine.models.modelfile import ModelFileError, check_output_name
from engine.models.registry import Architecture
from engine.progress import CancelToken, Progress
from engine.training.config import (
    LOSSES,
    LR_SCHEDULES,
    MAX_BATCH_PIXELS,
    MAX_EPOCHS,
    MAX_SEED,
    MAX_STEPS,
    MIN_CROP,
    MAX_CROP,
    OPTIMIZERS,
    PRECISIONS,
    TrainConfig,
    resolved,
)
from gui.fields import choice_combo, folder_field
from gui.formatting import format_duration
from gui.loss_plot import LossPlot
from gui.noise_preview import NoisePreview
from gui.qimage import pixels_to_qimage
from gui.settings import AppSettings
from gui.workers import Task, TaskRunner, engine_module, model_lock

PROJECT = Path(__file__).resolve().parents[1]

# Ways of naming page data that only the dialog needs (the engine takes them all as one string).
PAIRS, MIX, RECIPE = "pairs", "mix", "recipe"
DIGIT_DATA = digits.DATASETS
DIGIT_LABELS = {"mnist": "MNIST digits", "notmnist": "notMNIST letters (A–J)"}
DATA_CHOICES = (
    ("Folder of noisy/clean pairs", PAIRS),
    ("Synthetic pages", SYNTHETIC),
    ("NoisyOffice", NOISYOFFICE),
    ("A mix of sources", MIX),
    ("A recipe file (.toml)", RECIPE),
    *((DIGIT_LABELS.get(name, name), name) for name in DIGIT_DATA),
)
DATA_HINTS = {
    PAIRS: "Noisy pages in noisy/ (or source/), their clean versions in clean/ (or target/), paired by name.",
    SYNTHETIC: "Pages drawn and degraded on the fly: nothing to download.",
    NOISYOFFICE: "Office prints under stains, folds and wrinkles (UCI NoisyOffice).",
    MIX: "Sources with weights, e.g. noisyoffice,dibco:2,synthetic; named sources are sub-folders of the data folder.",
    RECIPE: "A TOML file listing the sources and their weights, like the bundled general.toml.",
}
DIGIT_HINT = "28×28 glyphs with Gaussian noise added. An empty local copy is downloaded once to the cache."
NOISYOFFICE_MISSING = "NoisyOffice is not downloaded; choose a folder of pairs or Synthetic."
LOSS_LABELS = {"mse": "mse (mean squared error)", "bce": "bce (binary cross-entropy)"}
PREVIEW_SAMPLES = 8
# Hints are faint; when the form is disabled (training) they grey like the rest.
_HINT_STYLE = "QLabel:enabled { color: palette(placeholder-text); }"
# What a new TrainConfig holds: the defaults the command line has too.
CONFIG_DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}


def local_noisyoffice() -> Optional[Path]:
    """A NoisyOffice folder on this machine: $DOCCLEAN_NOISYOFFICE, the shared data beside the project,
    or a download."""
    candidates = [os.environ.get(pairs.NOISYOFFICE_ENV) or "", PROJECT.parent / "shared" / "data" / NOISYOFFICE,
                  pairs.noisyoffice_cache_dir() / NOISYOFFICE]
    return next((Path(c) for c in candidates if c and Path(c).is_dir()), None)


def shared_data_folder() -> Optional[Path]:
    """The folder of named data sets (noisyoffice, dibco, mnist, ...) beside the project, if there is one."""
    folder = PROJECT.parent / "shared" / "data"
    return folder if folder.is_dir() else None


def _sentence(text: str) -> str:
    """An engine message as a sentence: capital first letter, full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


class _WheelGuard(QObject):
    """Lets the wheel scroll the form instead of changing whichever field passes under the pointer."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()  # ignored and filtered: Qt hands it on to the scroll area
            return True
        return False


class TrainingDialog(QDialog):
    """Trains one model on a worker; ``model_saved`` carries the new file's path."""

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
        self.settings = settings
        self.runner = runner
        self._family = ""
        self._count_generation = 0
        self._preview_generation = 0
        self._train_task: Optional[Task] = None
        self._stop_token: Optional[CancelToken] = None
        self._output_existed = False
        self._output: Optional[Path] = None
        self._epochs = 1
        self._epochs_done = 0
        self._started = 0.0
        self._output_edited = False
        self._restoring = False
        self._problem = ""
        self._option_spins: dict[str, QSpinBox] = {}
        self._wheel_guard = _WheelGuard(self)

        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(250)
        self._count_timer.timeout.connect(self._count_parameters)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(300)
        self._preview_timer.timeout.connect(self._update_noise_preview)

        self._build()
        self.resize(980, 640)
        self._restore()

    # ================================================================ building
    def _build(self) -> None:
        self.form_panel = QWidget()
        left = QVBoxLayout(self.form_panel)
        left.setContentsMargins(0, 0, 6, 0)
        left.addWidget(self._build_data())
        left.addWidget(self._build_model())
        left.addWidget(self._build_training())
        left.addWidget(self._build_advanced())
        left.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(self.form_panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(450)
        self.form_scroll = scroll

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
        for kind in (QAbstractSpinBox, QComboBox):
            for widget in self.form_panel.findChildren(kind):
                self._guard_wheel(widget)
        self._set_running(False)

    def _guard_wheel(self, widget: QWidget) -> None:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone must not focus it
        widget.installEventFilter(self._wheel_guard)

    @staticmethod
    def _path_field(choose: Callable[[], None]) -> tuple[QLineEdit, QHBoxLayout]:
        edit, row = folder_field("", choose)
        # A long path shows only its end in the field; the tooltip has all of it.
        edit.textChanged.connect(edit.setToolTip)
        return edit, row

    @staticmethod
    def _form(box: QWidget) -> QFormLayout:
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return form

    def _build_data(self) -> QGroupBox:
        box = QGroupBox("Data")
        self.data_form = form = self._form(box)
        self.data_combo = QComboBox()
        for text, value in DATA_CHOICES:
            self.data_combo.addItem(text, value)
        self.data_combo.currentIndexChanged.connect(self._on_data_changed)
        self.source_edit, self.source_row = self._path_field(self._choose_source)
        self.source_edit.textChanged.connect(self._on_source_changed)
        self.source_button = self.source_row.itemAt(1).widget()
        self.data_folder_edit, self.data_folder_row = self._path_field(self._choose_data_folder)
        self.data_folder_edit.textChanged.connect(self._on_changed)
        self.data_folder_edit.editingFinished.connect(self._schedule_preview)
        self.data_hint = QLabel()
        self.data_hint.setWordWrap(True)
        self.data_hint.setStyleSheet(_HINT_STYLE)
        self.max_samples_spin = QSpinBox()
        self.max_samples_spin.setRange(0, 2**31 - 1)
        self.max_samples_spin.setSingleStep(1000)
        self.max_samples_spin.setSpecialValueText("all")
        self.max_samples_spin.setToolTip("Use at most this many images (all: every image of the set)")
        self.noise_spin = QDoubleSpinBox()
        self.noise_spin.setRange(0.0, 10.0)
        self.noise_spin.setSingleStep(0.1)
        self.noise_spin.setValue(CONFIG_DEFAULTS["noise_factor"])
        self.noise_spin.setToolTip("Strength of the Gaussian noise added to the glyphs")
        self.noise_spin.valueChanged.connect(self._schedule_preview)
        self.reconstruct_check = QCheckBox("Learn to reconstruct (no noise added)")
        self.reconstruct_check.setChecked(not CONFIG_DEFAULTS["denoise"])
        self.reconstruct_check.toggled.connect(self._on_reconstruct_toggled)
        self.noise_preview = NoisePreview()
        form.addRow("Data", self.data_combo)
        form.addRow("Folder", self.source_row)
        form.addRow("Data folder", self.data_folder_row)
        form.addRow(self.data_hint)
        form.addRow("Max samples", self.max_samples_spin)
        form.addRow("Noise factor", self.noise_spin)
        form.addRow("", self.reconstruct_check)
        form.addRow(self.noise_preview)
        return box

    def _build_model(self) -> QGroupBox:
        box = QGroupBox("Model")
        self.model_form = form = self._form(box)
        self.arch_combo = QComboBox()
        self.arch_combo.currentIndexChanged.connect(self._on_arch_changed)
        self.arch_summary = QLabel("")
        self.arch_summary.setWordWrap(True)
        self.arch_summary.setStyleSheet(_HINT_STYLE)
        self.options_widget = QWidget()
        self.options_row = QHBoxLayout(self.options_widget)
        self.options_row.setContentsMargins(0, 0, 0, 0)
        self.params_label = QLabel("–")
        form.addRow("Architecture", self.arch_combo)
        form.addRow(self.arch_summary)
        form.addRow("Options", self.options_widget)
        form.addRow("Parameters", self.params_label)
        return box

    def _build_training(self) -> QGroupBox:
        box = QGroupBox("Training")
        self.training_form = form = self._form(box)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, MAX_EPOCHS)
        self.epochs_spin.setValue(CONFIG_DEFAULTS["epochs"])
        self.batch_spin = QSpinBox()
        # The engine allows MAX_BATCH_PIXELS per batch: this many crops of the smallest size;
        # a larger crop lowers the limit, which the check below states in words.
        self.batch_spin.setRange(0, MAX_BATCH_PIXELS // MIN_CROP**2)
        self.batch_spin.setToolTip("Images or crops per training step")
        self.learning_rate_edit = QLineEdit()
        self.learning_rate_edit.setPlaceholderText("the optimizer's default")
        self.learning_rate_edit.setToolTip("Step size of the optimizer, e.g. 0.002 or 2e-3")
        self.crop_spin = QSpinBox()
        self.crop_spin.setRange(MIN_CROP, MAX_CROP)
        self.crop_spin.setSingleStep(16)
        self.crop_spin.setSuffix(" px")
        self.crop_spin.setValue(CONFIG_DEFAULTS["crop"])
        self.crop_spin.setToolTip("Side of the square crops cut from the pages for training")
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setValue(CONFIG_DEFAULTS["steps_per_epoch"])
        self.steps_spin.setToolTip("Batches of crops in one epoch")
        self.output_edit, output_row = self._path_field(self._choose_output)
        self.output_edit.textEdited.connect(lambda _: setattr(self, "_output_edited", True))
        self.output_edit.textChanged.connect(self._on_changed)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("Batch size", self.batch_spin)
        form.addRow("Learning rate", self.learning_rate_edit)
        form.addRow("Crop", self.crop_spin)
        form.addRow("Steps per epoch", self.steps_spin)
        form.addRow("Save as", output_row)
        return box

    def _build_advanced(self) -> QWidget:
        self.advanced_button = QToolButton()
        self.advanced_button.setText("Advanced")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setAutoRaise(True)
        self.advanced_button.setStyleSheet("QToolButton { border: none; }")  # a section header, not a button
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.toggled.connect(self._on_advanced_toggled)
        self.advanced_panel = QGroupBox()
        self.advanced_form = form = self._form(self.advanced_panel)
        self.lr_schedule_combo = choice_combo(LR_SCHEDULES, {}, CONFIG_DEFAULTS["lr_schedule"])
        self.lr_schedule_combo.setToolTip("cosine: the learning rate falls smoothly to 2 % by the last step")
        # "" (None in TrainConfig) takes the architecture's seed setting; its text names it.
        self.optimizer_combo = choice_combo(("", *OPTIMIZERS), {}, "")
        self.loss_combo = choice_combo(("", *LOSSES), LOSS_LABELS, "")
        self.validation_spin = self._fraction(CONFIG_DEFAULTS["validation_split"],
                                              "Share of the documents (or images) that check each epoch")
        self.test_fraction_spin = self._fraction(CONFIG_DEFAULTS["test_fraction"],
                                                 "Share of the documents held out of training entirely, for "
                                                 "an honest evaluation later")
        self.patience_spin = QSpinBox()
        self.patience_spin.setRange(0, MAX_EPOCHS)
        self.patience_spin.setSpecialValueText("never")
        self.patience_spin.setSuffix(" epochs without progress")
        self.patience_spin.setToolTip("Stop early when the validation loss has not improved for this many epochs")
        self.seed_spin = QDoubleSpinBox()  # a QSpinBox stops at 2^31 - 1; the engine's seeds go to 2^32 - 1
        self.seed_spin.setDecimals(0)
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setValue(CONFIG_DEFAULTS["seed"])
        self.seed_spin.setToolTip("The same seed and settings give the same split and the same crops")
        self.precision_combo = choice_combo(PRECISIONS, {}, CONFIG_DEFAULTS["precision"])
        self.precision_combo.setToolTip("mixed_bfloat16 trains about twice as fast on CPUs with "
                                        "AVX512-BF16 or AMX; the saved model is float32 either way")
        form.addRow("LR schedule", self.lr_schedule_combo)
        form.addRow("Optimizer", self.optimizer_combo)
        form.addRow("Loss", self.loss_combo)
        form.addRow("Validation split", self.validation_spin)
        form.addRow("Test fraction", self.test_fraction_spin)
        form.addRow("Early stop after", self.patience_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Precision", self.precision_combo)
        self.advanced_panel.setVisible(False)

        for spin in (self.epochs_spin, self.batch_spin, self.crop_spin, self.steps_spin, self.max_samples_spin,
                     self.noise_spin, self.validation_spin, self.test_fraction_spin, self.patience_spin,
                     self.seed_spin):
            spin.valueChanged.connect(self._on_changed)
        for combo in (self.lr_schedule_combo, self.optimizer_combo, self.loss_combo, self.precision_combo):
            combo.currentIndexChanged.connect(self._on_changed)
        self.learning_rate_edit.textChanged.connect(self._on_changed)

        section = QWidget()
        layout = QVBoxLayout(section)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.advanced_button)
        layout.addWidget(self.advanced_panel)
        return section

    @staticmethod
    def _fraction(value: float, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0.0, 0.99)  # the engine takes [0, 1)
        spin.setSingleStep(0.05)
        spin.setValue(value)
        spin.setToolTip(tip)
        return spin

    def _on_advanced_toggled(self, shown: bool) -> None:
        self.advanced_panel.setVisible(shown)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self._on_changed()

    # What the command line calls each option (its --name as argparse stores it) -> the widget.
    def option_widgets(self) -> dict[str, QWidget]:
        return {
            "data": self.data_combo, "data_folder": self.data_folder_edit, "arch": self.arch_combo,
            "arch_options": self.options_widget, "bottleneck": self.options_widget,
            "epochs": self.epochs_spin, "batch_size": self.batch_spin, "optimizer": self.optimizer_combo,
            "loss": self.loss_combo, "learning_rate": self.learning_rate_edit,
            "lr_schedule": self.lr_schedule_combo, "validation_split": self.validation_spin,
            "test_fraction": self.test_fraction_spin, "patience": self.patience_spin, "seed": self.seed_spin,
            "noise_factor": self.noise_spin, "reconstruct": self.reconstruct_check,
            "max_samples": self.max_samples_spin, "crop": self.crop_spin, "steps_per_epoch": self.steps_spin,
            "precision": self.precision_combo, "output": self.output_edit,
        }

    def _numbers(self) -> dict[str, QSpinBox | QDoubleSpinBox]:
        return {name: widget for name, widget in self.option_widgets().items()
                if isinstance(widget, (QSpinBox, QDoubleSpinBox))}

    def _choices(self) -> dict[str, QComboBox]:
        return {"optimizer": self.optimizer_combo, "loss": self.loss_combo,
                "lr_schedule": self.lr_schedule_combo, "precision": self.precision_combo}

    # ================================================================ remembering
    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """Set several fields without checking or remembering the half-set state in between."""
        before, self._restoring = self._restoring, True
        try:
            yield
        finally:
            self._restoring = before

    def _restore(self) -> None:
        s = self.settings
        with self._quietly():
            for name, spin in self._numbers().items():
                spin.setValue(s.training_option(name, spin.value()))
            for name, combo in self._choices().items():
                remembered = s.training_option(name, str(combo.currentData()))
                combo.setCurrentIndex(max(0, combo.findData(remembered)))
            self.reconstruct_check.setChecked(s.training_option("reconstruct", self.reconstruct_check.isChecked()))
            self.learning_rate_edit.setText(s.training_option("learning_rate", ""))
            self.advanced_button.setChecked(s.training_option("advanced_shown", False))
            kind = s.training_data_kind()
            if self.data_combo.findData(kind) < 0:
                # First use: data this machine has, so the first run needs no download.
                kind = PAIRS if local_noisyoffice() is not None else SYNTHETIC
            self._select_kind(kind)
        self._after_change()

    def _remember(self) -> None:
        s = self.settings
        kind = self.data_kind()
        s.set_training_data_kind(kind)
        s.set_training_data_text(kind, self.source_edit.text(), self.data_folder_edit.text())
        arch = self.arch_combo.currentData()
        if arch:
            s.set_training_architecture(self._family, arch)
            s.set_training_arch_options(arch, self.arch_options())
        for name, spin in self._numbers().items():
            s.set_training_option(name, spin.value())
        for name, combo in self._choices().items():
            s.set_training_option(name, str(combo.currentData()))
        s.set_training_option("reconstruct", self.reconstruct_check.isChecked())
        s.set_training_option("learning_rate", self.learning_rate_edit.text().strip())
        s.set_training_option("advanced_shown", self.advanced_button.isChecked())

    def _on_changed(self) -> None:
        if not self._restoring:
            self._after_change()

    def _after_change(self) -> None:
        self._validate()
        self._remember()
        if not self.running and not self.plot.point_count() and not self.plot.batch_count():
            self.plot.clear(self.epochs_spin.value())  # the empty plot's axis spans the epochs chosen

    # ================================================================ data
    def data_kind(self) -> str:
        return str(self.data_combo.currentData())

    def set_data(self, kind: str, folder: Optional[Path | str] = None, source: Optional[Path | str] = None) -> None:
        """Choose data of ``kind`` (DATA_CHOICES).  ``folder`` is the folder of pairs for
        'pairs', else the data folder; ``source`` is the mix or the recipe.  What is not
        given stays as remembered or proposed."""
        if self.data_combo.findData(kind) < 0:
            raise ValueError(f"unknown data {kind!r}")
        with self._quietly():
            self._select_kind(kind)
            if kind == PAIRS and folder is not None:
                self.source_edit.setText(str(folder))
            elif folder is not None:
                self.data_folder_edit.setText(str(folder))
            if source is not None:
                self.source_edit.setText(str(source))
        self._schedule_preview()
        self._propose_output()
        self._after_change()

    def _select_kind(self, kind: str) -> None:
        self.data_combo.blockSignals(True)  # one update below, not one per signal
        self.data_combo.setCurrentIndex(self.data_combo.findData(kind))
        self.data_combo.blockSignals(False)
        self._on_data_changed()

    def _proposed_text(self, kind: str) -> tuple[str, str]:
        """(source, data folder) for a kind never used before: what this machine already has."""
        noisyoffice, shared = local_noisyoffice(), shared_data_folder()
        if kind == PAIRS:
            return str(noisyoffice or ""), ""
        if kind == NOISYOFFICE:
            return "", str(noisyoffice or "")
        if kind == RECIPE:
            recipes = sorted((PROJECT / "resources" / "recipes").glob(f"*{RECIPE_SUFFIX}"))
            return str(recipes[0] if recipes else ""), str(shared or "")
        if kind == MIX:
            return "", str(shared or "")
        if kind in DIGIT_DATA and shared is not None and digits.describe_folder(kind, shared / kind).has_test:
            return "", str(shared / kind)
        return "", ""

    def _on_data_changed(self) -> None:
        kind = self.data_kind()
        digit_data = kind in DIGIT_DATA
        source, folder = self.settings.training_data_text(kind)
        if not source and not folder:
            source, folder = self._proposed_text(kind)
        with self._quietly():
            self.source_edit.setText(source)
            self.data_folder_edit.setText(folder)
        form = self.data_form
        form.setRowVisible(self.source_row, kind in (PAIRS, MIX, RECIPE))
        form.setRowVisible(self.data_folder_row, kind not in (PAIRS, SYNTHETIC))
        label = form.labelForField(self.source_row)
        label.setText({MIX: "Sources", RECIPE: "Recipe"}.get(kind, "Folder"))
        self.source_button.setVisible(kind != MIX)
        self.source_edit.setPlaceholderText({
            PAIRS: "Folder with noisy/ and clean/ sub-folders",
            MIX: "e.g. noisyoffice,dibco:2,synthetic",
            RECIPE: "A .toml recipe, e.g. resources/recipes/general.toml",
        }.get(kind, ""))
        form.labelForField(self.data_folder_row).setText(
            "Data folder" if kind in (MIX, RECIPE) else "Local copy")
        self.data_folder_edit.setPlaceholderText(
            "Empty: download once to the cache" if digit_data
            else "Folder holding NoisyOffice" if kind == NOISYOFFICE
            else "Where named sources live, e.g. shared/data")
        self.data_hint.setText(DATA_HINTS.get(kind, DIGIT_HINT))
        for widget in (self.max_samples_spin, self.noise_spin, self.reconstruct_check, self.noise_preview):
            form.setRowVisible(widget, digit_data)
        for widget in (self.crop_spin, self.steps_spin):
            self.training_form.setRowVisible(widget, not digit_data)
        self.advanced_form.setRowVisible(self.test_fraction_spin, not digit_data)
        self._load_architectures(kind)
        self._schedule_preview()
        self._propose_output()
        self._on_changed()

    def _on_source_changed(self) -> None:
        self._propose_output()
        self._on_changed()

    def _on_reconstruct_toggled(self, reconstruct: bool) -> None:
        # Reconstructing feeds the clean glyphs: no noise to set or to preview.
        self.noise_spin.setEnabled(not reconstruct)
        self.noise_preview.setEnabled(not reconstruct)
        self._on_changed()

    def _data(self) -> tuple[str, Optional[str]]:
        """TrainConfig's ``data`` and ``data_folder`` for what the fields say."""
        kind = self.data_kind()
        source = self.source_edit.text().strip()
        folder = self.data_folder_edit.text().strip()
        folder = str(Path(folder).expanduser()) if folder else None
        if kind == PAIRS:
            return (str(Path(source).expanduser()) if source else ""), None
        if kind == RECIPE:
            return (str(Path(source).expanduser()) if source else ""), folder
        if kind == MIX:
            return source, folder
        if kind == SYNTHETIC:
            return SYNTHETIC, None
        return kind, folder

    def _data_problem(self) -> str:
        """Why the chosen data cannot be read (cheap checks only: no page is opened here)."""
        kind = self.data_kind()
        data, folder = self._data()
        if not data:
            return {PAIRS: "Choose the folder of noisy/clean pairs.",
                    MIX: "Type the sources to mix, e.g. noisyoffice,dibco:2,synthetic.",
                    RECIPE: "Choose a recipe file (.toml)."}[kind]
        if folder is not None and not Path(folder).is_dir():
            return f"{folder}: no such folder."
        if kind in DIGIT_DATA:
            found = digits.describe_folder(kind, folder) if folder else None
            return _sentence(f"cannot load {found.summary()}") if found and not found.has_test else ""
        names = [item.partition(":")[0].strip() for item in data.split(",")] if kind == MIX else [data]
        if NOISYOFFICE in names and folder is None and not _noisyoffice_known():
            # The engine's own message names the function that downloads it.
            return NOISYOFFICE_MISSING
        if kind == PAIRS and not Path(data).is_dir():
            return f"{data}: no such folder."
        try:
            parse_data(data, folder)
        except OSError as error:
            return _sentence(str(error) if error.errno is None else describe_os_error(error))
        except ValueError as error:
            return _sentence(str(error))
        return ""

    # ================================================================ model
    def set_architecture(self, name: str, **options: int) -> None:
        """Select ``name`` (offered for the chosen data) and set its options."""
        index = self.arch_combo.findData(name)
        if index < 0:
            raise ValueError(f"architecture {name!r} is not offered for {self.data_kind()}")
        self.arch_combo.setCurrentIndex(index)
        for key, value in options.items():
            self._option_spins[key].setValue(int(value))

    def _load_architectures(self, kind: str) -> None:
        family = registry.DIGITS if kind in DIGIT_DATA else registry.DOCUMENT
        if family == self._family:
            return
        self._family = family
        preferred = self.settings.training_architecture(family) or (
            "docunet" if family == registry.DOCUMENT else "mnist_denoiser")
        self.arch_combo.blockSignals(True)
        self.arch_combo.clear()
        for arch in registry.architectures_for(kind if kind in DIGIT_DATA else PAIRS):
            self.arch_combo.addItem(arch.name, arch.name)
            self.arch_combo.setItemData(self.arch_combo.count() - 1, arch.summary, Qt.ItemDataRole.ToolTipRole)
        self.arch_combo.setCurrentIndex(max(0, self.arch_combo.findData(preferred)))
        self.arch_combo.blockSignals(False)
        self._on_arch_changed()
        self.architectures_loaded.emit()

    def _current_arch(self) -> Optional[Architecture]:
        return registry.ARCHITECTURES.get(str(self.arch_combo.currentData()))

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
        remembered = self.settings.training_arch_options(arch.name)
        for key, (low, high) in arch.options.items():
            spin = QSpinBox()
            default = arch.defaults.get(key)
            if default is None:
                # The builder's own default, which only Keras knows: left out of the options.
                spin.setRange(low - 1, high)
                spin.setSpecialValueText("default")
                default = low - 1
            else:
                spin.setRange(low, high)
            spin.setValue(remembered.get(key, default))
            spin.setToolTip(f"{key}: {low} to {high}")
            spin.valueChanged.connect(self._schedule_count)
            spin.valueChanged.connect(self._on_changed)
            self._guard_wheel(spin)
            self.options_row.addWidget(QLabel(key))
            self.options_row.addWidget(spin, 1)
            self._option_spins[key] = spin
        self.model_form.setRowVisible(self.options_widget, bool(arch.options))
        # The optimizer, loss and batch size left at "default" take the architecture's seed settings.
        self.optimizer_combo.setItemText(0, f"default ({arch.optimizer})")
        self.loss_combo.setItemText(0, f"default ({arch.loss})")
        self.batch_spin.setSpecialValueText(f"default ({arch.batch_size})")
        self._propose_output()
        self._schedule_count()
        self._on_changed()

    def arch_options(self) -> dict[str, int]:
        return {key: spin.value() for key, spin in self._option_spins.items()
                if not (spin.specialValueText() and spin.value() == spin.minimum())}

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
        folder = self.data_folder_edit.text().strip() or None
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
    def _choose_source(self) -> None:
        current = self.source_edit.text()
        if self.data_kind() == RECIPE:
            name, _ = QFileDialog.getOpenFileName(self, "Training recipe", current,
                                                  f"Recipes (*{RECIPE_SUFFIX})")
        else:
            name = QFileDialog.getExistingDirectory(self, "Folder of noisy/clean pairs", current)
        if name:
            self.source_edit.setText(name)

    def _choose_data_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_folder_edit.text())
        if folder:
            self.data_folder_edit.setText(folder)
            self._schedule_preview()

    def _models_folder(self) -> Path:
        folder = self.settings.models_folder()
        if folder is None:
            base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
            folder = Path(base) / "models"
        return folder

    def _data_label(self) -> str:
        """A short name of the data for a file name: the set, the folder or the recipe."""
        kind, source = self.data_kind(), self.source_edit.text().strip()
        label = Path(source).stem if kind in (PAIRS, RECIPE) and source else kind
        return re.sub(r"[^A-Za-z0-9_-]+", "_", label).strip("_") or kind

    def _propose_output(self) -> None:
        if self._output_edited:
            return
        arch = self.arch_combo.currentData() or "model"
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        self.output_edit.setText(str(self._models_folder() / f"{arch}-{self._data_label()}-{stamp}.keras"))

    def set_output(self, path: Path) -> None:
        self._output_edited = True
        self.output_edit.setText(str(path))

    def output_path(self) -> Optional[Path]:
        text = self.output_edit.text().strip()
        return Path(text).expanduser() if text else None

    def _choose_output(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save the model as", self.output_edit.text(),
                                              "Keras models (*.keras)")
        if name:
            if not name.endswith(".keras"):
                name += ".keras"
            self.set_output(Path(name))
            self.settings.set_models_folder(Path(name).parent)

    # ================================================================ checking
    def config(self) -> TrainConfig:
        """The TrainConfig the fields describe, unchecked."""
        data, folder = self._data()
        rate_text = self.learning_rate_edit.text().strip()
        try:
            learning_rate: object = float(rate_text) if rate_text else None
        except ValueError:
            learning_rate = rate_text  # the engine's check says what is wrong with it
        return TrainConfig(
            data=data, data_folder=folder, arch=self.arch_combo.currentData(), arch_options=self.arch_options(),
            epochs=self.epochs_spin.value(), batch_size=self.batch_spin.value() or None,
            optimizer=self.optimizer_combo.currentData() or None, loss=self.loss_combo.currentData() or None,
            learning_rate=learning_rate, lr_schedule=str(self.lr_schedule_combo.currentData()),
            validation_split=self.validation_spin.value(), test_fraction=self.test_fraction_spin.value(),
            patience=self.patience_spin.value() or None, seed=int(self.seed_spin.value()),
            noise_factor=self.noise_spin.value(), denoise=not self.reconstruct_check.isChecked(),
            max_samples=self.max_samples_spin.value() or None, crop=self.crop_spin.value(),
            steps_per_epoch=self.steps_spin.value(), precision=str(self.precision_combo.currentData()),
        )

    def problem(self) -> str:
        """Why training cannot start with these settings, in one sentence ('' when it can)."""
        problem = self._data_problem()
        if problem:
            return problem
        try:
            resolved(self.config())
        except ValueError as error:
            return _sentence(str(error))
        output = self.output_path()
        if output is None:
            return "Choose where to save the model."
        try:
            check_output_name(output)
        except ModelFileError as error:
            return _sentence(str(error))
        return ""

    def _validate(self) -> None:
        self._problem = self.problem()
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
        output = self.output_path()
        if self._problem or output is None:
            return
        try:
            check_output_folder(output.parent)  # before minutes of training, not after
        except ImageWriteError as error:
            self._fail(_sentence(str(error)))
            return
        config = self.config()
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
        self._count_timer.stop()
        self._preview_timer.stop()

    def _on_progress(self, progress: Progress) -> None:
        epochs = max(1, self._epochs)
        if progress.stage == "data":
            self.status_label.setText(_sentence(progress.message) if progress.message else "Loading data…")
        elif progress.stage == "batch" and progress.total:
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
        elif progress.stage == "epoch":
            self._epochs_done = progress.done
            self.plot.add_epoch(progress.values)
            self.progress_bar.setValue(int(1000 * min(1.0, progress.done / epochs)))
            self.status_label.setText(_sentence(progress.message) if progress.message
                                      else f"Epoch {progress.done} done")

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
        self.model_saved.emit(path)  # the window decides whether it joins the page cleaners and recents
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
        self.form_panel.setEnabled(not running)
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


def _noisyoffice_known() -> bool:
    """Whether the engine finds NoisyOffice without a data folder (it looks at $DOCCLEAN_NOISYOFFICE)."""
    try:
        pairs.noisyoffice_folder(None)
    except FileNotFoundError:
        return False
    return True


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
