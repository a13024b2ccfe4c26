"""Finding a page's geometry: the paper, which way is up, and the lines' skew, each only when confident."""
from __future__ import annotations

import logging
from typing import Optional

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.geometry.options import GeometryOptions
from engine.geometry.orientation import SURE_RISES, UPRIGHT_RISES, lines_run_down, rises_over_falls, tesseract_turns
from engine.geometry.page_outline import find_page_corners, rectangle_size
from engine.geometry.skew import line_angle
from engine.geometry.transform import (Matrix, PageGeometry, quarter_turns, rectified, translation,
                                       turned_back)
from engine.geometry.working_copy import Letters, ink_marks, letters, working_copy
from engine.vocabulary import Crop, Rotation

#: Skews smaller than this (degrees) are left alone: within the measurement's own error, turning would
#: blur the page for nothing visible.
MIN_SKEW = 0.1

#: The margin kept around the content with ``Crop.CONTENT``, as a share of the page's longer side.
CONTENT_MARGIN = 0.03

_log = logging.getLogger(__name__)

# The resolution assumed for Tesseract when the file does not say (dots per inch).
_ASSUMED_DPI = 300.0


def find_geometry(pixels: np.ndarray, options: GeometryOptions = GeometryOptions(),
                  dpi: Optional[float] = None) -> PageGeometry:
    """What ``options`` allow doing to ``pixels`` (2-D grey, uint8 or float in [0, 1]) to make it upright,
    straight and cropped, found on a small copy; apply it with engine.geometry.apply_geometry.

    ``dpi`` (the page's resolution, when known) helps Tesseract tell which
    way is up where the page's own evidence is not enough.
    """
    shape = (int(pixels.shape[0]), int(pixels.shape[1]))
    if not options.active:
        return PageGeometry(shape)
    try:
        return _found(pixels, shape, options, dpi)
    except (cv2.error, ValueError, ArithmeticError, np.linalg.LinAlgError):
        # The geometry only improves a page: one it cannot handle is cleaned as scanned, never lost.
        _log.warning("the geometry of a %s page failed", shape, exc_info=True)
        return PageGeometry(shape, notes=("its geometry could not be found: left as scanned",))


def _found(pixels: np.ndarray, shape: tuple[int, int], options: GeometryOptions,
           dpi: Optional[float]) -> PageGeometry:
    work = working_copy(pixels)
    found = letters(ink_marks(work.grey))
    corners = find_page_corners(work.grey, found) if options.crop != Crop.OFF else None
    grey = work.grey
    if corners is not None:
        grey, found = _redrawn(work.grey, _layout(work.grey.shape, corners, 0, 0.0)[0], corners, found)
    notes: list[str] = []
    runs_down = lines_run_down(found)
    turns = 0 if options.rotate == Rotation.AUTO else int(options.rotate) // 90
    if options.rotate == Rotation.AUTO and runs_down:
        turns = 1
    skew = 0.0
    if options.deskew and runs_down is not None:
        measured = line_angle(np.ascontiguousarray(np.rot90(found.mask, -turns)))
        if measured is not None and measured.sure and abs(measured.angle) >= MIN_SKEW:
            skew = measured.angle
    if options.rotate == Rotation.AUTO and runs_down is not None:
        upright = _which_way_up(grey, turns, skew, (dpi or _ASSUMED_DPI) * work.scale)
        if upright is None:
            if runs_down:
                notes.append("its lines run down the page, but which way is up is unclear: left as scanned")
                turns, skew = 0, 0.0
        else:
            turns = (turns + upright) % 4
    page_corners = None if corners is None else corners / work.scale
    boxes = found.boxes.astype(np.float64) / work.scale
    source, size = _layout(shape, page_corners, turns, skew, boxes, options.crop == Crop.CONTENT)
    return PageGeometry(shape, page_corners, turns, skew, source, size, tuple(notes))


