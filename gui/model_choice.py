"""The model picker: the bundled default, recently used files, or any .keras file that cleans pages.

Digit models (MNIST, notMNIST) are never offered: the engine says which model files clean
pages, and a file that does not is refused with its reason.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

from engine.models.bundled import BUNDLED_MODELS, DEFAULT_MODEL_NAME
from engine.models.modelfile import page_model_problem

BROWSE = "__browse__"


class ModelChoice(QComboBox):
    """Emits ``model_changed`` with the chosen file, or None for the bundled default."""

    model_changed = Signal(object)
    refused = Signal(str)  # why a chosen file cannot clean pages, as a sentence

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setMinimumContentsLength(18)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._current: Optional[Path] = None
        self._rebuilding = False
        self._recent: list[Path] = []
        self.activated.connect(self._on_activated)
        self.set_models([], None)

    def set_models(self, recent: list[Path], current: Optional[Path]) -> None:
        """Fill the list; ``current`` None selects the bundled default."""
        self._recent = []
        for path in ([current] if current else []) + list(recent):
            if path not in self._recent and page_model_problem(path) is None:
                self._recent.append(Path(path))
        self._rebuild(current if current in self._recent else None)

    def add_model(self, path: Path, select: bool = True) -> None:
        """Offer ``path`` (and choose it with ``select``), unless it cannot clean pages: then ``refused``."""
        path = Path(path)
        problem = page_model_problem(path)
        if problem:
            self._rebuild(self._current)
            self.refused.emit(problem)
            return
        if path not in self._recent:
            self._recent.insert(0, path)
        self._rebuild(path if select else self._current)
        if select:
            self.model_changed.emit(path)

    def current_model(self) -> Optional[Path]:
        return self._current

    def model_paths(self) -> list[Optional[Path]]:
        """Every model offered, None standing for the bundled default."""
        return [self._item_path(i) for i in range(self.count()) if self.itemData(i) != BROWSE]

    def select_model(self, path: Optional[Path]) -> None:
        self._rebuild(path)
        self.model_changed.emit(self._current)

    # ---------------------------------------------------------------------------------
    def _item_path(self, index: int) -> Optional[Path]:
        data = self.itemData(index)
        return Path(data) if data else None

    def _rebuild(self, current: Optional[Path]) -> None:
        self._rebuilding = True
        self.clear()
        selected = 0
        for bundled in BUNDLED_MODELS.values():
            default = bundled.name == DEFAULT_MODEL_NAME
            self.addItem(bundled.label, "" if default else str(bundled.path))
            self.setItemData(self.count() - 1, bundled.summary, Qt.ItemDataRole.ToolTipRole)
            if not default and current is not None and Path(current) == bundled.path:
                selected = self.count() - 1
        bundled_paths = {b.path for b in BUNDLED_MODELS.values()}
        for path in (p for p in self._recent if p not in bundled_paths):
            self.addItem(path.name, str(path))
            self.setItemData(self.count() - 1, str(path), Qt.ItemDataRole.ToolTipRole)
            if current is not None and Path(current) == path:
                selected = self.count() - 1
        self.insertSeparator(self.count())
        self.addItem("Other model file…", BROWSE)
        self.setCurrentIndex(selected)
        self._current = self._item_path(selected)
        self._rebuilding = False

    def _on_activated(self, index: int) -> None:
        if self._rebuilding:
            return
        if self.itemData(index) == BROWSE:
            start = str(self._current.parent) if self._current else ""
            name, _ = QFileDialog.getOpenFileName(self, "Choose a model", start, "Keras models (*.keras)")
            if name:
                self.add_model(Path(name))
            else:
                self._rebuild(self._current)  # put the old choice back
            return
        path = self._item_path(index)
        if path != self._current:
            self._current = path
            self.model_changed.emit(path)
