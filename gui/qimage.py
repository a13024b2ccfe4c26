"""Turning engine pixels into QImages (safe on worker threads; QPixmap is not)."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from engine.io import to_uint8
from engine.io.display import display_pixels


def pixels_to_qimage(pixels: Any) -> QImage:
    """A deep-copied QImage of grey (HxW) or RGB (HxWx3) pixels as the engine returns them."""
    data = to_uint8(pixels)
    if not data.flags["C_CONTIGUOUS"]:
        data = data.copy()
    height, width = data.shape[:2]
    if data.ndim == 3 and data.shape[2] == 3:
        image = QImage(data.data, width, height, width * 3, QImage.Format.Format_RGB888)
    else:
        image = QImage(data.data, width, height, width, QImage.Format.Format_Grayscale8)
    # QImage only borrows the numpy buffer: copy before the array goes away.
    return image.copy()


def page_qimage(ref: Any, index: int = 0) -> QImage:
    """A page as a person sees it (in colour when it has colour): engine.io.display's pixels as a QImage."""
    return pixels_to_qimage(display_pixels(ref, index))


def thumbnail(image: QImage, size: int) -> QImage:
    return image.scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
