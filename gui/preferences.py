"""Preferences: the runtime, CPU threads, where outputs go by default, where batches run, and the colour theme."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLineEdit, QSpinBox,
                               QWidget)

from engine.cleaning.backends import MAX_THREADS
from engine.distributed.cluster import INSTALL_RAY, ray_installed
from engine.vocabulary import Runtime
from gui.fields import choice_combo, folder_field
from gui.settings import THEMES, AppSettings

THEME_LABELS = {"system": "As the system", "light": "Light", "dark": "Dark"}
ENGINE_LABELS = {"local": "This computer", "ray": "A Ray cluster"}
_DEFAULT_STYLE: dict[str, str] = {}  # the platform's own style, kept before a theme replaces it


class PreferencesDialog(QDialog):
    """Edits the AppSettings; the caller applies them when the dialog is accepted."""

    def __init__(self, settings: AppSettings, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setMinimumWidth(560)
        self.settings = settings
        self.backend_combo = choice_combo(Runtime, current=settings.backend)
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(0, min(MAX_THREADS, 4 * (os.cpu_count() or 1)))
        self.threads_spin.setSpecialValueText(f"Automatic (one per core: {os.cpu_count() or 1})")
        self.threads_spin.setValue(settings.threads)
        self.output_edit, output_row = folder_field("Beside each input folder (NAME-cleaned)",
                                                    self._choose_output_base, str(settings.output_base or ""))
        self.theme_combo = choice_combo(THEMES, THEME_LABELS, settings.theme)
        self.engine_combo = choice_combo(list(ENGINE_LABELS), ENGINE_LABELS, settings.engine)
        self.address_edit = QLineEdit(settings.cluster_address)
        self.address_edit.setPlaceholderText("Empty: a Ray started on this computer; or HOST:PORT of a cluster")
        if ray_installed():
            self.engine_combo.setToolTip("A Ray cluster cleans a file a task on its workers, each with the model "
                                         "loaded once; the outputs are those of a run here")
        else:
            self.engine_combo.setCurrentIndex(0)
            self.engine_combo.setEnabled(False)
            self.engine_combo.setToolTip(f"Cleaning on a cluster needs Ray, which is not installed: {INSTALL_RAY}")
        self.engine_combo.currentIndexChanged.connect(self._enable_address)
        self._enable_address()

        form = QFormLayout(self)
        form.addRow("Runtime", self.backend_combo)
        form.addRow("CPU threads", self.threads_spin)
        form.addRow("Cleaned pages go", output_row)
        form.addRow("Batches run on", self.engine_combo)
        form.addRow("Cluster address", self.address_edit)
        form.addRow("Theme", self.theme_combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _enable_address(self) -> None:
        self.address_edit.setEnabled(self.engine_combo.currentData() == "ray")

    def _choose_output_base(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for cleaned pages", self.output_edit.text())
        if folder:
            self.output_edit.setText(folder)

    def accept(self) -> None:
        text = self.output_edit.text().strip()
        self.settings.backend = str(self.backend_combo.currentData())
        self.settings.threads = self.threads_spin.value()
        self.settings.output_base = Path(text).expanduser() if text else None
        self.settings.theme = str(self.theme_combo.currentData())
        self.settings.engine = str(self.engine_combo.currentData())
        self.settings.cluster_address = self.address_edit.text().strip()
        super().accept()


def apply_theme(theme: str) -> None:
    """Colour the whole app: the platform's own look, or Fusion in light or dark."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    _DEFAULT_STYLE.setdefault("name", app.style().name())
    if theme == "system":
        app.setStyle(_DEFAULT_STYLE["name"])
        app.setPalette(app.style().standardPalette())
        return
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if theme == "dark" else app.style().standardPalette())


def _dark_palette() -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: (45, 45, 48), QPalette.ColorRole.WindowText: (225, 225, 225),
        QPalette.ColorRole.Base: (30, 30, 32), QPalette.ColorRole.AlternateBase: (45, 45, 48),
        QPalette.ColorRole.Text: (225, 225, 225), QPalette.ColorRole.Button: (55, 55, 58),
        QPalette.ColorRole.ButtonText: (225, 225, 225), QPalette.ColorRole.Highlight: (42, 110, 200),
        QPalette.ColorRole.HighlightedText: (255, 255, 255), QPalette.ColorRole.ToolTipBase: (60, 60, 64),
        QPalette.ColorRole.ToolTipText: (225, 225, 225), QPalette.ColorRole.PlaceholderText: (140, 140, 140),
        QPalette.ColorRole.Link: (100, 160, 240),
    }
    for role, rgb in roles.items():
        palette.setColor(role, QColor(*rgb))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return palette
