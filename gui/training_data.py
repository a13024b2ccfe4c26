"""Where training data comes from: the kinds of data the training form offers, the data this machine already
has (a local NoisyOffice, the shared data beside the project), the checks a choice of data must pass, and
the form's Data box with its preview of the noisy digits."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QLabel,
                               QLayout, QSpinBox, QWidget)

from engine.data import digits, pairs
from engine.data.digits import label_name
from engine.data.noise import noisy_samples
from engine.data.catalogue import CATALOGUE, DIGIT_SETS, NOISYOFFICE, SYNTHETIC
from engine.data.sources import RECIPE_SUFFIX, parse_data
from engine.io.os_errors import describe_os_error
from gui.noise_preview import NoisePreview
from gui.qimage import pixels_to_qimage
from gui.settings import AppSettings
from gui.training_fields import CONFIG_DEFAULTS, form_rows, hint_label, path_field, sentence
from gui.workers import TaskRunner

PROJECT = Path(__file__).resolve().parents[1]

# Ways of naming page data that only the form needs (the engine takes them all as one string).
PAIRS, MIX, RECIPE = "pairs", "mix", "recipe"
DIGIT_DATA = DIGIT_SETS
DATA_CHOICES = (
    ("Folder of noisy/clean pairs", PAIRS),
    ("Synthetic pages", SYNTHETIC),
    ("NoisyOffice", NOISYOFFICE),
    ("A mix of sources", MIX),
    ("A recipe file (.toml)", RECIPE),
    *((CATALOGUE[name].label, name) for name in DIGIT_DATA),
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
PREVIEW_SAMPLES = 8


# ==================================================================== data on this machine

def local_noisyoffice() -> Optional[Path]:
    """A NoisyOffice folder on this machine: $DOCCLEAN_NOISYOFFICE, the shared data beside the project,
    or a download."""
    candidates: list[str | Path] = [os.environ.get(pairs.NOISYOFFICE_ENV) or "",
                                    PROJECT.parent / "shared" / "data" / NOISYOFFICE,
                                    pairs.noisyoffice_cache_dir() / NOISYOFFICE]
    return next((Path(c) for c in candidates if c and Path(c).is_dir()), None)


def shared_data_folder() -> Optional[Path]:
    """The folder of named data sets (noisyoffice, dibco, mnist, ...) beside the project, if there is one."""
    folder = PROJECT.parent / "shared" / "data"
    return folder if folder.is_dir() else None


def first_use_kind() -> str:
    """The data a first training run proposes: data this machine has, so the run needs no download."""
    return PAIRS if local_noisyoffice() is not None else SYNTHETIC


def proposed_text(kind: str) -> tuple[str, str]:
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


def _noisyoffice_known() -> bool:
    """Whether the engine finds NoisyOffice without a data folder (it looks at $DOCCLEAN_NOISYOFFICE)."""
    try:
        pairs.noisyoffice_folder(None)
    except FileNotFoundError:
        return False
    return True


# ==================================================================== what the fields say

def config_data(kind: str, source: str, folder: str) -> tuple[str, Optional[str]]:
    """TrainConfig's ``data`` and ``data_folder`` for data of ``kind`` with these source and folder texts."""
    source, folder = source.strip(), folder.strip()
    data_folder = str(Path(folder).expanduser()) if folder else None
    if kind == PAIRS:
        return (str(Path(source).expanduser()) if source else ""), None
    if kind == RECIPE:
        return (str(Path(source).expanduser()) if source else ""), data_folder
    if kind == MIX:
        return source, data_folder
    if kind == SYNTHETIC:
        return SYNTHETIC, None
    return kind, data_folder


def data_problem(kind: str, source: str, folder: str) -> str:
    """Why data of ``kind`` with these texts cannot be read, in one sentence ('' when it can).

    Cheap checks only: no page is opened here."""
    data, data_folder = config_data(kind, source, folder)
    if not data:
        return {PAIRS: "Choose the folder of noisy/clean pairs.",
                MIX: "Type the sources to mix, e.g. noisyoffice,dibco:2,synthetic.",
                RECIPE: "Choose a recipe file (.toml)."}[kind]
    if data_folder is not None and not Path(data_folder).is_dir():
        return f"{data_folder}: no such folder."
    if kind in DIGIT_DATA:
        found = digits.describe_folder(kind, data_folder) if data_folder else None
        return sentence(f"cannot load {found.summary()}") if found and not found.has_test else ""
    names = [item.partition(":")[0].strip() for item in data.split(",")] if kind == MIX else [data]
    if NOISYOFFICE in names and data_folder is None and not _noisyoffice_known():
        # The engine's own message names the function that downloads it.
        return NOISYOFFICE_MISSING
    if kind == PAIRS and not Path(data).is_dir():
        return f"{data}: no such folder."
    try:
        parse_data(data, data_folder)
    except OSError as error:
        return sentence(str(error) if error.errno is None else describe_os_error(error))
    except ValueError as error:
        return sentence(str(error))
    return ""


