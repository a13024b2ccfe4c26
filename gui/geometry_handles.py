"""The page's geometry drawn on the original as scanned, with handles the user drags.

The outline of the paper (its four corners) and the line a spread is split
along, in page pixels as read; a drag moves one corner or the line, and its
end says where (``corners_moved``, ``split_moved``).  The canvas maps
between page and screen pixels; the engine turns the points into
corrections (engine.geometry.GeometryFix).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

from PySide6.QtCore import QObject, QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF

# Magenta: seen on white paper, on grey scanner lids and on most tables.
GEOMETRY_COLOUR = QColor(225, 0, 170)
# What is cleared around the paper: the page's colour, tinted, so the table under it stays visible.
CLEARED_TINT = QColor(225, 0, 170, 50)
# A handle's half size, and how near (screen pixels) a press must be to take it.
HANDLE_PX = 6
GRAB_PX = 12

ToScreen = Callable[[QPointF], QPointF]


@dataclass
class GeometryOverlay:
    """``outline``: the paper's corners (top-left, top-right, bottom-right, bottom-left); ``split``: the split
    line's two ends, or none; ``cleared``: outlines of what around the paper is made paper (a region's holes
    among them: what lies inside two outlines is kept); page pixels as read."""

    outline: list[QPointF]
    split: list[QPointF] = field(default_factory=list)
    top: int = 0  # the outline's edge (0 top, 1 right, 2 bottom, 3 left) that is the top once the page is upright
    cleared: list[list[QPointF]] = field(default_factory=list)


def _distance_to_segment(point: QPointF, a: QPointF, b: QPointF) -> float:
    dx, dy = b.x() - a.x(), b.y() - a.y()
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((point.x() - a.x()) * dx + (point.y() - a.y()) * dy) / length))
    return math.hypot(point.x() - (a.x() + t * dx), point.y() - (a.y() + t * dy))


class GeometryHandles(QObject):
    """The overlay of one canvas and the drag under way; inactive while ``overlay`` is None."""

    corners_moved = Signal(object)  # the four corners, (x, y) * 4 in page pixels as read
    split_moved = Signal(float, float)  # a point the split line now runs through, page pixels as read

    def __init__(self, to_screen: ToScreen, to_page: ToScreen, page_size: Callable[[], QSizeF],
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.to_screen, self.to_page, self.page_size = to_screen, to_page, page_size
        self.overlay: Optional[GeometryOverlay] = None
        self._dragging: Optional[int] = None  # a corner's index, or 4 for the split line

    @property
    def dragging(self) -> bool:
        return self._dragging is not None

    def handle_at(self, position: QPointF) -> Optional[int]:
        """The corner (0-3) or the split line (4) under ``position`` (screen), if any."""
        if self.overlay is None:
            return None
        corners = [self.to_screen(point) for point in self.overlay.outline]
        nearest = min(range(4), key=lambda i: math.hypot(*(corners[i] - position).toTuple()))
        if math.hypot(*(corners[nearest] - position).toTuple()) <= GRAB_PX:
            return nearest
        if self.overlay.split:
            ends = [self.to_screen(point) for point in self.overlay.split]
            if _distance_to_segment(position, ends[0], ends[1]) <= GRAB_PX:
                return 4
        return None

    def press(self, position: QPointF) -> bool:
        """Take the handle under ``position``; False when there is none (the press pans, as elsewhere)."""
        self._dragging = self.handle_at(position)
        return self._dragging is not None

    def move(self, position: QPointF) -> bool:
        if self.overlay is None or self._dragging is None:
            return False
        point = self._on_page(position)
        if self._dragging < 4:
            self.overlay.outline[self._dragging] = point
        else:  # the line moves sideways, as a whole
            shift = point.x() - (self.overlay.split[0].x() + self.overlay.split[1].x()) / 2
            self.overlay.split = [QPointF(end.x() + shift, end.y()) for end in self.overlay.split]
        return True

    def release(self, position: QPointF) -> bool:
        if self.overlay is None or self._dragging is None:
            return False
        self.move(position)
        dragged, self._dragging = self._dragging, None
        if dragged < 4:
            self.corners_moved.emit(tuple(value for point in self.overlay.outline for value in (point.x(), point.y())))
        else:
            middle = (self.overlay.split[0] + self.overlay.split[1]) / 2
            self.split_moved.emit(middle.x(), middle.y())
        return True

    def _on_page(self, position: QPointF) -> QPointF:
        point, size = self.to_page(position), self.page_size()
        return QPointF(max(0.0, min(size.width() - 1, point.x())), max(0.0, min(size.height() - 1, point.y())))

    def _paint_top(self, painter: QPainter, corners: list[QPointF]) -> None:
        """A tag on the edge that becomes the page's top: where a turn puts it, seen before it is made."""
        assert self.overlay is not None
        a, b = corners[self.overlay.top], corners[(self.overlay.top + 1) % 4]
        middle = (a + b) / 2
        text = "top"
        metrics = painter.fontMetrics()
        tag = QRectF(middle.x() - metrics.horizontalAdvance(text) / 2 - 5, middle.y() - metrics.height() / 2 - 2,
                     metrics.horizontalAdvance(text) + 10, metrics.height() + 4)
        painter.fillRect(tag, GEOMETRY_COLOUR)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_cleared(self, painter: QPainter) -> None:
        """What is made paper around the paper, hatched: the table or hand the page lay on."""
        assert self.overlay is not None
        if not self.overlay.cleared:
            return
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.OddEvenFill)
        for polygon in self.overlay.cleared:
            path.addPolygon(QPolygonF([self.to_screen(point) for point in polygon]))
            path.closeSubpath()
        painter.fillPath(path, QBrush(CLEARED_TINT))
        painter.fillPath(path, QBrush(GEOMETRY_COLOUR, Qt.BrushStyle.BDiagPattern))

    def paint(self, painter: QPainter) -> None:
        """The outline, its corner handles and the split line, two screen pixels wide at any zoom."""
        if self.overlay is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(GEOMETRY_COLOUR, 2)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        self._paint_cleared(painter)
        corners = [self.to_screen(point) for point in self.overlay.outline]
        painter.drawPolygon(QPolygonF(corners))
        if self.overlay.split:
            dashed = QPen(GEOMETRY_COLOUR, 2, Qt.PenStyle.DashLine)
            dashed.setCosmetic(True)
            painter.setPen(dashed)
            painter.drawLine(*(self.to_screen(point) for point in self.overlay.split))
        self._paint_top(painter, corners)
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        painter.setBrush(GEOMETRY_COLOUR)
        for corner in corners:
            painter.drawRect(QRectF(corner.x() - HANDLE_PX, corner.y() - HANDLE_PX, 2 * HANDLE_PX, 2 * HANDLE_PX))
        painter.restore()
