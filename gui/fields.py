"""Small form fields the window and the dialogs share: a choice from the engine's vocabulary, a folder."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Optional

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QPushButton


def choice_combo(choices: Iterable[str], labels: Optional[Mapping[str, str]] = None,
                 current: Optional[str] = None) -> QComboBox:
    """A combo showing each choice's label, with the choice itself (its plain string) as its data.

    The label is ``labels[choice]``, or, for the engine's vocabulary (engine.vocabulary) without
    ``labels``, the member's own ``label``.
    """
    combo = QComboBox()
    for choice in choices:
        label = labels.get(choice, choice) if labels is not None else getattr(choice, "label", choice)
        combo.addItem(label, str(choice))
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
