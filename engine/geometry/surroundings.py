"""What lies around the paper when its outline is no quadrilateral: the table, lamp or hand under a phone
photo of an open book.

An open book's paper has curved edges and the facing page beside it, so
engine.geometry.page_outline finds no four corners.  What surrounds it is
then made paper, but only where that cannot cost content: a region is
cleared when it is

- dark against the paper (its grey, letters closed away, under
  DARK_SHARE of the paper's around the letters, or under GROWN_SHARE and
  joined to such a core), and not where letters stand as densely as text
  (TEXT_SHARE): a page in shadow is as dark as a table, but holds text,
- broad (it holds a disc of BROAD_SHARE of the image: ink strokes, even a
  marker's, are thinner),
- joined to the image's border (what surrounds the paper reaches the edge
  of the photograph),
- nearly free of letters (fewer than MAX_DENSITY of the page's letters per
  area: a stain written over or a dark banner with text is kept whole),
- no picture (under PICTURE_SHARE of it picture to the picture finder: a
  photograph printed to the page's edge is kept whole),

and, of such a region, only what lies farther than REACH letter heights from
any letter on the paper.  The first promise is kept by construction: what
is cleared is never near text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.geometry.working_copy import Letters

#: What is darker than this share of the paper's grey (after closing the letters away) may lie beyond it,
#: and so may what is darker than GROWN_SHARE and joined to such a core (a brown table beside a black
#: shadow).  (On the DIBCO pages cores alone at 0.75 cleared up to 2 % of the true ink; grown from cores
#: at 0.6, 0.003 %.)
DARK_SHARE = 0.6
GROWN_SHARE = 0.75

#: A region beyond the paper holds a disc this wide, as a share of the image's longer side (48 pixels
#: on a 1600-pixel copy: a 7 mm stroke on an A4 page is still kept).
BROAD_SHARE = 0.03

#: A region with letters at this share of the page's letter density (per area) or more holds text.
MAX_DENSITY = 0.5

#: A region this much picture to the picture finder is a picture on the page, not its surroundings.
PICTURE_SHARE = 0.1

#: Where letters stand this densely (a share of the page's typical density, counted within TEXT_WINDOW
#: letter heights), there is text, however dim: never beyond the paper.
TEXT_SHARE = 0.2
TEXT_WINDOW = 6

#: Nothing within this many letter heights of a letter on the paper is cleared.
REACH = 2.0

#: The longer side of the copy the surroundings are found on (pixels): they are broad.
COARSE_SIDE = 400

#: Fewer letters than this, and the paper's grey and the letters' size are not known well enough.
MIN_LETTERS = 20

Polygon = NDArray[np.float64]


@dataclass(frozen=True)
class Surroundings:
    """Regions of the input to make paper (``areas``, less the ``holes`` inside them: polygons of x, y in input
    pixels), the share of the image they cover, and the convex hull of the rest (``paper``), which a crop
    keeps whole."""

    areas: tuple[Polygon, ...]
    holes: tuple[Polygon, ...]
    share: float
    paper: Polygon

    def drawn(self, size: tuple[int, int], to_output: NDArray[np.float64]) -> NDArray[np.bool_]:
        """The regions on an output of ``size`` (width, height) whose pixels come from the input through the
        inverse of ``to_output`` (a 3 x 3 matrix from input to output pixels): True beyond the paper."""
        mask = np.zeros((size[1], size[0]), np.uint8)
        for polygons, value in ((self.areas, 1), (self.holes, 0)):
            moved = [projected(polygon, to_output) for polygon in polygons]
            if moved:
                cv2.fillPoly(mask, moved, value)
        return mask.astype(bool)

    def describe(self) -> str:
        return f"cleared={self.share:.3f}"


def projected(polygon: Polygon, matrix: NDArray[np.float64]) -> NDArray[np.int32]:
    """The points of ``polygon`` (x, y) through the 3 x 3 ``matrix``, rounded to whole pixels."""
    points = np.hstack([polygon, np.ones((len(polygon), 1))]) @ matrix.T
    return np.round(points[:, :2] / points[:, 2:3]).astype(np.int32)


def find_surroundings(grey: NDArray[np.uint8], found: Letters, scale: float,
                      pictures: Optional[Callable[[], NDArray[np.bool_]]] = None) -> Optional[Surroundings]:
    """What surrounds the paper in ``grey`` (a working copy, ``scale`` of its input's pixels per input pixel,
    whose letters are ``found``), safe to make paper; None when nothing is.

    ``pictures``, when given, finds the page's pictures (a bool grid over
    the page, True in a picture); it is asked only when something would be cleared.
    """
    if found.count < MIN_LETTERS:
        return None
    # Regions this broad need no finer look than a copy COARSE_SIDE pixels long.
    shrink = min(1.0, COARSE_SIDE / max(grey.shape))
    coarse = grey if shrink == 1 else np.asarray(cv2.resize(
        grey, (max(1, round(grey.shape[1] * shrink)), max(1, round(grey.shape[0] * shrink))),
        interpolation=cv2.INTER_AREA), np.uint8)
    clear = _clearable(coarse, found.boxes * shrink, pictures)
    if not clear.any():
        return None
    scale *= coarse.shape[1] / grey.shape[1]
    contours, hierarchy = cv2.findContours(clear.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    areas: list[Polygon] = []
    holes: list[Polygon] = []
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0]):
        (holes if parent >= 0 else areas).append(_to_input(contour, scale))
    paper, _ = cv2.findContours((~clear).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(np.concatenate(paper)).reshape(-1, 1, 2).astype(np.float64)
    # Each pixel's four corners: the paper's extent, to the pixel's far edge.
    extent = (hull + np.array([[[0, 0], [1, 0], [0, 1], [1, 1]]])).reshape(-1, 2) / scale
    return Surroundings(tuple(areas), tuple(holes), float(clear.mean()), extent)


def _to_input(points: np.ndarray, scale: float) -> Polygon:
    """Points of a copy at ``scale`` (pixel centres) in input pixels."""
    return (points.reshape(-1, 2).astype(np.float64) + 0.5) / scale - 0.5


def _clearable(grey: NDArray[np.uint8], boxes: NDArray[np.float64],
               pictures: Optional[Callable[[], NDArray[np.bool_]]]) -> NDArray[np.bool_]:
    """The pixels of ``grey`` (with letters' ``boxes``: x, y, width, height) that lie beyond the paper,
    safely (see the module's rules)."""
    high = float(np.median(boxes[:, 3]))
    size = 2 * round(1.5 * high) + 1
    paper = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    centres = (np.clip((boxes[:, 1] + boxes[:, 3] / 2).astype(np.int64), 0, grey.shape[0] - 1),
               np.clip((boxes[:, 0] + boxes[:, 2] / 2).astype(np.int64), 0, grey.shape[1] - 1))
    level = float(np.median(paper[centres]))
    broad = 2 * round(BROAD_SHARE * max(grey.shape) / 2) + 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (broad, broad))
    # A page in shadow, at the table's grey, still holds its text: where letters stand, nothing is dark.
    texted = _text_density(centres, grey.shape, high) >= TEXT_SHARE
    cores = _broad((paper < DARK_SHARE * level) & ~texted, disc)
    if not cores.any():
        return np.zeros(grey.shape, bool)
    grown = _broad((paper < GROWN_SHARE * level) & ~texted, disc)
    found_pictures = _Pictures(pictures, grey.shape)
    density = len(boxes) / grey.size
    # A grown region whose rules fail (it reaches text) may still hold a dark core that passes them alone.
    clear = _accepted(grown, cores, centres, density, found_pictures) | _accepted(cores, cores, centres, density,
                                                                                  found_pictures)
    if not clear.any():
        return clear
    # Letters on the paper keep everything near them; a dark table's grain, found as letters, does not.
    on_paper = paper[centres] >= DARK_SHARE * level
    near = np.zeros(grey.shape, np.uint8)
    for x, y, width, height in boxes[on_paper]:
        near[int(y):int(np.ceil(y + height)), int(x):int(np.ceil(x + width))] = 1
    reach = 2 * int(np.ceil(REACH * high)) + 1
    kept = cv2.dilate(near, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    cleared: NDArray[np.bool_] = clear & (kept == 0)
    return cleared


def _broad(mask: NDArray[np.bool_], disc: np.ndarray) -> NDArray[np.uint8]:
    """What of ``mask`` a ``disc`` fits in (a 0/1 mask): strokes and thin shadows left out."""
    return np.asarray(cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, disc), np.uint8)


def _text_density(centres: tuple[np.ndarray, np.ndarray], shape: tuple[int, ...], high: float) -> NDArray[np.float32]:
    """Letters per pixel around each pixel (within TEXT_WINDOW letter heights), as a share of the density
    where the page's letters typically stand: about 1 in its text, 0 on a bare table."""
    grid = np.zeros(shape[:2], np.float32)
    np.add.at(grid, centres, 1.0)
    window = 2 * round(TEXT_WINDOW * high) + 1
    density = cv2.boxFilter(grid, -1, (window, window), borderType=cv2.BORDER_CONSTANT)
    typical = float(np.median(density[centres]))
    return np.asarray(density / max(typical, 1e-9), np.float32)


class _Pictures:
    """The page's pictures as a mask over a copy of ``shape``, found when first asked for."""

    def __init__(self, finder: Optional[Callable[[], NDArray[np.bool_]]], shape: tuple[int, ...]) -> None:
        self.finder, self.shape = finder, shape
        self._mask: Optional[NDArray[np.uint8]] = None

    def mask(self) -> Optional[NDArray[np.uint8]]:
        if self.finder is not None and self._mask is None:
            cells = self.finder().astype(np.uint8)
            self._mask = np.asarray(cv2.resize(cells, (self.shape[1], self.shape[0]),
                                               interpolation=cv2.INTER_NEAREST), np.uint8)
        return self._mask


def _accepted(regions: NDArray[np.uint8], cores: NDArray[np.uint8], centres: tuple[np.ndarray, np.ndarray],
              density: float, pictures: _Pictures) -> NDArray[np.bool_]:
    """The ``regions`` (a 0/1 mask) that hold a dark core, touch the image's border, hold fewer letters (whose
    ``centres`` are given; the page has ``density`` per pixel) than text would, and are no picture."""
    count, labels = cv2.connectedComponents(regions, connectivity=8)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    cored = np.unique(labels[cores > 0])
    areas = np.bincount(labels.ravel(), minlength=count)
    inside = np.bincount(labels[centres], minlength=count)
    chosen = [label for label in np.intersect1d(edge, cored) if label
              and inside[label] < MAX_DENSITY * density * areas[label]]
    grid = pictures.mask() if chosen else None
    if grid is not None:
        pictured = np.bincount(labels.ravel(), weights=grid.ravel().astype(np.float64), minlength=count)
        chosen = [label for label in chosen if pictured[label] < PICTURE_SHARE * areas[label]]
    accepted: NDArray[np.bool_] = np.isin(labels, chosen)
    return accepted
