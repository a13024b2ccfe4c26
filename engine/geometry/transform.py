"""A page's geometry as one transform: crop and perspective, quarter turns and deskew, applied in one warp.

Every step is a 3 x 3 matrix from output pixels to the pixels it comes
from; their product is applied once (one interpolation, not three), and a
page only turned by quarter turns is turned exactly, without interpolation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import cv2
import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class PageGeometry:
    """What the geometry stage found for a page, and the transform that applies it.

    ``shape``: the input's (height, width); ``corners``: the paper's corners in
    it (x, y; top-left, top-right, bottom-right, bottom-left), None when the
    page fills the image; ``turns``: quarter turns clockwise made; ``skew``:
    degrees the lines were turned anticlockwise, undone; ``source``: the 3 x 3
    matrix from output to input pixels; ``size``: the output's (width, height);
    ``notes``: doubts the user should hear about (a page left as scanned).
    """

    shape: tuple[int, int]
    corners: Optional[NDArray[np.float64]] = None
    turns: int = 0
    skew: float = 0.0
    source: Matrix = field(default_factory=lambda: np.eye(3))
    size: Optional[tuple[int, int]] = None
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether applying the geometry changes the page."""
        return self.size is not None and (self.size != (self.shape[1], self.shape[0])
                                          or not np.allclose(self.source, np.eye(3)))

    def describe(self) -> str:
        """What was done, for an output's provenance: e.g. "turns=1 skew=-2.31 corners=10,12,2470,8,..."."""
        text = f"turns={self.turns} skew={self.skew:.2f}"
        if self.corners is not None:
            text += " corners=" + ",".join(f"{value:.0f}" for value in self.corners.ravel())
        if self.size is not None:
            text += f" size={self.size[0]}x{self.size[1]}"
        return text


def translation(dx: float, dy: float) -> Matrix:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def quarter_turns(turns: int, width: float, height: float) -> Matrix:
    """From a page turned ``turns`` quarter turns clockwise to the page (``width`` x ``height``) before."""
    turns %= 4
    if turns == 1:  # np.rot90(page, -1): the output's column is the input's row
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, height - 1], [0.0, 0.0, 1.0]])
    if turns == 2:
        return np.array([[-1.0, 0.0, width - 1], [0.0, -1.0, height - 1], [0.0, 0.0, 1.0]])
    if turns == 3:
        return np.array([[0.0, -1.0, width - 1], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    return np.eye(3)


def turned_back(degrees: float, centre: tuple[float, float]) -> Matrix:
    """From the page straightened (its lines turned clockwise by ``degrees``) to the page before, about ``centre``."""
    # OpenCV's matrix turns the page anticlockwise by its angle; the output's pixel comes from there.
    forward = np.vstack([cv2.getRotationMatrix2D(centre, -degrees, 1.0), [0.0, 0.0, 1.0]])
    return np.linalg.inv(forward)


def rectified(corners: NDArray[np.float64], width: float, height: float) -> Matrix:
    """From a ``width`` x ``height`` rectangle to the quadrilateral ``corners`` (the perspective undone)."""
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    return cv2.getPerspectiveTransform(target, corners.astype(np.float32)).astype(np.float64)


def scaled(matrix: Matrix, scale: float) -> Matrix:
    """``matrix`` found on a copy ``scale`` times the page's size, for the page itself (both sides scaled)."""
    to_small, to_page = np.diag([scale, scale, 1.0]), np.diag([1 / scale, 1 / scale, 1.0])
    return to_page @ matrix @ to_small


def apply_geometry(pixels: np.ndarray, geometry: PageGeometry, fill: Optional[float] = None) -> np.ndarray:
    """``pixels`` (2-D grey, uint8 or float) as ``geometry`` says: the same array when nothing changes.

    Where the output reaches beyond the input it is ``fill`` (grey in the
    pixels' own scale; default: the page's paper, its 90th percentile).
    """
    if not geometry.changed or geometry.size is None:
        return pixels
    source = geometry.source
    exact = np.allclose(source, quarter_turns(geometry.turns, pixels.shape[1], pixels.shape[0]))
    if exact:
        return np.ascontiguousarray(np.rot90(pixels, -geometry.turns))
    if fill is None:
        step = max(1, int(np.sqrt(pixels.size / 250_000)))
        fill = float(np.percentile(pixels[::step, ::step], 90))
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    if np.allclose(source[2], [0.0, 0.0, 1.0]):
        return cv2.warpAffine(pixels, source[:2], geometry.size, flags=flags, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=fill)
    return cv2.warpPerspective(pixels, source, geometry.size, flags=flags, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=fill)
