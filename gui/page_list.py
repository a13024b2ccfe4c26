"""The imported pages: a view of the workspace's pages (gui.page_model), one thumbnail per page
with its name and state, drawn by a delegate."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QListView, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem, QWidget)

from engine.io import PageKey
from engine.workspace import PageState, Workspace
from gui.page_model import LABEL_ROLE, REF_ROLE, STATE_COLOURS, STATE_ROLE, PageListModel

THUMB_SIZE = 96

# The names tests and scripts knew: a page's state, and its key (defined once, in engine.workspace).
Status = PageState
__all__ = ["PageList", "PageDelegate", "Status", "PageKey", "THUMB_SIZE"]


class PageDelegate(QStyledItemDelegate):
    """A page's row: its thumbnail (a placeholder until it is made), its name, and its state in colour."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.placeholder = _placeholder_icon()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        return QSize(THUMB_SIZE + 150, THUMB_SIZE + 8)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        style = option.widget.style() if option.widget is not None else QApplication.style()
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text, background.icon = "", QIcon()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, option.widget)
        rect = option.rect.adjusted(4, 4, -4, -4)
        icon = index.data(Qt.ItemDataRole.DecorationRole) or self.placeholder
        icon.paint(painter, QRect(rect.left(), rect.top(), THUMB_SIZE, THUMB_SIZE), Qt.AlignmentFlag.AlignCenter)
        text = rect.adjusted(THUMB_SIZE + 8, 0, 0, 0)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        name_colour = option.palette.color(QPalette.ColorRole.HighlightedText if selected
                                           else QPalette.ColorRole.Text)
        value = index.data(STATE_ROLE)  # Qt hands a StrEnum back as its string
        state = PageState(value) if value else None
        colour = STATE_COLOURS.get(state) if state is not None else None
        metrics = option.fontMetrics
        painter.save()
        painter.setPen(name_colour)
        name = metrics.elidedText(str(index.data(LABEL_ROLE) or ""), Qt.TextElideMode.ElideMiddle, text.width())
        line = metrics.height()
        middle = text.top() + text.height() // 2
        painter.drawText(QRect(text.left(), middle - line, text.width(), line), Qt.AlignmentFlag.AlignLeft, name)
        painter.setPen(colour if colour is not None and not selected else name_colour)
        painter.drawText(QRect(text.left(), middle, text.width(), line), Qt.AlignmentFlag.AlignLeft,
                         state.value if state is not None else "")
        painter.restore()


class PageList(QListView):
    """Thumbnails in import order; the current row is the page in the viewer."""

    current_page_changed = Signal(object)  # the PageRef, or None

    def __init__(self, workspace: Optional[Workspace] = None, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.workspace = workspace if workspace is not None else Workspace()
        self.page_model = PageListModel(self.workspace, self)
        self.setModel(self.page_model)
        self.setItemDelegate(PageDelegate(self))
        self.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # Names elide: a sideways scrollbar would only ever show a few more letters.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.selectionModel().currentChanged.connect(self._on_current_changed)
        self.page_model.modelReset.connect(lambda: self.current_page_changed.emit(None))

    # What it shows (read from the workspace) ---------------------------------------------
    def count(self) -> int:
        return len(self.workspace)

    def refs(self) -> list[Any]:
        return self.workspace.refs()

    def keys(self) -> list[PageKey]:
        return self.workspace.keys()

    def status(self, key: PageKey) -> Optional[PageState]:
        entry = self.workspace.get(key)
        return entry.state if entry is not None else None

    def reason(self, key: PageKey) -> str:
        entry = self.workspace.get(key)
        return entry.reason if entry is not None else ""

    def tooltip(self, key: PageKey) -> str:
        entry = self.workspace.get(key)
        return entry.tooltip if entry is not None else ""

    def output(self, key: PageKey) -> Optional[Path]:
        entry = self.workspace.get(key)
        return entry.output if entry is not None else None

    def output_page(self, key: PageKey) -> int:
        entry = self.workspace.get(key)
        return entry.output_page if entry is not None else 0

    def text(self, row: int) -> str:
        return str(self.page_model.index(row).data(Qt.ItemDataRole.DisplayRole) or "")

    def icon(self, row: int) -> QIcon:
        """The row's thumbnail (a null icon until it is made)."""
        return self.page_model.thumbnail(row) or QIcon()

    # Selection and navigation --------------------------------------------------------------
    def currentRow(self) -> int:  # noqa: N802 - QListWidget's name, kept for callers
        index = self.currentIndex()
        return index.row() if index.isValid() else -1

    def setCurrentRow(self, row: int) -> None:  # noqa: N802
        self.setCurrentIndex(self.page_model.index(row))

    def current_ref(self) -> Optional[Any]:
        row = self.currentRow()
        return self.workspace.entry(row).ref if 0 <= row < len(self.workspace) else None

    def selected_refs(self) -> list[Any]:
        """The selected pages in list order (the current page when nothing is selected)."""
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        if not rows and self.currentRow() >= 0:
            rows = [self.currentRow()]
        return [self.workspace.entry(row).ref for row in rows]

    def select_next(self) -> None:
        if self.count():
            self.setCurrentRow(min(self.count() - 1, max(0, self.currentRow() + 1)))

    def select_previous(self) -> None:
        if self.count():
            self.setCurrentRow(max(0, self.currentRow() - 1))

    def select_key(self, key: PageKey) -> None:
        row = self.workspace.row(key)
        if row >= 0:
            self.setCurrentRow(row)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_page_changed.emit(current.data(REF_ROLE) if current.isValid() else None)


def _placeholder_icon() -> QIcon:
    pix = QPixmap(THUMB_SIZE, THUMB_SIZE)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setPen(QColor(170, 170, 170))
    painter.setBrush(QColor(235, 235, 235))
    painter.drawRect(14, 4, THUMB_SIZE - 28, THUMB_SIZE - 8)
    painter.end()
    return QIcon(pix)
