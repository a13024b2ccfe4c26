"""Outlines drawn over a page in the before/after viewer.

The content check's places on the cleaned page, the picture zones and the user's marks on the
original, and the rubber band of a region being marked. Every outline is two screen pixels wide
at any zoom; boxes are given in page pixels and placed on screen by ``to_widget``.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from engine.cleaning.ink import PUT_BACK, InkPlace
from engine.cleaning.pictures import PICTURE, Box, ZoneEdits

# The content check's places on the cleaned page: orange where ink was put back, red where it is missing.
PUT_BACK_COLOUR = QColor(255, 140, 0)
MISSING_COLOUR = QColor(230, 30, 30)
# The picture zones on the original: blue where a picture keeps its tones; the user's text marks green.
PICTURE_COLOUR = QColor(30, 110, 255)
TEXT_COLOUR = QColor(0, 160, 60)

ToWidget = Callable[[QPointF], QPointF]


def paint_places(painter: QPainter, places: Sequence[InkPlace], to_widget: ToWidget) -> None:
    """Outline the places on the cleaned page, two screen pixels wide at any zoom."""
    if not places:
        return
    painter.save()
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for place in places:
        pen = QPen(PUT_BACK_COLOUR if place.kind == PUT_BACK else MISSING_COLOUR, 2)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawRect(QRectF(to_widget(QPointF(place.left, place.top)),
                                to_widget(QPointF(place.right, place.bottom))))
    painter.restore()


def paint_zones(
    painter: QPainter, base_font: QFont, zones: Sequence[Box], marks: ZoneEdits, to_widget: ToWidget,
) -> None:
    """Outline the picture zones (blue) and the user's marks (dashed: blue picture, green text)
    on the original, two screen pixels wide at any zoom, each with a small label."""
    if not (zones or not marks.empty):
        return
    painter.save()
    painter.setBrush(Qt.BrushStyle.NoBrush)
    font = QFont(base_font)
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
    painter.setFont(font)
    for boxes, colour, style, label in (
            (zones, PICTURE_COLOUR, Qt.PenStyle.SolidLine, "picture"),
            (marks.pictures, PICTURE_COLOUR, Qt.PenStyle.DashLine, "marked picture"),
            (marks.text, TEXT_COLOUR, Qt.PenStyle.DashLine, "marked text")):
        for box in boxes:
            rect = box_rect(box, to_widget)
            pen = QPen(colour, 2, style)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawRect(rect)
            draw_label(painter, rect, label, colour, below=style is Qt.PenStyle.DashLine)
    painter.restore()


def box_rect(box: Box, to_widget: ToWidget) -> QRectF:
    """A box (page pixels: top, left, bottom, right) as a rectangle on screen."""
    top, left, bottom, right = box
    return QRectF(to_widget(QPointF(left, top)), to_widget(QPointF(right, bottom)))


def draw_label(painter: QPainter, rect: QRectF, text: str, colour: QColor, below: bool) -> None:
    """A small filled tag in the box's corner: top left for a zone, bottom left for a mark, so a
    zone and the mark it came from do not hide each other's words."""
    metrics = painter.fontMetrics()
    width, height = metrics.horizontalAdvance(text) + 8, metrics.height() + 2
    if rect.width() < width or rect.height() < height * 2:
        return  # a box too small on screen for its words says it by its colour
    y = rect.bottom() - height if below else rect.top()
    tag = QRectF(rect.left(), y, width, height)
    painter.fillRect(tag, colour)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)


def paint_rubber_band(
    painter: QPainter, kind: Optional[str], start: Optional[QPointF], end: Optional[QPointF],
) -> None:
    """The region being marked (widget coordinates), in the colour of what it will be."""
    if start is None or end is None:
        return
    painter.save()
    colour = PICTURE_COLOUR if kind == PICTURE else TEXT_COLOUR
    painter.setPen(QPen(colour, 2, Qt.PenStyle.DashLine))
    fill = QColor(colour)
    fill.setAlpha(40)
    painter.setBrush(fill)
    painter.drawRect(QRectF(start, end).normalized())
    painter.restore()
