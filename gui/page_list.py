"""The imported pages: one thumbnail per page with its name and batch status."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, Iterable, Optional

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

THUMB_SIZE = 96
REF_ROLE = Qt.ItemDataRole.UserRole
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1
OUTPUT_ROLE = Qt.ItemDataRole.UserRole + 2
OUTPUT_PAGE_ROLE = Qt.ItemDataRole.UserRole + 5  # the page's place in a multi-page output (PDF, TIFF)
REASON_ROLE = Qt.ItemDataRole.UserRole + 3

PageKey = tuple[str, int]


class Status(Enum):
    WAITING = "waiting"
    WORKING = "working…"
    DONE = "done"
    ALREADY = "already clean"
    CHECK = "done, check it"
    FAILED = "failed"


_STATUS_COLOURS = {
    Status.WAITING: None,
    Status.WORKING: QColor(30, 100, 200),
    Status.DONE: QColor(20, 130, 50),
    Status.ALREADY: QColor(20, 130, 50),
    Status.CHECK: QColor(190, 110, 0),
    Status.FAILED: QColor(200, 30, 30),
}


def page_key(ref: Any) -> PageKey:
    """Identity of one page across the list, the batch results and the viewer."""
    return (str(Path(ref.path).resolve()), int(getattr(ref, "index", 0) or 0))


def page_label(ref: Any) -> str:
    label = getattr(ref, "label", None)
    return str(label) if label else Path(ref.path).name


class PageList(QListWidget):
    """Thumbnails in import order; the current item is the page in the viewer."""

    current_page_changed = Signal(object)  # the PageRef, or None

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # Names wrap or elide: a sideways scrollbar would only ever show a few more letters.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self._items: dict[PageKey, QListWidgetItem] = {}
        self._placeholder = _placeholder_icon()
        self.currentItemChanged.connect(self._on_current_changed)

    # Content ---------------------------------------------------------------------------
    def clear_pages(self) -> None:
        self._items.clear()
        self.clear()

    def add_pages(self, refs: Iterable[Any]) -> list[Any]:
        """Append pages not listed yet; returns the ones added."""
        added = []
        for ref in refs:
            key = page_key(ref)
            if key in self._items:
                continue
            item = QListWidgetItem(self._placeholder, "")
            item.setData(REF_ROLE, ref)
            item.setSizeHint(QSize(THUMB_SIZE + 150, THUMB_SIZE + 8))
            self.addItem(item)
            self._items[key] = item
            self._set_item_status(item, Status.WAITING, "")
            added.append(ref)
        return added

    def refs(self) -> list[Any]:
        return [self.item(i).data(REF_ROLE) for i in range(self.count())]

    def keys(self) -> list[PageKey]:
        return list(self._items)

    def has(self, key: PageKey) -> bool:
        return key in self._items

    def set_thumbnail(self, key: PageKey, image: QImage) -> None:
        item = self._items.get(key)
        if item is not None and not image.isNull():
            item.setIcon(QIcon(QPixmap.fromImage(image)))

    def set_status(self, key: PageKey, status: Status, reason: str = "") -> None:
        item = self._items.get(key)
        if item is not None:
            self._set_item_status(item, status, reason)

    def status(self, key: PageKey) -> Optional[Status]:
        item = self._items.get(key)
        return item.data(STATUS_ROLE) if item is not None else None

    def reason(self, key: PageKey) -> str:
        item = self._items.get(key)
        return item.data(REASON_ROLE) or "" if item is not None else ""

    def tooltip(self, key: PageKey) -> str:
        item = self._items.get(key)
        return item.toolTip() if item is not None else ""

    def set_output(self, key: PageKey, path: Optional[Path], page: int = 0) -> None:
        """The file the page was cleaned into, and its 0-based place in that file."""
        item = self._items.get(key)
        if item is not None:
            item.setData(OUTPUT_ROLE, str(path) if path else "")
            item.setData(OUTPUT_PAGE_ROLE, page)

    def output(self, key: PageKey) -> Optional[Path]:
        item = self._items.get(key)
        value = item.data(OUTPUT_ROLE) if item is not None else ""
        return Path(value) if value else None

    def output_page(self, key: PageKey) -> int:
        item = self._items.get(key)
        return int(item.data(OUTPUT_PAGE_ROLE) or 0) if item is not None else 0

    def reset_statuses(self, keys: Optional[Iterable[PageKey]] = None) -> None:
        """Set pages (all, or those of ``keys``) back to waiting, forgetting their outputs."""
        for key in self._items if keys is None else keys:
            item = self._items.get(key)
            if item is not None:
                item.setData(OUTPUT_ROLE, "")
                self._set_item_status(item, Status.WAITING, "")

    def selected_refs(self) -> list[Any]:
        """The selected pages in list order (the current page when nothing is selected)."""
        rows = sorted(self.row(item) for item in self.selectedItems())
        if not rows and self.currentItem() is not None:
            rows = [self.currentRow()]
        return [self.item(row).data(REF_ROLE) for row in rows]

    def remove_pages(self, keys: Iterable[PageKey]) -> None:
        """Take pages off the list (their files are not touched)."""
        for key in list(keys):
            item = self._items.pop(key, None)
            if item is not None:
                self.takeItem(self.row(item))

    # Navigation ------------------------------------------------------------------------
    def current_ref(self) -> Optional[Any]:
        item = self.currentItem()
        return item.data(REF_ROLE) if item is not None else None

    def select_next(self) -> None:
        if self.count():
            self.setCurrentRow(min(self.count() - 1, max(0, self.currentRow() + 1)))

    def select_previous(self) -> None:
        if self.count():
            self.setCurrentRow(max(0, self.currentRow() - 1))

    def select_key(self, key: PageKey) -> None:
        item = self._items.get(key)
        if item is not None:
            self.setCurrentItem(item)

    # ---------------------------------------------------------------------------------
    def _set_item_status(self, item: QListWidgetItem, status: Status, reason: str) -> None:
        ref = item.data(REF_ROLE)
        item.setData(STATUS_ROLE, status)
        item.setData(REASON_ROLE, reason)
        item.setText(f"{page_label(ref)}\n{status.value}")
        colour = _STATUS_COLOURS[status]
        item.setForeground(QBrush(colour) if colour is not None else QBrush())
        tip = str(ref.path)
        if status is Status.FAILED and reason:
            tip = f"Failed: {reason}"
        item.setToolTip(tip)

    def _on_current_changed(self, current: Optional[QListWidgetItem], _previous: object) -> None:
        self.current_page_changed.emit(current.data(REF_ROLE) if current is not None else None)


def _placeholder_icon() -> QIcon:
    pix = QPixmap(THUMB_SIZE, THUMB_SIZE)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setPen(QColor(170, 170, 170))
    painter.setBrush(QColor(235, 235, 235))
    painter.drawRect(14, 4, THUMB_SIZE - 28, THUMB_SIZE - 8)
    painter.end()
    return QIcon(pix)
