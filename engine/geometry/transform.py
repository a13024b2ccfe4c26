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

from engine.geometry.page_outline import rectangle_size
from engine.geometry.surroundings import Surroundings, projected
from engine.io import grey_to_rgb

Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class PageGeometry:
    """What the geometry stage found for a page, and the transform that applies it.

    ``shape``: the input's (height, width); ``corners``: the paper's corners in
    it (x, y; top-left, top-right, bottom-right, bottom-left), None when the
    page fills the image; ``turns``: quarter turns clockwise made; ``skew``:
    degrees the lines were turned anticlockwise, undone; ``source``: the 3 x 3
    matrix from output to input pixels; ``size``: the output's (width, height);
    ``notes``: doubts the user should hear about (a page left as scanned);
    ``parts``: a spread's two pages (left, right), each a geometry of its own
    (``part`` 1 and 2) on the same input, when the page was split, at
    ``gutter`` (a share of the upright, straight spread's width);
    ``surroundings``: what lies around paper with no four corners, made paper.
    """

    shape: tuple[int, int]
    corners: Optional[NDArray[np.float64]] = None
    turns: int = 0
    skew: float = 0.0
    source: Matrix = field(default_factory=lambda: np.eye(3))
    size: Optional[tuple[int, int]] = None
    notes: tuple[str, ...] = ()
    parts: tuple[PageGeometry, ...] = ()
    part: int = 0
    gutter: Optional[float] = None
    surroundings: Optional[Surroundings] = None

    @property
    def changed(self) -> bool:
        """Whether applying the geometry changes the page."""
        return bool(self.parts) or (self.size is not None and (
            self.size != (self.shape[1], self.shape[0]) or not np.allclose(self.source, np.eye(3))
            or self.surroundings is not None))

    def summary(self) -> str:
        """What was done, in words for a person: e.g. "turned 90° clockwise, straightened by 1.2°, cropped to the
        paper, split into two pages"; "left as scanned" when nothing."""
        done = []
        if self.turns:
            done.append({1: "turned 90° clockwise", 2: "turned 180°", 3: "turned 90° anticlockwise"}[self.turns % 4])
        skews = [part.skew for part in self.parts] or [self.skew]
        if any(skews):
            done.append("straightened by " + " and ".join(f"{abs(skew):.1f}°" for skew in skews))
        if self.corners is not None:
            done.append("cropped to the paper")
        elif self.surroundings is not None:
            done.append("cleared around the paper")
        elif self.changed and not (self.parts or self.part or any(skews) or self.turns):
            done.append("cropped")
        if self.parts:
            done.append("split into two pages")
        if self.part:
            done.append(f"the {('left', 'right')[self.part - 1]} page of a spread")
        return ", ".join(done) or "left as scanned"

    def describe(self) -> str:
        """What was done, for an output's provenance: e.g. "turns=1 skew=-2.31 corners=10,12,2470,8,..."."""
        if self.parts:
            return "; ".join(part.describe() for part in self.parts)
        text = f"turns={self.turns} skew={self.skew:.2f}"
        if self.part:
            text = f"part={self.part} " + text
        if self.corners is not None:
            text += " corners=" + ",".join(f"{value:.0f}" for value in self.corners.ravel())
        if self.surroundings is not None:
            text += " " + self.surroundings.describe()
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


