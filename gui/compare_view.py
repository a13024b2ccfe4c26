"""Before/after viewer: side by side with zoom and pan in step, or one view with a swipe divider.

Both canvases read one shared ``ViewState`` (zoom and the image point at the centre), so
whatever one of them does the other shows at once: keeping them in step needs no syncing
code that could drift.
"""
from __future__ import annotations

from enum import Enum
from typing import Optional, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, QSizeF, Qt, Signal, QObject
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QBoxLayout, QSizePolicy, QWidget

from engine.cleaning.ink import InkPlace
from engine.cleaning.pictures import Box, ZoneEdits
from gui.geometry_handles import GeometryHandles, GeometryOverlay
from gui.page_overlays import (  # noqa: F401  (the colours are imported from here too)
    MISSING_COLOUR, PICTURE_COLOUR, PUT_BACK_COLOUR, TEXT_COLOUR, paint_places, paint_rubber_band, paint_zones)

MIN_SCALE = 0.02
MAX_SCALE = 32.0
ZOOM_STEP = 1.25
DIVIDER_GRAB_PX = 8
# A drag shorter than this (screen pixels) is a click, not a region.
MIN_MARK_PX = 4


class ViewState(QObject):
    """Zoom and position shared by every canvas of one viewer."""

    changed = Signal()

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.fit = True  # follow the widget size until the user zooms or pans
        self.scale = 1.0
        self.center = QPointF(0.0, 0.0)  # image pixel shown at the middle of each canvas

    def set(self, scale: float, center: QPointF) -> None:
        self.fit = False
        self.scale = max(MIN_SCALE, min(MAX_SCALE, scale))
        self.center = QPointF(center)
        self.changed.emit()

    def set_fit(self) -> None:
        self.fit = True
        self.changed.emit()


class Show(Enum):
    ORIGINAL = "original"
    CLEANED = "cleaned"
    SWIPE = "swipe"


