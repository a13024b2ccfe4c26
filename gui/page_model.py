"""The workspace's pages as a Qt list model (napari's pattern: a Qt-free model, a thin Qt adapter over it).

The workspace (engine.workspace) owns the pages and their states; this
adapter only translates its events into Qt's and its entries into roles.
Thumbnails are Qt images, so they are kept here, by page key.
"""
from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap

from engine.io import PageKey
from engine.workspace import PageState, Workspace

REF_ROLE = Qt.ItemDataRole.UserRole
STATE_ROLE = Qt.ItemDataRole.UserRole + 1
KEY_ROLE = Qt.ItemDataRole.UserRole + 2
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 3
LABEL_ROLE = Qt.ItemDataRole.UserRole + 4

STATE_COLOURS = {
    PageState.WAITING: None,
    PageState.WORKING: QColor(30, 100, 200),
    PageState.DONE: QColor(20, 130, 50),
    PageState.ALREADY: QColor(20, 130, 50),
    PageState.CHECK: QColor(190, 110, 0),
    PageState.FAILED: QColor(200, 30, 30),
}

_Index = QModelIndex | QPersistentModelIndex


class PageListModel(QAbstractListModel):
    """One row per page of the workspace: its name and state, its thumbnail, its tooltip."""

    def __init__(self, workspace: Workspace, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self._thumbnails: dict[PageKey, QIcon] = {}
        workspace.about_to_insert.connect(lambda first, last: self.beginInsertRows(QModelIndex(), first, last))
        workspace.inserted.connect(lambda first, last: self.endInsertRows())
        workspace.about_to_remove.connect(lambda first, last: self.beginRemoveRows(QModelIndex(), first, last))
        workspace.removed.connect(self._on_removed)
        workspace.about_to_reset.connect(self.beginResetModel)
        workspace.reset.connect(self._on_reset)
        workspace.changed.connect(self._on_changed)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self.workspace)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.workspace):
            return None
        entry = self.workspace.entry(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{entry.label}\n{entry.state.value}"
        if role == LABEL_ROLE:
            return entry.label
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnails.get(entry.key)
        if role == Qt.ItemDataRole.ToolTipRole:
            return entry.tooltip
        if role == Qt.ItemDataRole.ForegroundRole:
            return STATE_COLOURS[entry.state]
        if role == REF_ROLE:
            return entry.ref
        if role == STATE_ROLE:
            return entry.state
        if role == KEY_ROLE:
            return entry.key
        if role == ENTRY_ROLE:
            return entry
        return None

    def set_thumbnail(self, key: PageKey, image: QImage) -> None:
        row = self.workspace.row(key)
        if row < 0 or image.isNull():
            return
        self._thumbnails[key] = QIcon(QPixmap.fromImage(image))
        index = self.index(row)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def thumbnail(self, row: int) -> Optional[QIcon]:
        return self._thumbnails.get(self.workspace.entry(row).key)

    def _on_changed(self, row: int) -> None:
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def _on_removed(self, first: int, last: int) -> None:
        self._thumbnails = {k: v for k, v in self._thumbnails.items() if k in self.workspace}
        self.endRemoveRows()

    def _on_reset(self) -> None:
        self._thumbnails.clear()
        self.endResetModel()