class Layout:
    """The frames a page goes through, from the input to the output, as one matrix (output to input pixels).

    Steps in order: ``rectify`` (the paper within its corners made a
    rectangle), ``turn``, ``straighten``, ``crop`` (to a part of the page),
    then ``fit`` (the canvas grown to hold the letters, or cropped to them).
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.height, self.width = float(shape[0]), float(shape[1])
        self.source_size = (self.width, self.height)  # the input's (width, height)
        self.source: Matrix = np.eye(3)
        self.rectangle: Matrix = np.eye(3)  # from the paper's rectangle to the input

    @classmethod
    def upright(cls, shape: tuple[int, ...], corners: Optional[NDArray[np.float64]], turns: int,
                skew: float) -> Layout:
        """The page within its ``corners`` (None: the whole image) made a rectangle, turned and straightened."""
        layout = cls(shape)
        if corners is not None:
            layout.rectify(corners, rectangle_size(corners, (shape[1] / 2, shape[0] / 2)))
        return layout.turn(turns).straighten(skew)

    @property
    def size(self) -> tuple[int, int]:
        return max(1, round(self.width)), max(1, round(self.height))

    def rectify(self, corners: NDArray[np.float64], size: tuple[float, float]) -> Layout:
        self.width, self.height = size
        self.source = self.rectangle = rectified(corners, *size)
        return self

    def turn(self, turns: int) -> Layout:
        self.source = self.source @ quarter_turns(turns, self.width, self.height)
        if turns % 2:
            self.width, self.height = self.height, self.width
        return self

    def straighten(self, degrees: float) -> Layout:
        if degrees:
            self.source = self.source @ turned_back(degrees, (self.width / 2, self.height / 2))
        return self

    def crop(self, left: float, top: float, right: float, bottom: float) -> Layout:
        # Whole pixels: a page only moved is then copied exactly, not resampled.
        left, top, right, bottom = (float(np.floor(left)), float(np.floor(top)), float(np.ceil(right - 1e-6)),
                                    float(np.ceil(bottom - 1e-6)))
        self.source = self.source @ translation(left, top)
        self.width, self.height = right - left, bottom - top
        return self

    def crop_within(self, points: NDArray[np.float64]) -> Layout:
        """Crop to the bounding box of ``points`` (x, y on the paper's rectangle), within the current canvas."""
        placed = self.placed(np.hstack([points, np.zeros_like(points)]))
        (low_x, low_y), (high_x, high_y) = placed.min(axis=0), placed.max(axis=0)
        return self.crop(max(0.0, low_x), max(0.0, low_y), min(self.width, high_x), min(self.height, high_y))

    def placed(self, boxes: NDArray[np.float64]) -> NDArray[np.float64]:
        """The corners of ``boxes`` (x, y, width, height on the paper's rectangle) on the current frame."""
        x, y, w, h = boxes.T
        points = np.concatenate([np.stack([x, y], 1), np.stack([x + w, y + h], 1),
                                 np.stack([x + w, y], 1), np.stack([x, y + h], 1)])
        to_here = np.linalg.inv(self.source) @ self.rectangle
        moved = np.hstack([points, np.ones((len(points), 1))]) @ to_here.T
        placed: NDArray[np.float64] = moved[:, :2] / moved[:, 2:3]
        return placed

    def onto_paper(self, boxes: NDArray[np.float64], width: float, height: float) -> Layout:
        """The page set on a sheet of ``width`` x ``height`` pixels (turned to the content's shape), the
        content (``boxes``, as for ``fit``) centred on it and scaled down only if it does not fit."""
        if len(boxes):
            placed = self.placed(boxes)
            low, high = placed.min(axis=0), placed.max(axis=0)
        else:
            low, high = np.zeros(2), np.array([self.width, self.height])
        span = np.maximum(high - low, 1.0)
        if (span[0] > span[1]) != (width > height):
            width, height = height, width
        shrink = min(1.0, width / span[0], height / span[1])
        if shrink < 1.0:
            self.source = self.source @ np.diag([1 / shrink, 1 / shrink, 1.0])
            self.width, self.height = self.width * shrink, self.height * shrink
            low, high = low * shrink, high * shrink
        width, height = round(width), round(height)
        left, top = np.floor((low + high) / 2 - np.array([width, height]) / 2)
        return self.crop(left, top, left + width, top + height)

    def fit(self, boxes: NDArray[np.float64], to_content: bool = False, margin: float = 0.0) -> Layout:
        """Grow the canvas where ``boxes`` (x, y, width, height on the paper's rectangle) would leave it;
        with ``to_content``, crop it to them and ``margin`` pixels (never beyond what they need)."""
        if not len(boxes):
            return self
        placed = self.placed(boxes)
        inside = ((placed >= 0) & (placed <= [self.width, self.height])).all(axis=1)
        if to_content:
            placed = placed[inside] if inside.any() else placed
            (low_x, low_y), (high_x, high_y) = placed.min(axis=0), placed.max(axis=0)
            # The margin stays on the canvas; letters beyond it (carried out by straightening) do not.
            return self.crop(max(min(0.0, low_x), low_x - margin), max(min(0.0, low_y), low_y - margin),
                             min(max(self.width, high_x), high_x + margin),
                             min(max(self.height, high_y), high_y + margin))
        # A pixel's grace: a box's far edge lies one pixel past its last pixel's centre, which a turn maps to -1.
        (low_x, low_y), (high_x, high_y) = placed.min(axis=0) + 1, placed.max(axis=0) - 1
        return self.crop(min(0.0, low_x), min(0.0, low_y), max(self.width, high_x), max(self.height, high_y))


#: The gap (pixels) between a split spread's two pages where they are shown side by side: the app's page,
#: on which the user marks zones.
SPREAD_GAP = 24


def part_offsets(widths: list[int]) -> list[int]:
    """Where each of a spread's pages (``widths`` pixels wide) starts when shown side by side (x, pixels)."""
    return [sum(widths[:index]) + SPREAD_GAP * index for index in range(len(widths))]


def side_by_side(pages: list[np.ndarray], fill: float) -> np.ndarray:
    """A spread's pages (2-D grey or RGB, one dtype) in one image, ``SPREAD_GAP`` pixels of ``fill`` apart,
    their tops aligned (in colour when one of them is); the one page itself."""
    if len(pages) == 1:
        return pages[0]
    if any(page.ndim == 3 for page in pages):  # one page written in colour, the other grey (auto mode)
        pages = [grey_to_rgb(page) for page in pages]
    widths = [page.shape[1] for page in pages]
    offsets = part_offsets(widths)
    out = np.full((max(page.shape[0] for page in pages), offsets[-1] + widths[-1], *pages[0].shape[2:]), fill,
                  pages[0].dtype)
    for page, left in zip(pages, offsets):
        out[:page.shape[0], left:left + page.shape[1]] = page
    return out


def apply_pages(pixels: np.ndarray, geometry: PageGeometry) -> list[np.ndarray]:
    """The pages ``geometry`` makes of ``pixels``: a spread's two, or the one page."""
    if not geometry.parts:
        return [apply_geometry(pixels, geometry)]
    fill = paper_grey(pixels)
    return [apply_geometry(pixels, part, fill) for part in geometry.parts]


def paper_grey(pixels: np.ndarray) -> float:
    """The page's paper grey: its 90th percentile, on a sample of about 250,000 pixels."""
    step = max(1, int(np.sqrt(pixels.size / 250_000)))
    return float(np.percentile(pixels[::step, ::step], 90))


def apply_geometry(pixels: np.ndarray, geometry: PageGeometry, fill: Optional[float] = None) -> np.ndarray:
    """``pixels`` (2-D grey or RGB, uint8 or float) as ``geometry`` says: the same array when nothing changes.

    Where the output reaches beyond the input it is ``fill`` (grey in the
    pixels' own scale; default: the page's paper, its 90th percentile).
    """
    if geometry.parts:
        raise ValueError("a spread is two pages: apply_pages makes them")
    if not geometry.changed or geometry.size is None:
        return pixels
    source = geometry.source
    turned_size = pixels.shape[::-1] if geometry.turns % 2 == 0 else pixels.shape
    only_turned = geometry.size == tuple(turned_size) and np.allclose(
        source, quarter_turns(geometry.turns, pixels.shape[1], pixels.shape[0]))
    if only_turned and geometry.surroundings is None:
        return np.ascontiguousarray(np.rot90(pixels, -geometry.turns))
    if fill is None:
        fill = paper_grey(pixels)
    # Cubic: a faint thin stroke keeps its darkness through a turn far better than with bilinear weights.
    flags = cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
    border = (fill,) * 4  # every channel of a colour page (the app's view of it) is paper
    if np.allclose(source[2], [0.0, 0.0, 1.0]):
        out = cv2.warpAffine(pixels, source[:2], geometry.size, flags=flags, borderMode=cv2.BORDER_CONSTANT,
                             borderValue=border)
    else:
        out = cv2.warpPerspective(pixels, source, geometry.size, flags=flags, borderMode=cv2.BORDER_CONSTANT,
                                  borderValue=border)
    if out.dtype != np.uint8:
        np.clip(out, 0.0, 1.0, out=out)  # cubic weights overshoot a little at sharp edges
    if geometry.corners is not None:
        _paper_beyond(out, geometry, fill)
    if geometry.surroundings is not None:
        out[geometry.surroundings.drawn(geometry.size, np.asarray(np.linalg.inv(source), np.float64))] = fill
    return np.asarray(out)


def _paper_beyond(out: np.ndarray, geometry: PageGeometry, fill: float) -> None:
    """Make paper of what lies beyond the page's corners in ``out`` (in place): straightening a page cropped
    to its edge would otherwise bring wedges of the scanner's bed into its corners."""
    assert geometry.corners is not None
    outline = projected(geometry.corners, np.asarray(np.linalg.inv(geometry.source), np.float64))
    inside = np.zeros(out.shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, outline, 1)
    out[inside == 0] = fill