def _which_way_up(grey: NDArray[np.uint8], turns: int, skew: float, dpi: float) -> Optional[int]:
    """Half turns (0 or 2) more that make the page upright once turned by ``turns`` and straightened;
    None when neither the letters nor Tesseract can tell."""
    source, size = _layout(grey.shape, None, turns, skew)
    straight = np.asarray(cv2.warpAffine(grey, source[:2], size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                         borderMode=cv2.BORDER_REPLICATE), np.uint8)
    found = letters(ink_marks(straight))
    ratio = rises_over_falls(found, straight.shape[0])
    if ratio is not None and ratio >= UPRIGHT_RISES:
        return 0
    if ratio is not None and ratio <= 1 / SURE_RISES:
        return 2
    # Unclear from the letters (Cyrillic, handwriting, digits): Tesseract, when installed, tells.
    told = tesseract_turns(straight, dpi)
    if told in (0, 2):
        return told
    # Most pages are upright: one whose lines run across stays as scanned when nothing says otherwise.
    return None if turns else 0


def _redrawn(grey: NDArray[np.uint8], source: Matrix, corners: NDArray[np.float64],
             found: Letters) -> tuple[NDArray[np.uint8], Letters]:
    """The working copy within ``corners``, perspective undone, and its letters."""
    size = rectangle_size(corners, (grey.shape[1] / 2, grey.shape[0] / 2))
    flat = np.asarray(cv2.warpPerspective(grey, source, (round(size[0]), round(size[1])),
                                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                          borderMode=cv2.BORDER_REPLICATE), np.uint8)
    return flat, letters(ink_marks(flat))


def _layout(shape: tuple[int, int], corners: Optional[NDArray[np.float64]], turns: int, skew: float,
            content: Optional[NDArray[np.float64]] = None, to_content: bool = False) -> tuple[Matrix, tuple[int, int]]:
    """The matrix from output to input pixels of a page of ``shape``, and the output's (width, height).

    The paper within ``corners`` is made a rectangle, turned by ``turns``
    and straightened by ``skew``.  ``content`` are the letters' boxes (x, y,
    width, height) on that rectangle before turning: the canvas grows where
    straightening would carry them beyond it, and ``to_content`` crops it to
    them and a margin.
    """
    height, width = float(shape[0]), float(shape[1])
    source: Matrix = np.eye(3)
    if corners is not None:
        width, height = rectangle_size(corners, (width / 2, height / 2))
        source = rectified(corners, width, height)
    rectangle_to_input = source
    source = source @ quarter_turns(turns, width, height)
    if turns % 2:
        width, height = height, width
    if skew:
        source = source @ turned_back(skew, (width / 2, height / 2))
    left, top, right, bottom = 0.0, 0.0, width, height
    if content is not None and len(content):
        # Where the letters land once turned and straightened.
        placed = _moved(_box_corners(content), np.linalg.inv(source) @ rectangle_to_input)
        low, high = placed.min(axis=0), placed.max(axis=0)
        if to_content:
            margin = CONTENT_MARGIN * max(width, height)
            left, top = float(max(low[0] - margin, min(0.0, low[0]))), float(max(low[1] - margin, min(0.0, low[1])))
            right = float(min(high[0] + margin, max(width, high[0])))
            bottom = float(min(high[1] + margin, max(height, high[1])))
        else:
            left, top = min(left, float(low[0])), min(top, float(low[1]))
            right, bottom = max(right, float(high[0])), max(bottom, float(high[1]))
    source = source @ translation(left, top)
    return source, (max(1, round(right - left)), max(1, round(bottom - top)))


def _box_corners(boxes: NDArray[np.float64]) -> NDArray[np.float64]:
    x, y, w, h = boxes.T
    return np.concatenate([np.stack([x, y], 1), np.stack([x + w, y + h], 1),
                           np.stack([x + w, y], 1), np.stack([x, y + h], 1)])


def _moved(points: NDArray[np.float64], matrix: Matrix) -> NDArray[np.float64]:
    homogeneous = np.hstack([points, np.ones((len(points), 1))]) @ matrix.T
    return homogeneous[:, :2] / homogeneous[:, 2:3]
