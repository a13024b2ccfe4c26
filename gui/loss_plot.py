"""A small live plot of training and validation loss per epoch, drawn with QPainter."""
from __future__ import annotations

import math
from typing import Optional

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

SERIES_COLOURS = {"loss": QColor(30, 110, 220), "val_loss": QColor(230, 120, 20)}
SERIES_LABELS = {"loss": "training", "val_loss": "validation"}


class LossPlot(QWidget):
    """Loss against epoch; one line per series, a dot per epoch."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.series: dict[str, list[float]] = {"loss": [], "val_loss": []}
        self.total_epochs = 0
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(480, 240)

    def clear(self, total_epochs: int = 0) -> None:
        self.series = {"loss": [], "val_loss": []}
        self.total_epochs = total_epochs
        self.update()

    def add_epoch(self, values: dict) -> None:
        """Append one epoch's values (keys 'loss' and, when there is one, 'val_loss')."""
        for name in self.series:
            value = values.get(name)
            if value is not None and math.isfinite(float(value)):
                self.series[name].append(float(value))
        self.update()

    def point_count(self) -> int:
        return max(len(v) for v in self.series.values())

    # ---------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        metrics = painter.fontMetrics()
        left = metrics.horizontalAdvance("0.00000") + 12
        plot = QRectF(left, 10, self.width() - left - 12, self.height() - 10 - 2 * metrics.height() - 8)
        text_colour = self.palette().text().color()
        painter.setPen(QPen(QColor(150, 150, 150), 1))
        painter.drawRect(plot)

        values = [v for s in self.series.values() for v in s]
        epochs = max(self.total_epochs, self.point_count(), 1)
        if not values:
            painter.setPen(text_colour)
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "Loss per epoch appears here")
            self._draw_x_axis(painter, plot, epochs, text_colour)
            return
        low, high = min(values), max(values)
        if high - low < 1e-12:
            low, high = low * 0.9, high * 1.1 + 1e-6
        pad = (high - low) * 0.08
        low, high = max(0.0, low - pad), high + pad

        def to_point(epoch_index: int, value: float) -> QPointF:
            if epochs > 1:
                x = plot.left() + epoch_index / (epochs - 1) * plot.width()
            else:
                x = plot.center().x()
            y = plot.bottom() - (value - low) / (high - low) * plot.height()
            return QPointF(x, y)

        # Horizontal grid at round loss values.
        step = _nice_step((high - low) / 4)
        value = math.ceil(low / step) * step
        while value <= high + 1e-12:
            y = plot.bottom() - (value - low) / (high - low) * plot.height()
            painter.setPen(QPen(QColor(210, 210, 210), 1, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text_colour)
            painter.drawText(
                QRectF(0, y - metrics.height() / 2, left - 6, metrics.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                _format(value, step),
            )
            value += step
        self._draw_x_axis(painter, plot, epochs, text_colour)

        for name, points in self.series.items():
            if not points:
                continue
            colour = SERIES_COLOURS[name]
            path = QPainterPath(to_point(0, points[0]))
            for i, value in enumerate(points[1:], start=1):
                path.lineTo(to_point(i, value))
            painter.setPen(QPen(colour, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.setBrush(colour)
            for i, value in enumerate(points):
                painter.drawEllipse(to_point(i, value), 3.5, 3.5)

        # Legend with the latest values, top right: falling curves leave that corner free.
        entries = [(name, f"{SERIES_LABELS[name]} {_format(points[-1])}")
                   for name, points in self.series.items() if points]
        width = sum(22 + metrics.horizontalAdvance(text) + 16 for _, text in entries)
        box = QRectF(plot.right() - width - 4, plot.top() + 4, width, metrics.height() + 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.palette().base())
        painter.drawRect(box)
        x, y = box.left() + 8, box.top() + 3
        for name, text in entries:
            painter.setPen(QPen(SERIES_COLOURS[name], 3))
            painter.drawLine(QPointF(x, y + metrics.height() / 2), QPointF(x + 16, y + metrics.height() / 2))
            painter.setPen(text_colour)
            painter.drawText(QPointF(x + 22, y + metrics.ascent()), text)
            x += 22 + metrics.horizontalAdvance(text) + 16

    def _draw_x_axis(self, painter: QPainter, plot: QRectF, epochs: int, colour: QColor) -> None:
        metrics = painter.fontMetrics()
        painter.setPen(colour)
        step = max(1, math.ceil(epochs / 10))
        for epoch in range(1, epochs + 1, step):
            x = plot.left() + ((epoch - 1) / (epochs - 1) * plot.width() if epochs > 1 else plot.width() / 2)
            painter.drawText(
                QRectF(x - 20, plot.bottom() + 2, 40, metrics.height()), Qt.AlignmentFlag.AlignHCenter, str(epoch)
            )
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + metrics.height() + 4, plot.width(), metrics.height()),
            Qt.AlignmentFlag.AlignHCenter,
            "epoch",
        )


def _nice_step(raw: float) -> float:
    """The 1, 2 or 5 times a power of ten nearest above ``raw``: grid lines at round values."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _format(value: float, step: float = 0.0) -> str:
    if step:
        decimals = max(0, -math.floor(math.log10(step)))
        return f"{value:.{decimals}f}"
    return f"{value:.4f}" if value >= 1e-3 else f"{value:.2e}"
