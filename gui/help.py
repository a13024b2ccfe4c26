"""The Help menu's dialogs: keyboard shortcuts and About (versions, log file)."""
from __future__ import annotations

import platform
from importlib import metadata
from typing import Iterable, Optional

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

# The libraries whose versions matter when a user reports a problem, by the distributions that
# may provide each (TensorFlow installs as tensorflow-cpu on x86-64, as the project asks).
_COMPONENTS = {
    "docclean": ("docclean",), "openvino": ("openvino",), "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "keras": ("keras",), "numpy": ("numpy",), "pillow": ("pillow",),
    "opencv-python-headless": ("opencv-python-headless",), "pypdfium2": ("pypdfium2",),
}


def versions() -> list[tuple[str, str]]:
    """(component, version) for DocClean, Python, Qt and the libraries that do the work."""
    found = [("Python", platform.python_version()), ("Qt", qVersion()), ("PySide6", pyside_version)]
    for name, distributions in _COMPONENTS.items():
        found.append((name, next(filter(None, map(_version, distributions)), "not installed")))
    return found


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""


def _table(rows: list[tuple[str, str]], headers: tuple[str, str]) -> QTableWidget:
    table = QTableWidget(len(rows), 2)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for row, (left, right) in enumerate(rows):
        table.setItem(row, 0, QTableWidgetItem(left))
        table.setItem(row, 1, QTableWidgetItem(right))
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _dialog(parent: Optional[QWidget], title: str, widgets: Iterable[QWidget]) -> QDialog:
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    layout = QVBoxLayout(dialog)
    for widget in widgets:
        layout.addWidget(widget)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    dialog.resize(460, 420)
    return dialog


def shortcuts_dialog(parent: Optional[QWidget], actions: Iterable[QAction]) -> QDialog:
    """Every action that has a shortcut, with its keys, as the user's platform writes them."""
    rows = [(action.text().replace("&", ""),
             ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()))
            for action in actions if action.shortcuts()]
    rows.append(("Show the original while held", "Space, or the right mouse button"))
    return _dialog(parent, "Keyboard shortcuts", [_table(rows, ("Action", "Keys"))])


def about_dialog(parent: Optional[QWidget], log_path: str) -> QDialog:
    text = QLabel("<h3>DocClean</h3><p>Cleans scanned documents with small neural networks, "
                  f"on an ordinary CPU.</p><p>Log file: {log_path}</p>")
    text.setWordWrap(True)
    text.setTextInteractionFlags(text.textInteractionFlags() | text.textInteractionFlags().TextSelectableByMouse)
    return _dialog(parent, "About DocClean", [text, _table(versions(), ("Component", "Version"))])
