"""The training form: one field for every option of ``docclean train``, in the engine's vocabulary and limits.

It holds the Data and Model boxes (gui.training_data, gui.training_model), the Training box and the
Advanced section; reads a TrainConfig out of its fields, says in one sentence why they cannot train,
proposes where to save the model, and remembers every value in AppSettings between sessions.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator, Optional, cast

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGroupBox,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ModelFileError
from engine.models.modelfile import check_output_name
from engine.models.registry import Architecture
from engine.training.config import (
    LOSSES,
    LR_SCHEDULES,
    MAX_BATCH_PIXELS,
    MAX_CROP,
    MAX_EPOCHS,
    MAX_SEED,
    MAX_STEPS,
    MIN_CROP,
    OPTIMIZERS,
    PRECISIONS,
    TrainConfig,
    resolved,
)
from gui.fields import choice_combo
from gui.settings import AppSettings
from gui.training_data import DIGIT_DATA, DataSection
from gui.training_fields import CONFIG_DEFAULTS, form_rows, guard_wheel, path_field, sentence
from gui.training_model import ModelSection
from gui.workers import TaskRunner

LOSS_LABELS = {"mse": "mse (mean squared error)", "bce": "bce (binary cross-entropy)",
               "bce_dice": "bce_dice (cross-entropy + Dice, for ink models)"}


class TrainingForm(QWidget):
    """Every training option as a field; ``changed`` after each change, once it is remembered."""

    changed = Signal()  # not sent while several fields are set as one change (restoring, set_data)
    architectures_loaded = Signal()
    parameters_counted = Signal(int)
    noise_preview_ready = Signal()

    def __init__(self, settings: AppSettings, runner: TaskRunner, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._restoring = False
        self._output_edited = False
        self.data = DataSection(settings, runner)
        self.model = ModelSection(settings, runner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(self.data)
        layout.addWidget(self.model)
        layout.addWidget(self._build_training())
        layout.addWidget(self._build_advanced())
        layout.addStretch(1)

        self.data.kind_changed.connect(self._on_kind_changed)
        self.data.source_edited.connect(self._on_source_edited)
        self.data.edited.connect(self._on_changed)
        self.data.preview_ready.connect(self.noise_preview_ready)
        self.model.arch_changed.connect(self._on_arch_changed)
        self.model.edited.connect(self._on_changed)
        self.model.architectures_loaded.connect(self.architectures_loaded)
        self.model.parameters_counted.connect(self.parameters_counted)
        for kind in (QAbstractSpinBox, QComboBox):
            for widget in self.findChildren(kind):
                guard_wheel(widget)
        self._restore()

    # ================================================================ building
    def _build_training(self) -> QGroupBox:
        box = QGroupBox("Training")
        self._training_rows = form = form_rows(box)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, MAX_EPOCHS)
        self.epochs_spin.setValue(CONFIG_DEFAULTS.epochs)
        self.batch_spin = QSpinBox()
        # The engine allows MAX_BATCH_PIXELS per batch: this many crops of the smallest size;
        # a larger crop lowers the limit, which the check below states in words.
        self.batch_spin.setRange(0, MAX_BATCH_PIXELS // MIN_CROP**2)
        self.batch_spin.setToolTip("Images or crops per training step")
        self.learning_rate_edit = QLineEdit()
        self.learning_rate_edit.setPlaceholderText("the optimizer's default")
        self.learning_rate_edit.setToolTip("Step size of the optimizer, e.g. 0.002 or 2e-3")
        self.learning_rate_edit.textChanged.connect(self._on_changed)
        self.crop_spin = QSpinBox()
        self.crop_spin.setRange(MIN_CROP, MAX_CROP)
        self.crop_spin.setSingleStep(16)
        self.crop_spin.setSuffix(" px")
        self.crop_spin.setValue(CONFIG_DEFAULTS.crop)
        self.crop_spin.setToolTip("Side of the square crops cut from the pages for training")
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setValue(CONFIG_DEFAULTS.steps_per_epoch)
        self.steps_spin.setToolTip("Batches of crops in one epoch")
        self.output_edit, output_row = path_field(self._choose_output)
        self.output_edit.textEdited.connect(lambda _: setattr(self, "_output_edited", True))
        self.output_edit.textChanged.connect(self._on_changed)
        for spin in (self.epochs_spin, self.batch_spin, self.crop_spin, self.steps_spin):
            spin.valueChanged.connect(self._on_changed)
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
        self._advanced_rows = form = form_rows(self.advanced_panel)
        self.lr_schedule_combo = choice_combo(LR_SCHEDULES, {}, CONFIG_DEFAULTS.lr_schedule)
        self.lr_schedule_combo.setToolTip("cosine: the learning rate falls smoothly to 2 % by the last step")
        # "" (None in TrainConfig) takes the architecture's seed setting; its text names it.
        self.optimizer_combo = choice_combo(("", *OPTIMIZERS), {}, "")
        self.loss_combo = choice_combo(("", *LOSSES), LOSS_LABELS, "")
        self.validation_spin = _fraction(CONFIG_DEFAULTS.validation_split,
                                         "Share of the documents (or images) that check each epoch")
        self.test_fraction_spin = _fraction(CONFIG_DEFAULTS.test_fraction,
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
        self.seed_spin.setValue(CONFIG_DEFAULTS.seed)
        self.seed_spin.setToolTip("The same seed and settings give the same split and the same crops")
        self.precision_combo = choice_combo(PRECISIONS, {}, CONFIG_DEFAULTS.precision)
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
        for spin in (self.validation_spin, self.test_fraction_spin, self.patience_spin, self.seed_spin):
            spin.valueChanged.connect(self._on_changed)
        for combo in self._choices().values():
            combo.currentIndexChanged.connect(self._on_changed)

        section = QWidget()
        layout = QVBoxLayout(section)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.advanced_button)
        layout.addWidget(self.advanced_panel)
        return section

    def _on_advanced_toggled(self, shown: bool) -> None:
        self.advanced_panel.setVisible(shown)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self._on_changed()

    # What the command line calls each option (its --name as argparse stores it) -> the widget.
    def option_widgets(self) -> dict[str, QWidget]:
        data, model = self.data, self.model
        return {
            "data": data.data_combo, "data_folder": data.data_folder_edit, "arch": model.arch_combo,
            "arch_options": model.options_widget, "bottleneck": model.options_widget,
            "epochs": self.epochs_spin, "batch_size": self.batch_spin, "optimizer": self.optimizer_combo,
            "loss": self.loss_combo, "learning_rate": self.learning_rate_edit,
            "lr_schedule": self.lr_schedule_combo, "validation_split": self.validation_spin,
            "test_fraction": self.test_fraction_spin, "patience": self.patience_spin, "seed": self.seed_spin,
            "noise_factor": data.noise_spin, "reconstruct": data.reconstruct_check,
            "max_samples": data.max_samples_spin, "crop": self.crop_spin, "steps_per_epoch": self.steps_spin,
            "precision": self.precision_combo, "init_from": model.init_from_edit, "output": self.output_edit,
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
                if isinstance(spin, QSpinBox):  # whole numbers read back as whole numbers
                    spin.setValue(s.training_option(name, spin.value()))
                else:
                    spin.setValue(s.training_option(name, spin.value()))
            for name, combo in self._choices().items():
                remembered = s.training_option(name, str(combo.currentData()))
                combo.setCurrentIndex(max(0, combo.findData(remembered)))
            reconstruct = self.data.reconstruct_check
            reconstruct.setChecked(s.training_option("reconstruct", reconstruct.isChecked()))
            self.learning_rate_edit.setText(s.training_option("learning_rate", ""))
            self.model.init_from_edit.setText(s.training_option("init_from", ""))
            self.advanced_button.setChecked(s.training_option("advanced_shown", False))
            self.data.restore()
        self._after_change()

    def _remember(self) -> None:
        s = self.settings
        self.data.remember()
        self.model.remember()
        for name, spin in self._numbers().items():
            s.set_training_option(name, spin.value())
        for name, combo in self._choices().items():
            s.set_training_option(name, str(combo.currentData()))
        s.set_training_option("reconstruct", self.data.reconstruct_check.isChecked())
        s.set_training_option("learning_rate", self.learning_rate_edit.text().strip())
        s.set_training_option("init_from", self.model.init_from_edit.text().strip())
        s.set_training_option("advanced_shown", self.advanced_button.isChecked())

    def _on_changed(self) -> None:
        if not self._restoring:
            self._after_change()

    def _after_change(self) -> None:
        self._remember()
        self.changed.emit()

    # ================================================================ data and model
    def data_kind(self) -> str:
        return self.data.kind()

    def set_data(self, kind: str, folder: Optional[Path | str] = None, source: Optional[Path | str] = None) -> None:
        """Choose data of ``kind`` (DATA_CHOICES).  ``folder`` is the folder of pairs for
        'pairs', else the data folder; ``source`` is the mix or the recipe.  What is not
        given stays as remembered or proposed."""
        with self._quietly():
            self.data.set_data(kind, folder, source)
        self.data.schedule_preview()
        self.propose_output()
        self._after_change()

    def _on_kind_changed(self, kind: str) -> None:
        digit_data = kind in DIGIT_DATA
        for widget in (self.crop_spin, self.steps_spin):
            self._training_rows.setRowVisible(widget, not digit_data)
        self._advanced_rows.setRowVisible(self.test_fraction_spin, not digit_data)
        self.model.load_architectures(kind)
        self.propose_output()
        self._on_changed()

    def _on_source_edited(self) -> None:
        self.propose_output()
        self._on_changed()

    def set_architecture(self, name: str, **options: int) -> None:
        """Select ``name`` (offered for the chosen data) and set its options."""
        self.model.set_architecture(name, **options)

    def _on_arch_changed(self, arch: Architecture) -> None:
        # The optimizer, loss and batch size left at "default" take the architecture's seed settings.
        self.optimizer_combo.setItemText(0, f"default ({arch.optimizer})")
        self.loss_combo.setItemText(0, f"default ({arch.loss})")
        self.batch_spin.setSpecialValueText(f"default ({arch.batch_size})")
        self.propose_output()
        self._on_changed()

    def abandon(self) -> None:
        """Start no more background work (parameter counts, noise previews)."""
        self.model.abandon()
        self.data.abandon()

    # ================================================================ where the model goes
    def _models_folder(self) -> Path:
        folder = self.settings.models_folder
        if folder is None:
            base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
            folder = Path(base) / "models"
        return folder

    def propose_output(self) -> None:
        """Name the model after its architecture, data and time, unless a name was typed or chosen."""
        if self._output_edited:
            return
        arch = self.model.arch_combo.currentData() or "model"
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        self.output_edit.setText(str(self._models_folder() / f"{arch}-{self.data.label()}-{stamp}.keras"))

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
            self.settings.models_folder = Path(name).parent

    # ================================================================ checking
    def config(self) -> TrainConfig:
        """The TrainConfig the fields describe, unchecked."""
        data, folder = self.data.data()
        rate_text = self.learning_rate_edit.text().strip()
        try:
            learning_rate: object = float(rate_text) if rate_text else None
        except ValueError:
            learning_rate = rate_text  # the engine's check says what is wrong with it
        return TrainConfig(
            data=data, data_folder=folder, arch=self.model.arch_combo.currentData(),
            arch_options=self.model.arch_options(), epochs=self.epochs_spin.value(),
            batch_size=self.batch_spin.value() or None, optimizer=self.optimizer_combo.currentData() or None,
            # Text that is not a number goes to the engine as it is: its check words the refusal.
            loss=self.loss_combo.currentData() or None, learning_rate=cast(Optional[float], learning_rate),
            lr_schedule=str(self.lr_schedule_combo.currentData()), validation_split=self.validation_spin.value(),
            test_fraction=self.test_fraction_spin.value(), patience=self.patience_spin.value() or None,
            seed=int(self.seed_spin.value()), noise_factor=self.data.noise_spin.value(),
            denoise=not self.data.reconstruct_check.isChecked(),
            max_samples=self.data.max_samples_spin.value() or None, crop=self.crop_spin.value(),
            steps_per_epoch=self.steps_spin.value(), precision=str(self.precision_combo.currentData()),
            init_from=self.model.init_from(),
        )

    def problem(self) -> str:
        """Why training cannot start with these settings, in one sentence ('' when it can)."""
        problem = self.data.problem()
        if problem:
            return problem
        try:
            resolved(self.config())
        except ValueError as error:
            return sentence(str(error))
        output = self.output_path()
        if output is None:
            return "Choose where to save the model."
        try:
            check_output_name(output)
        except ModelFileError as error:
            return sentence(str(error))
        return ""


def _fraction(value: float, tip: str) -> QDoubleSpinBox:
    """A spin box for a share of the data, as the engine takes it: from 0 up to (not including) 1."""
    spin = QDoubleSpinBox()
    spin.setRange(0.0, 0.99)
    spin.setSingleStep(0.05)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin
