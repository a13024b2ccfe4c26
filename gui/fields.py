"""Small form fields the window and the dialogs share: a choice from the engine's vocabulary, a folder."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Optional

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QPushButton


def choice_combo(choices: Iterable[str], labels: Mapping[str, str], current: Optional[str] = None) -> QComboBox:
    """A combo showing ``labels[choice]`` for each choice, with the choice itself as its data."""
    combo = QComboBox()
    for choice in choices:
        combo.addItem(labels.get(choice, choice), choice)
    if current is not None:
        combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


def folder_field(placeholder: str, choose: Callable[[], None], text: str = "") -> tuple[QLineEdit, QHBoxLayout]:
    """A folder's path to type, and a "Choose…" button that calls ``choose``."""
    edit = QLineEdit(text)
    edit.setPlaceholderText(placeholder)
    browse = QPushButton("Choose…")
    browse.clicked.connect(choose)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return edit, row