class ImageCanvas(QWidget):
    """Paints one image (or a swipe of two) under the shared zoom and pan."""

    divider_moved = Signal(float)
    region_marked = Signal(str, object)  # the kind and the box (top, left, bottom, right) in page pixels

    def __init__(self, state: ViewState, show: Show, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.state = state
        self.show_mode = show
        self.flash_original = False
        self.divider = 0.5  # swipe divider as a fraction of the width
        self._original: Optional[QPixmap] = None
        self._cleaned: Optional[QPixmap] = None
        self._places: tuple[InkPlace, ...] = ()
        self._zones: tuple[Box, ...] = ()  # the picture zones, outlined on the original
        self._marks = ZoneEdits()  # the user's marks, outlined on the original
        self.zones_visible = True
        # While set (PICTURE or TEXT), a left drag on the original marks a region instead of panning.
        self.mark_kind: Optional[str] = None
        self._mark_from: Optional[QPointF] = None
        self._mark_to: Optional[QPointF] = None
        self._message = ""
        self._cleaned_message = ""
        self._title = ""
        # The page as scanned, shown instead of the original while its geometry is edited, with its handles.
        self.as_read: Optional[QPixmap] = None
        self.handles = GeometryHandles(self.image_to_widget, self.widget_to_image, lambda: QSizeF(self.image_size()),
                                       self)
        self._drag_start: Optional[QPointF] = None
        self._drag_center: Optional[QPointF] = None
        self._dragging_divider = False
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMouseTracking(True)
        state.changed.connect(self.update)

    # Content ---------------------------------------------------------------------------
    def set_images(self, original: Optional[QPixmap], cleaned: Optional[QPixmap]) -> None:
        self._original, self._cleaned = original, cleaned
        self.update()

    def set_places(self, places: Sequence[InkPlace]) -> None:
        """Boxes (page pixels) outlined over the cleaned page: where the content check put ink back."""
        self._places = tuple(places)
        self.update()

    def places(self) -> tuple[InkPlace, ...]:
        return self._places

    def set_zones(self, zones: Sequence[Box], marks: Optional[ZoneEdits] = None) -> None:
        """Boxes (page pixels: top, left, bottom, right) outlined over the original: the picture zones,
        and the user's ``marks`` (None: those it has)."""
        self._zones = tuple(zones)
        if marks is not None:
            self._marks = marks
        self.update()

    def zones(self) -> tuple[Box, ...]:
        return self._zones

    def marks(self) -> ZoneEdits:
        return self._marks

    def shows_original(self) -> bool:
        """Whether some of the original is on this canvas (the original's side, or a swipe)."""
        return self.show_mode is not Show.CLEANED

    def set_message(self, text: str) -> None:
        """Shown centred when there is nothing to draw."""
        self._message = text
        self.update()

    def set_cleaned_message(self, text: str) -> None:
        """Shown over the cleaned side while it is being computed or failed."""
        self._cleaned_message = text
        self.update()

    def set_title(self, text: str) -> None:
        self._title = text
        self.update()

    def title(self) -> str:
        return self._title

    def shown_original(self) -> Optional[QPixmap]:
        return self.as_read if self.as_read is not None else self._original

    def image_size(self) -> QSize:
        pix = self.shown_original() or self._cleaned
        return pix.size() if pix is not None else QSize()

    # Geometry --------------------------------------------------------------------------
    def scale(self) -> float:
        if self.state.fit:
            size = self.image_size()
            if size.isEmpty():
                return 1.0
            return max(MIN_SCALE, min(self.width() / size.width(), self.height() / size.height()))
        return self.state.scale

    def center(self) -> QPointF:
        if self.state.fit:
            size = self.image_size()
            return QPointF(size.width() / 2, size.height() / 2)
        return self.state.center

    def image_to_widget(self, point: QPointF) -> QPointF:
        mid = QPointF(self.width() / 2, self.height() / 2)
        return (point - self.center()) * self.scale() + mid

    def widget_to_image(self, point: QPointF) -> QPointF:
        mid = QPointF(self.width() / 2, self.height() / 2)
        return (point - mid) / self.scale() + self.center()

    def zoom_at(self, factor: float, anchor: QPointF) -> None:
        """Zoom by ``factor`` keeping the image point under ``anchor`` (widget coords) still."""
        under = self.widget_to_image(anchor)
        new_scale = max(MIN_SCALE, min(MAX_SCALE, self.scale() * factor))
        mid = QPointF(self.width() / 2, self.height() / 2)
        self.state.set(new_scale, under - (anchor - mid) / new_scale)

    def zoom_by(self, factor: float) -> None:
        self.zoom_at(factor, QPointF(self.width() / 2, self.height() / 2))

    def actual_size(self) -> None:
        self.state.set(1.0, self.center())

    # Painting --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(60, 60, 64))
        size = self.image_size()
        if size.isEmpty():
            self._draw_centered_text(painter, self._message or "No page selected")
            return
        top_left = self.image_to_widget(QPointF(0, 0))
        target = QRectF(top_left, self.image_to_widget(QPointF(size.width(), size.height())))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale() < 1.0)

        if self.show_mode is Show.SWIPE:
            self._paint_swipe(painter, target)
        else:
            wants_original = self.show_mode is Show.ORIGINAL or self.flash_original
            pix = self.shown_original() if wants_original else self._cleaned
            if pix is not None:
                painter.drawPixmap(target, pix, QRectF(pix.rect()))
                if not wants_original:
                    self._paint_places(painter)
                elif self.show_mode is Show.ORIGINAL and self.as_read is None:
                    self._paint_zones(painter)
                elif self.show_mode is Show.ORIGINAL:
                    self.handles.paint(painter)
            elif not wants_original:
                self._draw_centered_text(painter, self._cleaned_message or "Not cleaned yet")
            if not wants_original and pix is not None and self._cleaned_message:
                self._draw_badge(painter, self._cleaned_message, bottom=True)
        if self._title and self.show_mode is not Show.SWIPE:
            title = "Original (held)" if self.flash_original and self.show_mode is not Show.ORIGINAL else self._title
            self._draw_badge(painter, title)
        self._paint_rubber_band(painter)

    def _paint_swipe(self, painter: QPainter, target: QRectF) -> None:
        x = self.divider * self.width()
        if self._original is not None:
            painter.save()
            painter.setClipRect(QRectF(0, 0, x, self.height()))
            painter.drawPixmap(target, self._original, QRectF(self._original.rect()))
            self._paint_zones(painter)
            painter.restore()
        right = self._original if self.flash_original else self._cleaned
        painter.save()
        painter.setClipRect(QRectF(x, 0, self.width() - x, self.height()))
        if right is not None:
            painter.drawPixmap(target, right, QRectF(right.rect()))
            if not self.flash_original:
                self._paint_places(painter)
        painter.restore()
        painter.setPen(QPen(QColor(255, 200, 0), 2))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        handle = QRectF(x - 7, self.height() / 2 - 22, 14, 44)
        painter.setBrush(QColor(255, 200, 0))
        painter.drawRoundedRect(handle, 5, 5)
        self._draw_badge(painter, "Original", left=x - 8, align_right=True)
        if right is None:
            self._draw_badge(painter, self._cleaned_message or "Not cleaned yet", left=x + 8, bottom=True)
        else:
            label = "Original (held)" if self.flash_original else "Cleaned"
            self._draw_badge(painter, label, left=x + 8)

    def _paint_places(self, painter: QPainter) -> None:
        paint_places(painter, self._places, self.image_to_widget)

    def _paint_zones(self, painter: QPainter) -> None:
        if self.zones_visible:
            paint_zones(painter, self.font(), self._zones, self._marks, self.image_to_widget)

    def _paint_rubber_band(self, painter: QPainter) -> None:
        paint_rubber_band(painter, self.mark_kind, self._mark_from, self._mark_to)

    def _draw_centered_text(self, painter: QPainter, text: str) -> None:
        painter.setPen(QColor(220, 220, 220))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        painter.setFont(font)
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)

    def _draw_badge(self, painter: QPainter, text: str, left: float = 8, bottom: bool = False,
                    align_right: bool = False) -> None:
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 12
        height = metrics.height() + 6
        x = left - width if align_right else left
        y = self.height() - height - 8 if bottom else 8
        box = QRectF(x, y, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    # Interaction -----------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_at(ZOOM_STEP ** steps, event.position())
        event.accept()

    def _near_divider(self, x: float) -> bool:
        return self.show_mode is Show.SWIPE and abs(x - self.divider * self.width()) <= DIVIDER_GRAB_PX

    def _marking(self, position: QPointF) -> bool:
        """Whether a left press at ``position`` starts marking a region: a mark is asked for and the
        original is under the pointer (in a swipe, left of the divider)."""
        if self.mark_kind is None or self.image_size().isEmpty() or not self.shows_original() or self.as_read:
            return False
        return self.show_mode is Show.ORIGINAL or position.x() < self.divider * self.width()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._marking(event.position()):
            self._mark_from = self._mark_to = event.position()
        elif event.button() == Qt.MouseButton.LeftButton and self.handles.press(event.position()):
            self.update()
        elif event.button() == Qt.MouseButton.LeftButton:
            if self._near_divider(event.position().x()):
                self._dragging_divider = True
            else:
                self._drag_start = event.position()
                self._drag_center = self.center()
                self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif event.button() == Qt.MouseButton.RightButton:
            # Press-and-hold the right button to flash the original.
            self.set_flash(True)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        if self._mark_from is not None:
            self._mark_to = event.position()
            self.update()
        elif self.handles.move(event.position()):
            self.update()
        elif self._dragging_divider:
            self.set_divider(x / max(1, self.width()))
        elif self._drag_start is not None and self._drag_center is not None:
            delta = (event.position() - self._drag_start) / self.scale()
            self.state.set(self.scale(), self._drag_center - delta)
        elif self._near_divider(x):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        elif self._marking(event.position()):
            self.setCursor(Qt.CursorShape.CrossCursor)
        elif self.handles.handle_at(event.position()) is not None:
            self.setCursor(Qt.CursorShape.SizeAllCursor)
        else:
            self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._mark_from is not None:
            self._finish_mark(event.position())
        elif event.button() == Qt.MouseButton.LeftButton and self.handles.release(event.position()):
            self.update()
        elif event.button() == Qt.MouseButton.LeftButton:
            self._dragging_divider = False
            self._drag_start = None
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        elif event.button() == Qt.MouseButton.RightButton:
            self.set_flash(False)
        event.accept()

    def _finish_mark(self, end: QPointF) -> None:
        """The dragged rectangle as a box in page pixels, clipped to the page; a click marks nothing."""
        start, self._mark_from, self._mark_to = self._mark_from, None, None
        self.update()
        kind = self.mark_kind
        if start is None or kind is None:
            return
        if abs(end.x() - start.x()) < MIN_MARK_PX or abs(end.y() - start.y()) < MIN_MARK_PX:
            return
        a, b = self.widget_to_image(start), self.widget_to_image(end)
        size = self.image_size()
        left, right = (max(0, min(size.width(), round(v))) for v in sorted((a.x(), b.x())))
        top, bottom = (max(0, min(size.height(), round(v))) for v in sorted((a.y(), b.y())))
        if right > left and bottom > top:
            self.region_marked.emit(kind, (top, left, bottom, right))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.state.set_fit()

    def set_divider(self, fraction: float) -> None:
        self.divider = max(0.0, min(1.0, fraction))
        self.divider_moved.emit(self.divider)
        self.update()

    def set_flash(self, on: bool) -> None:
        owner = self.parentWidget()
        if isinstance(owner, CompareView):
            owner.set_flash(on)  # flash every canvas, not just the one clicked
        else:
            self.flash_original = on
            self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.update()


class CompareView(QWidget):
    """The before/after viewer of the selected page."""

    swipe_changed = Signal(bool)
    # A region of the original the user marked: the kind (PICTURE or TEXT) and the box in page pixels.
    region_marked = Signal(str, object)
    mark_mode_changed = Signal(object)  # the kind being marked, or None

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.state = ViewState(self)
        self.left = ImageCanvas(self.state, Show.ORIGINAL, self)
        self.right = ImageCanvas(self.state, Show.CLEANED, self)
        self.left.set_title("Original")
        self.right.set_title("Cleaned")
        self._layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._layout.addWidget(self.left)
        self._layout.addWidget(self.right)
        self._swipe = False
        self._flash = False
        self._page_size = QSize()  # the last page's, shown to compare (not a first look)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.left.region_marked.connect(self._on_region_marked)

    # Content ---------------------------------------------------------------------------
    def set_page(self, original: Optional[QImage], cleaned: Optional[QImage] = None,
                 places: Sequence[InkPlace] = ()) -> None:
        """Show a new page, with the content check's ``places`` on the cleaned page: fitted to the window
        unless it has the last page's size (the zoom stays, turning pages of a book)."""
        self.first_look(original, cleaned, places)
        if original is None:
            self.left.set_zones((), ZoneEdits())
        if original is None or self._page_size != self.left.image_size():
            self._page_size = self.left.image_size()
            self._choose_orientation()
            self.state.set_fit()

    def first_look(self, original: Optional[QImage], cleaned: Optional[QImage] = None,
                   places: Sequence[InkPlace] = ()) -> None:
        """Show a page while the one to compare is being made (the page as read), the zoom as it is."""
        self._original = QPixmap.fromImage(original) if original is not None else None
        self._cleaned = QPixmap.fromImage(cleaned) if cleaned is not None else None
        for canvas in (self.left, self.right):
            canvas.set_images(self._original, self._cleaned)
            canvas.set_places(places)
            canvas.set_cleaned_message("")

    def set_cleaned(self, cleaned: Optional[QImage], note: str = "") -> None:
        self._cleaned = QPixmap.fromImage(cleaned) if cleaned is not None else None
        for canvas in (self.left, self.right):
            canvas.set_images(self._original, self._cleaned)
            canvas.set_cleaned_message(note)

    def set_cleaned_message(self, text: str) -> None:
        for canvas in (self.left, self.right):
            canvas.set_cleaned_message(text)

    def set_message(self, text: str) -> None:
        for canvas in (self.left, self.right):
            canvas.set_message(text)

    # Page geometry ----------------------------------------------------------------------
    def set_geometry_edit(self, as_read: Optional[QImage], overlay: Optional[GeometryOverlay],
                          title: str = "") -> None:
        """Show the page as scanned (``as_read``; None: the original is as scanned) on the left with its
        geometry's ``overlay`` to drag; None ``overlay``: the original as usual."""
        left, toggled = self.left, (overlay is None) == self.editing_geometry
        if overlay is not None and self._swipe:
            self.set_swipe(False)  # the page as scanned and the cleaned page differ in shape
        left.as_read = None if overlay is None else QPixmap.fromImage(as_read) if as_read else self._original
        left.handles.overlay = overlay
        left.set_title("Original" if overlay is None else title)
        if toggled:  # the page as scanned, or back from it: another shape
            self.state.set_fit()
        left.update()

    @property
    def editing_geometry(self) -> bool:
        return self.left.handles.overlay is not None

    # Picture zones ----------------------------------------------------------------------
    def set_zones(self, zones: Sequence[Box], marks: Optional[ZoneEdits] = None) -> None:
        """Outline the page's picture zones and the user's ``marks`` (None: keep those shown) on the original."""
        self.left.set_zones(zones, marks)

    def set_marks(self, marks: ZoneEdits) -> None:
        """The user's marks of the page shown, at once; the zones follow when recomputed."""
        self.left.set_zones(self.left.zones(), marks)

    def set_zones_visible(self, on: bool) -> None:
        self.left.zones_visible = bool(on)
        self.left.update()

    @property
    def mark_mode(self) -> Optional[str]:
        return self.left.mark_kind

    def set_mark_mode(self, kind: Optional[str]) -> None:
        """Let the next drag on the original mark a region as ``kind`` (PICTURE or TEXT); None: drags pan."""
        if kind == self.left.mark_kind:
            return
        self.left.mark_kind = kind
        self.left.setCursor(Qt.CursorShape.CrossCursor if kind else Qt.CursorShape.OpenHandCursor)
        self.mark_mode_changed.emit(kind)

    def _on_region_marked(self, kind: str, box: Box) -> None:
        # One region per request: the next drag pans again, as the viewer's drags normally do.
        self.set_mark_mode(None)
        self.region_marked.emit(kind, box)

    def set_cleaned_title(self, text: str) -> None:
        self.right.set_title(text)

    def has_page(self) -> bool:
        return not self.left.image_size().isEmpty()

    def original(self) -> Optional[QPixmap]:
        """The page as read (in colour when it has colour), or None."""
        return getattr(self, "_original", None)

    def _choose_orientation(self) -> None:
        """Side by side for tall pages, one above the other for wide ones: whichever shows more."""
        size = self.left.image_size()
        if size.isEmpty() or self._swipe:
            return
        width, height = max(1, self.width()), max(1, self.height())
        beside = min(width / 2 / size.width(), height / size.height())
        stacked = min(width / size.width(), height / 2 / size.height())
        direction = (QBoxLayout.Direction.TopToBottom if stacked > beside * 1.1
                     else QBoxLayout.Direction.LeftToRight)
        if self._layout.direction() != direction:
            self._layout.setDirection(direction)

    @property
    def stacked(self) -> bool:
        return self._layout.direction() == QBoxLayout.Direction.TopToBottom

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._choose_orientation()

    # Modes -----------------------------------------------------------------------------
    @property
    def swipe(self) -> bool:
        return self._swipe

    def set_swipe(self, on: bool) -> None:
        self._swipe = bool(on)
        self.left.show_mode = Show.SWIPE if on else Show.ORIGINAL
        self.right.setVisible(not on)
        self._choose_orientation()
        self.left.update()
        self.swipe_changed.emit(self._swipe)

    def toggle_swipe(self) -> None:
        self.set_swipe(not self._swipe)

    def set_flash(self, on: bool) -> None:
        """While on, every cleaned view shows the original instead."""
        self._flash = on
        for canvas in (self.left, self.right):
            canvas.flash_original = on
            canvas.update()

    @property
    def flashing(self) -> bool:
        return self._flash

    # Zoom ------------------------------------------------------------------------------
    def zoom_in(self) -> None:
        self.left.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.left.zoom_by(1 / ZOOM_STEP)

    def fit(self) -> None:
        self.state.set_fit()

    def actual_size(self) -> None:
        self.left.actual_size()

    def _space_flash(self, event: QKeyEvent, on: bool) -> bool:
        if event.key() != Qt.Key.Key_Space or event.isAutoRepeat():
            return False
        self.set_flash(on)
        event.accept()
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._space_flash(event, True):
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if not self._space_flash(event, False):
            super().keyReleaseEvent(event)

    _original: Optional[QPixmap] = None
    _cleaned: Optional[QPixmap] = None
