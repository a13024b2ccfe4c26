"""A small live plot of the training loss, drawn with QPainter.

Epoch values (training and validation) are dots joined by lines; the loss
reported during an epoch is drawn as faint dots, so a long epoch shows life
before its first epoch point.  The x axis counts epochs done: an epoch's point
sits at its end, a batch's at its fraction of the epoch.
"""
from __future__ import annotations

import math
from typing import Optional

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

SERIES_COLOURS = {"loss": QColor(30, 110, 220), "val_loss": QColor(230, 120, 20)}
SERIES_LABELS = {"loss": "training", "val_loss": "validation"}
BATCH_ALPHA = 120  # faint: batch losses are noisy, the epoch line is the one to read


class LossPlot(QWidget):
    """Loss against epochs done: a line per epoch series, faint dots for batches."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.series: dict[str, list[float]] = {"loss": [], "val_loss": []}
        self.batches: list[tuple[float, float]] = []  # (epochs done, loss)
        self.total_epochs = 0
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(480, 240)

    def clear(self, total_epochs: int = 0) -> None:
        self.series = {"loss": [], "val_loss": []}
        self.batches = []
        self.total_epochs = total_epochs
        self.update()

    def add_epoch(self, values: dict[str, float]) -> None:
        """Append one epoch's values (keys 'loss' and, when there is one, 'val_loss')."""
        for name in self.series:
            value = values.get(name)
            if value is not None and math.isfinite(float(value)):
                self.series[name].append(float(value))
        self.update()

    def add_batch(self, position: float, loss: float) -> None:
        """One training loss reported during an epoch; ``position`` is in epochs (2.5: half-way through the third)."""
        if math.isfinite(loss) and math.isfinite(position):
            self.batches.append((position, float(loss)))
            self.update()

    def point_count(self) -> int:
        """Epoch points drawn."""
        return max(len(v) for v in self.series.values())

    def batch_count(self) -> int:
        return len(self.batches)

    # ---------------------------------------------------------------------------------
    def _value_range(self) -> Optional[tuple[float, float]]:
        """The losses the y axis spans: every epoch value and the batches of the epoch under way.

        Earlier batches are left out: the first batches' loss is many times the
        later epochs' and would flatten the curve that matters.
        """
        done = self.point_count()
        values = [v for s in self.series.values() for v in s]
        values += [loss for position, loss in self.batches if position > done]
        if not values:
            return None
        low, high = min(values), max(values)
        if high - low < 1e-12:
            low, high = low * 0.9, high * 1.1 + 1e-6
        pad = (high - low) * 0.08
        return max(0.0, low - pad), high + pad

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

        last_batch = self.batches[-1][0] if self.batches else 0.0
        epochs = max(self.total_epochs, self.point_count(), math.ceil(last_batch), 1)
        value_range = self._value_range()
        self._draw_x_axis(painter, plot, epochs, text_colour)
        if value_range is None:
            painter.setPen(text_colour)
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "The loss appears here, batch by batch")
            return
        low, high = value_range

        def to_point(position: float, value: float) -> QPointF:
            x = plot.left() + position / epochs * plot.width()
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

        painter.save()
        painter.setClipRect(plot.adjusted(-4, -4, 4, 4))  # earlier batches may lie above the range
        faint = QColor(SERIES_COLOURS["loss"])
        faint.setAlpha(BATCH_ALPHA)
        painter.setPen(QPen(faint, 4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawPoints(QPolygonF([to_point(position, loss) for position, loss in self.batches]))

        for name, points in self.series.items():
            if not points:
                continue
            colour = SERIES_COLOURS[name]
            path = QPainterPath(to_point(1, points[0]))
            for i, value in enumerate(points[1:], start=2):
                path.lineTo(to_point(i, value))
            painter.setPen(QPen(colour, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.setBrush(colour)
            for i, value in enumerate(points, start=1):
                painter.drawEllipse(to_point(i, value), 3.5, 3.5)
        painter.restore()
        self._draw_legend(painter, plot, text_colour)

    def _draw_legend(self, painter: QPainter, plot: QRectF, text_colour: QColor) -> None:
        """The latest values, top right: falling curves leave that corner free."""
        metrics = painter.fontMetrics()
        entries = [(SERIES_COLOURS[name], f"{SERIES_LABELS[name]} {_format(points[-1])}")
                   for name, points in self.series.items() if points]
        if self.batches and self.batches[-1][0] > self.point_count():
            faint = QColor(SERIES_COLOURS["loss"])
            faint.setAlpha(BATCH_ALPHA)
            entries.insert(0, (faint, f"batch {_format(self.batches[-1][1])}"))
        width = sum(22 + metrics.horizontalAdvance(text) + 16 for _, text in entries)
        box = QRectF(plot.right() - width - 4, plot.top() + 4, width, metrics.height() + 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.palette().base())
        painter.drawRect(box)
        x, y = box.left() + 8, box.top() + 3
        for colour, text in entries:
            painter.setPen(QPen(colour, 3))
            painter.drawLine(QPointF(x, y + metrics.height() / 2), QPointF(x + 16, y + metrics.height() / 2))
            painter.setPen(text_colour)
            painter.drawText(QPointF(x + 22, y + metrics.ascent()), text)
            x += 22 + metrics.horizontalAdvance(text) + 16

    def _draw_x_axis(self, painter: QPainter, plot: QRectF, epochs: int, colour: QColor) -> None:
        metrics = painter.fontMetrics()
        painter.setPen(colour)
        step = max(1, math.ceil(epochs / 10))
        for epoch in range(0, epochs + 1, step):
            x = plot.left() + epoch / epochs * plot.width()
            painter.drawText(
                QRectF(x - 20, plot.bottom() + 2, 40, metrics.height()), Qt.AlignmentFlag.AlignHCenter, str(epoch)
            )
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + metrics.height() + 4, plot.width(), metrics.height()),
            Qt.AlignmentFlag.AlignHCenter,
            "epochs",
        )


def _nice_step(raw: float) -> float:
    """The 1, 2 or 5 times a power of ten nearest above ``raw``: grid lines at round values."""
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _format(value: float, step: float = 0.0) -> str:
    if step:
        decimals = max(0, -math.floor(math.log10(step)))
        return f"{value:.{decimals}f}"
    return f"{value:.4f}" if value >= 1e-3 else f"{value:.2e}"
