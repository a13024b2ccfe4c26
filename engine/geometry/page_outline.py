"""Where the paper is in a scan or a photograph: its four corners, and the shape it had.

The paper is the large bright region; what surrounds it (a scanner's lid
and bed, a table, a hand) is darker.  Its outline is simplified to four
corners only when it is clearly a quadrilateral with paper inside and
something darker outside; otherwise the page is taken to fill the image.
The rectangle the corners came from (its aspect ratio under perspective)
follows Zhang and He's whiteboard method.
"""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.geometry.working_copy import Letters

# The paper must cover this share of the image at least, and leave this much of it uncovered.
MIN_PAPER, MAX_PAPER = 0.2, 0.96

# The paper is this much brighter (of 255) than what lies around it.
MIN_CONTRAST = 30

# The four corners' area may differ from the bright region's outline by this share at most.
OUTLINE_TOLERANCE = 0.02

# An outline along the image's border comes from a scanner: its corners are right angles within this (degrees).
SCANNER_ANGLE = 3.0

# Share of the letters that may lie beyond the outline (specks on a bed, print on a lid).
MAX_LETTERS_BEYOND = 0.02

Corners = NDArray[np.float64]


def find_page_corners(grey: NDArray[np.uint8], found: Letters) -> Optional[Corners]:
    """The paper's corners in ``grey`` (a working copy), top-left, top-right, bottom-right, bottom-left,
    as (4, 2) x, y; None when the paper fills the image or its outline is unclear.

    ``found`` are the page's letters: an outline with text beyond it is not
    the paper's (one page of an open book, a gutter's shadow), and is refused.
    """
    height, width = grey.shape
    blurred = cv2.GaussianBlur(grey, (5, 5), 0)
    level, bright = cv2.threshold(blurred, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    size = 2 * (max(height, width) // 100) + 1
    # Closing fills the text; opening cuts thin bright bridges to the surroundings (a lamp's reflection).
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    share = cv2.contourArea(hull) / float(height * width)
    if not MIN_PAPER <= share <= MAX_PAPER:
        return None
    corners = _four_corners(hull)
    if corners is None or not _plausible(corners, grey, found, bright.astype(bool)):
        return None
    # The four corners must be the outline, not a simplification of a fifth corner away.
    if abs(cv2.contourArea(corners.astype(np.float32)) - cv2.contourArea(hull)) > OUTLINE_TOLERANCE * cv2.contourArea(hull):
        return None
    return corners


def _four_corners(hull: np.ndarray) -> Optional[Corners]:
    """The hull simplified to four points, in order; None when it is not a quadrilateral."""
    perimeter = cv2.arcLength(hull, True)
    for tolerance in (0.005, 0.01, 0.02):
        polygon = cv2.approxPolyDP(hull, tolerance * perimeter, True)
        if len(polygon) == 4:
            break
    else:
        return None
    points = polygon.reshape(4, 2).astype(np.float64)
    # Top-left has the smallest x + y, bottom-right the largest; top-right the smallest y - x.
    total, difference = points.sum(axis=1), points[:, 1] - points[:, 0]
    ordered = np.array([points[np.argmin(total)], points[np.argmin(difference)],
                        points[np.argmax(total)], points[np.argmax(difference)]])
    if len({tuple(p) for p in ordered}) < 4:
        return None
    return ordered


def _plausible(corners: Corners, grey: NDArray[np.uint8], found: Letters, bright: NDArray[np.bool_]) -> bool:
    """A convex outline with corners near right angles, at least two edges of its own (not the image's),
    darker outside, and no text on paper (``bright``) beyond it."""
    on_border = _edges_on_the_border(corners, grey.shape)
    if on_border > 2:
        return False  # a bright part of a photograph, not a sheet of paper
    turns = []
    for index in range(4):
        a, b, c = corners[index - 1], corners[index], corners[(index + 1) % 4]
        first, second = a - b, c - b
        cosine = first @ second / (np.linalg.norm(first) * np.linalg.norm(second) + 1e-9)
        turns.append(np.degrees(np.arccos(np.clip(cosine, -1, 1))))
        (ux, uy), (vx, vy) = b - a, c - b
        if ux * vy - uy * vx <= 0:  # y grows downwards: clockwise corners turn right
            return False
    if not all(50 <= angle <= 130 for angle in turns):
        return False
    if on_border and not all(abs(angle - 90) <= SCANNER_ANGLE for angle in turns):
        return False
    inside = np.zeros(grey.shape, np.uint8)
    cv2.fillConvexPoly(inside, np.round(corners).astype(np.int32), 1)
    paper, beyond = grey[inside == 1], grey[inside == 0]
    if beyond.size == 0 or float(np.median(paper)) - float(np.median(beyond)) < MIN_CONTRAST:
        return False
    if found.count:
        centres = (found.boxes[:, :2] + found.boxes[:, 2:] // 2).clip(0, [grey.shape[1] - 1, grey.shape[0] - 1])
        # A letter a little beyond the outline is the outline's error, not text on the bed.
        near = cv2.dilate(inside, np.ones((9, 9), np.uint8))
        # Specks on a dark bed are no text; letters on bright paper beyond the outline are.
        outside = (near[centres[:, 1], centres[:, 0]] == 0) & bright[centres[:, 1], centres[:, 0]]
        if outside.mean() > MAX_LETTERS_BEYOND:
            return False
    return True


def _edges_on_the_border(corners: Corners, shape: tuple[int, ...]) -> int:
    """How many of the outline's edges run along the image's border (within 1 % of its size)."""
    height, width = shape[:2]
    near = 0.01 * max(height, width)
    count = 0
    for index in range(4):
        a, b = corners[index], corners[(index + 1) % 4]
        count += bool(max(a[0], b[0]) <= near or min(a[0], b[0]) >= width - 1 - near
                      or max(a[1], b[1]) <= near or min(a[1], b[1]) >= height - 1 - near)
    return count


def rectangle_size(corners: Corners, centre: tuple[float, float]) -> tuple[float, float]:
    """The width and height of the rectangle seen as ``corners`` (image pixels, camera's axis at ``centre``).

    The width is the longer of the top and bottom edges; the height follows
    from the aspect ratio recovered from the perspective (Zhang and He),
    or from the edges' lengths when the sides are nearly parallel (a scan).
    """
    top_left, top_right, bottom_right, bottom_left = (np.array([x - centre[0], y - centre[1], 1.0])
                                                      for x, y in corners)
    def length(a: int, b: int) -> float:
        return float(np.linalg.norm(corners[b] - corners[a]))

    width = max(length(0, 1), length(3, 2))
    by_edges = width / max(length(0, 3), length(1, 2), 1.0)
    k2 = np.cross(top_left, bottom_right) @ bottom_left / (np.cross(top_right, bottom_right) @ bottom_left)
    k3 = np.cross(top_left, bottom_right) @ top_right / (np.cross(bottom_left, bottom_right) @ top_right)
    n2, n3 = k2 * top_right - top_left, k3 * bottom_left - top_left
    aspect = by_edges
    if abs(n2[2]) > 1e-6 and abs(n3[2]) > 1e-6:
        focal_squared = -(n2[0] * n3[0] + n2[1] * n3[1]) / (n2[2] * n3[2])
        if focal_squared > 0:
            scale = np.array([1 / focal_squared, 1 / focal_squared, 1.0])
            recovered = float(np.sqrt((n2 * n2 * scale).sum() / (n3 * n3 * scale).sum()))
            # A focal length from nearly parallel edges is noise: keep the edges' ratio then.
            if 0.25 < recovered < 4 and abs(recovered - by_edges) < 0.3 * by_edges:
                aspect = recovered
    return float(width), float(width / aspect)