def file_label(kind: str, source: str) -> str:
    """A short name of the data for a file name: the set, the folder or the recipe."""
    source = source.strip()
    label = Path(source).stem if kind in (PAIRS, RECIPE) and source else kind
    return re.sub(r"[^A-Za-z0-9_-]+", "_", label).strip("_") or kind


# ==================================================================== the Data box

class DataSection(QGroupBox):
    """The Data box: which data, where it lives and, for digits, how much of it and how noisy."""

    kind_changed = Signal(str)  # once the box shows the rows the new kind needs
    source_edited = Signal()  # the folder of pairs, the mix or the recipe
    edited = Signal()  # any other field
    preview_ready = Signal()

    def __init__(self, settings: AppSettings, runner: TaskRunner, parent: Optional[QWidget] = None) -> None:
        super().__init__("Data", parent)
        self.settings = settings
        self.runner = runner
        self._filling = False
        self._preview_generation = 0
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(300)
        self._preview_timer.timeout.connect(self._update_noise_preview)
        self._build()

    def _build(self) -> None:
        self._rows = form = form_rows(self)
        self.data_combo = QComboBox()
        for text, value in DATA_CHOICES:
            self.data_combo.addItem(text, value)
        self.data_combo.currentIndexChanged.connect(self._on_kind_changed)
        self.source_edit, self.source_row = path_field(self._choose_source)
        self.source_edit.textChanged.connect(self._on_source_text)
        self.source_button = _widget_at(self.source_row, 1)
        self.data_folder_edit, self.data_folder_row = path_field(self._choose_data_folder)
        self.data_folder_edit.textChanged.connect(self._on_folder_text)
        self.data_folder_edit.editingFinished.connect(self.schedule_preview)
        self.data_hint = hint_label()
        self.max_samples_spin = QSpinBox()
        self.max_samples_spin.setRange(0, 2**31 - 1)
        self.max_samples_spin.setSingleStep(1000)
        self.max_samples_spin.setSpecialValueText("all")
        self.max_samples_spin.setToolTip("Use at most this many images (all: every image of the set)")
        self.max_samples_spin.valueChanged.connect(self.edited)
        self.noise_spin = QDoubleSpinBox()
        self.noise_spin.setRange(0.0, 10.0)
        self.noise_spin.setSingleStep(0.1)
        self.noise_spin.setValue(CONFIG_DEFAULTS.noise_factor)
        self.noise_spin.setToolTip("Strength of the Gaussian noise added to the glyphs")
        self.noise_spin.valueChanged.connect(self.schedule_preview)
        self.noise_spin.valueChanged.connect(self.edited)
        self.reconstruct_check = QCheckBox("Learn to reconstruct (no noise added)")
        self.reconstruct_check.setChecked(not CONFIG_DEFAULTS.denoise)
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

    # The kind of data -----------------------------------------------------------------
    def kind(self) -> str:
        return str(self.data_combo.currentData())

    def select_kind(self, kind: str) -> None:
        """Show data of ``kind`` with the texts it had last (or what this machine has), even if already shown."""
        self.data_combo.blockSignals(True)  # one update below, not one per signal
        self.data_combo.setCurrentIndex(self.data_combo.findData(kind))
        self.data_combo.blockSignals(False)
        self._on_kind_changed()

    def set_data(self, kind: str, folder: Optional[Path | str] = None, source: Optional[Path | str] = None) -> None:
        """Choose data of ``kind`` (DATA_CHOICES); see TrainingForm.set_data."""
        if self.data_combo.findData(kind) < 0:
            raise ValueError(f"unknown data {kind!r}")
        self.select_kind(kind)
        if kind == PAIRS and folder is not None:
            self.source_edit.setText(str(folder))
        elif folder is not None:
            self.data_folder_edit.setText(str(folder))
        if source is not None:
            self.source_edit.setText(str(source))

    def restore(self) -> None:
        """Show the kind of data chosen last; on first use, data this machine has."""
        kind = self.settings.training_data_kind
        self.select_kind(kind if kind is not None and self.data_combo.findData(kind) >= 0 else first_use_kind())

    def remember(self) -> None:
        kind = self.kind()
        self.settings.training_data_kind = kind
        self.settings.training_data_source[kind] = self.source_edit.text()
        self.settings.training_data_folder[kind] = self.data_folder_edit.text()

    def _on_kind_changed(self) -> None:
        kind = self.kind()
        source, folder = self.settings.training_data_source[kind], self.settings.training_data_folder[kind]
        if not source and not folder:
            source, folder = proposed_text(kind)
        # Both texts change together: announcing each would check (and remember) a half-set choice.
        self._filling = True
        try:
            self.source_edit.setText(source)
            self.data_folder_edit.setText(folder)
        finally:
            self._filling = False
        self._show_rows_for(kind)
        self.schedule_preview()
        self.kind_changed.emit(kind)

    def _show_rows_for(self, kind: str) -> None:
        digit_data = kind in DIGIT_DATA
        form = self._rows
        form.setRowVisible(self.source_row, kind in (PAIRS, MIX, RECIPE))
        form.setRowVisible(self.data_folder_row, kind not in (PAIRS, SYNTHETIC))
        _label_of(form, self.source_row).setText({MIX: "Sources", RECIPE: "Recipe"}.get(kind, "Folder"))
        # Only where its row shows: shown on its own, a hidden row's button floats over the box.
        self.source_button.setVisible(kind in (PAIRS, RECIPE))
        self.source_edit.setPlaceholderText({
            PAIRS: "Folder with noisy/ and clean/ sub-folders",
            MIX: "e.g. noisyoffice,dibco:2,synthetic",
            RECIPE: "A .toml recipe, e.g. resources/recipes/general.toml",
        }.get(kind, ""))
        _label_of(form, self.data_folder_row).setText(
            "Data folder" if kind in (MIX, RECIPE) else "Local copy")
        self.data_folder_edit.setPlaceholderText(
            "Empty: download once to the cache" if digit_data
            else "Folder holding NoisyOffice" if kind == NOISYOFFICE
            else "Where named sources live, e.g. shared/data")
        self.data_hint.setText(DATA_HINTS.get(kind, DIGIT_HINT))
        for widget in (self.max_samples_spin, self.noise_spin, self.reconstruct_check, self.noise_preview):
            form.setRowVisible(widget, digit_data)

    # What the fields say ---------------------------------------------------------------
    def data(self) -> tuple[str, Optional[str]]:
        """TrainConfig's ``data`` and ``data_folder``."""
        return config_data(self.kind(), self.source_edit.text(), self.data_folder_edit.text())

    def problem(self) -> str:
        """Why the chosen data cannot be read ('' when it can)."""
        return data_problem(self.kind(), self.source_edit.text(), self.data_folder_edit.text())

    def label(self) -> str:
        """A short name of the data for a file name."""
        return file_label(self.kind(), self.source_edit.text())

    def _on_source_text(self) -> None:
        if not self._filling:
            self.source_edited.emit()

    def _on_folder_text(self) -> None:
        if not self._filling:
            self.edited.emit()

    def _on_reconstruct_toggled(self, reconstruct: bool) -> None:
        # Reconstructing feeds the clean glyphs: no noise to set or to preview.
        self.noise_spin.setEnabled(not reconstruct)
        self.noise_preview.setEnabled(not reconstruct)
        self.edited.emit()

    def _choose_source(self) -> None:
        current = self.source_edit.text()
        if self.kind() == RECIPE:
            name, _ = QFileDialog.getOpenFileName(self, "Training recipe", current, f"Recipes (*{RECIPE_SUFFIX})")
        else:
            name = QFileDialog.getExistingDirectory(self, "Folder of noisy/clean pairs", current)
        if name:
            self.source_edit.setText(name)

    def _choose_data_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_folder_edit.text())
        if folder:
            self.data_folder_edit.setText(folder)
            self.schedule_preview()

    # The noise preview (on a worker) ---------------------------------------------------
    def schedule_preview(self) -> None:
        if self.kind() in DIGIT_DATA:
            self._preview_timer.start()

    def abandon(self) -> None:
        """Start no more previews."""
        self._preview_timer.stop()

    def _update_noise_preview(self) -> None:
        kind = self.kind()
        if kind not in DIGIT_DATA:
            return
        self._preview_generation += 1  # a preview already under way is for an old choice
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
            self.preview_ready.emit()

    def _on_noise_preview_failed(self, generation: int, message: str) -> None:
        if generation == self._preview_generation:
            self.noise_preview.set_message(f"No preview: {message}")


def _noise_samples(kind: str, factor: float, folder: Optional[str]) -> list[tuple[QImage, QImage, str]]:
    """Worker: clean and noisy sample glyphs with their labels."""
    clean, noisy, labels = noisy_samples(kind, PREVIEW_SAMPLES, factor, folder=folder)
    return [
        (pixels_to_qimage(c), pixels_to_qimage(n), label_name(kind, int(label)))
        for c, n, label in zip(clean, noisy, labels)
    ]


def _widget_at(row: QLayout, index: int) -> QWidget:
    """The widget at ``index`` of a row the form built (a field and its button)."""
    item = row.itemAt(index)
    widget = item.widget() if item is not None else None
    assert widget is not None, "the row holds a widget there"
    return widget


def _label_of(form: QFormLayout, row: QLayout) -> QLabel:
    """The label the form gave ``row``."""
    label = form.labelForField(row)
    assert isinstance(label, QLabel), "every row of the Data box has a text label"
    return label

