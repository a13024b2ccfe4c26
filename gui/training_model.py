"""The Model box of the training form: the architectures the engine offers for the chosen data, a spin box
for each of the chosen one's options within the engine's ranges, and its parameter count (on a worker)."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from engine.models import registry
from engine.models.bundled import BUNDLED_MODELS
from engine.models.registry import Architecture
from gui.settings import AppSettings
from gui.training_data import DIGIT_DATA, PAIRS
from gui.training_fields import form_rows, guard_wheel, hint_label, path_field
from gui.workers import TaskRunner, engine_module, model_lock


class ModelSection(QGroupBox):
    """The Model box: an architecture for the chosen data and its options."""

    arch_changed = Signal(object)  # the Architecture, once its option fields are built
    edited = Signal()  # an option changed
    architectures_loaded = Signal()
    parameters_counted = Signal(int)

    def __init__(self, settings: AppSettings, runner: TaskRunner, parent: Optional[QWidget] = None) -> None:
        super().__init__("Model", parent)
        self.settings = settings
        self.runner = runner
        self._family = ""
        self._kind = ""  # the data the architectures are offered for
        self._count_generation = 0
        self._option_spins: dict[str, QSpinBox] = {}
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(250)
        self._count_timer.timeout.connect(self._count_parameters)

        self._rows = form = form_rows(self)
        self.arch_combo = QComboBox()
        self.arch_combo.currentIndexChanged.connect(self._on_arch_changed)
        self.arch_summary = hint_label()
        self.options_widget = QWidget()
        self.options_row = QHBoxLayout(self.options_widget)
        self.options_row.setContentsMargins(0, 0, 0, 0)
        self.params_label = QLabel("–")
        self.init_from_edit, start_row = path_field(self._choose_start)
        self.init_from_edit.setPlaceholderText("random weights")
        self.init_from_edit.setToolTip(f"To fine-tune a model: its .keras file, or a bundled model's name "
                                       f"({', '.join(BUNDLED_MODELS)}); empty starts from random weights")
        self.init_from_edit.textChanged.connect(self.edited)
        form.addRow("Architecture", self.arch_combo)
        form.addRow(self.arch_summary)
        form.addRow("Options", self.options_widget)
        form.addRow("Parameters", self.params_label)
        form.addRow("Start from", start_row)

    def load_architectures(self, kind: str) -> None:
        """Offer the architectures for data of ``kind``, the one chosen last for that family first."""
        self._kind = kind
        family = registry.DIGITS if kind in DIGIT_DATA else registry.DOCUMENT
        if family == self._family:
            return
        self._family = family
        preferred = self.settings.training_architecture[family] or (
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

    def set_architecture(self, name: str, **options: int) -> None:
        """Select ``name`` (offered for the chosen data) and set its options."""
        index = self.arch_combo.findData(name)
        if index < 0:
            raise ValueError(f"architecture {name!r} is not offered for {self._kind}")
        self.arch_combo.setCurrentIndex(index)
        for key, value in options.items():
            self._option_spins[key].setValue(int(value))

    def current(self) -> Optional[Architecture]:
        return registry.ARCHITECTURES.get(str(self.arch_combo.currentData()))

    def arch_options(self) -> dict[str, int]:
        """The options set; one left at "default" is the builder's to choose, so it is left out."""
        return {key: spin.value() for key, spin in self._option_spins.items()
                if not (spin.specialValueText() and spin.value() == spin.minimum())}

    def init_from(self) -> Optional[str]:
        """The model to fine-tune (a file or a bundled model's name), or None for random weights."""
        return self.init_from_edit.text().strip() or None

    def _choose_start(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Start from the model", self.init_from_edit.text(),
                                              "Keras models (*.keras)")
        if name:
            self.init_from_edit.setText(name)

    def remember(self) -> None:
        arch = self.arch_combo.currentData()
        if arch:
            self.settings.training_architecture[self._family] = arch
            self.settings.set_training_arch_options(arch, self.arch_options())

    def abandon(self) -> None:
        """Start no more counts."""
        self._count_timer.stop()

    def _on_arch_changed(self) -> None:
        arch = self.current()
        while self.options_row.count():
            item = self.options_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self._option_spins = {}
        if arch is None:
            return
        self.arch_summary.setText(arch.summary)
        remembered = self.settings.training_arch_options(arch.name)
        for key, (low, high) in arch.options.items():
            spin = _option_spin(key, low, high, arch.defaults.get(key), remembered.get(key), arch.notes.get(key))
            spin.valueChanged.connect(self._schedule_count)
            spin.valueChanged.connect(self.edited)
            guard_wheel(spin)
            self.options_row.addWidget(QLabel(key))
            self.options_row.addWidget(spin, 1)
            self._option_spins[key] = spin
        self._rows.setRowVisible(self.options_widget, bool(arch.options))
        self._schedule_count()
        self.arch_changed.emit(arch)

    # The parameter count (on a worker) -------------------------------------------------
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


def _option_spin(key: str, low: int, high: int, default: Optional[int], remembered: Optional[int],
                 note: Optional[str] = None) -> QSpinBox:
    """A spin box for option ``key`` of an architecture, from ``low`` to ``high``."""
    spin = QSpinBox()
    if default is None:
        # The builder's own default, which only Keras knows: left out of the options.
        spin.setRange(low - 1, high)
        spin.setSpecialValueText("default")
        default = low - 1
    else:
        spin.setRange(low, high)
    spin.setValue(default if remembered is None else remembered)
    spin.setToolTip(f"{key}: {low} to {high}" + (f": {note}" if note else ""))
    return spin


def _parameter_count(name: str, options: dict[str, int]) -> int:
    """Worker: how many parameters architecture ``name`` has with ``options``."""
    zoo = engine_module("models.zoo")
    with model_lock:
        return int(zoo.parameter_count(name, **options))
