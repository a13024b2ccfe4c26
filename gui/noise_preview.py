"""A strip of sample glyphs: clean on top, with the chosen noise below."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

CELL = 44
GAP = 4
ROW_LABEL = 44


class NoisePreview(QWidget):
    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._samples: list[tuple[QImage, QImage, str]] = []
        self._message = "The noisy inputs appear here"
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.sizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(ROW_LABEL + 8 * (CELL + GAP), 2 * (CELL + GAP) + 18)

    def set_samples(self, samples: list[tuple[QImage, QImage, str]]) -> None:
        self._samples = samples
        self._message = ""
        self.update()

    def set_message(self, text: str) -> None:
        self._message = text
        if text:
            self.setToolTip(text)
        self.update()

    def sample_count(self) -> int:
        return len(self._samples)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().text().color())
        if not self._samples or self._message:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._message or "")
            if not self._samples:
                return
        metrics = painter.fontMetrics()
        cell = min(CELL, max(16, (self.width() - ROW_LABEL) // max(1, len(self._samples)) - GAP))
        top = metrics.height() + 2
        for row, title in enumerate(("clean", "noisy")):
            y = top + row * (cell + GAP)
            painter.drawText(QRectF(0, y, ROW_LABEL - 4, cell),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, title)
        for i, (clean, noisy, label) in enumerate(self._samples):
            x = ROW_LABEL + i * (cell + GAP)
            painter.drawText(QRectF(x, 0, cell, top), Qt.AlignmentFlag.AlignCenter, label)
            for row, image in enumerate((clean, noisy)):
                target = QRectF(x, top + row * (cell + GAP), cell, cell)
                painter.fillRect(target, QColor(0, 0, 0))
                painter.drawImage(target, image)
