"""Finding a page's geometry: the paper, which way is up, the lines' skew and a spread's two pages, each only
when confident."""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, replace
from typing import Callable, Optional

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.geometry.corrections import GeometryFix
from engine.geometry.options import GeometryOptions
from engine.geometry.orientation import (SURE_RISES, UPRIGHT_RISES, lines_run_down, rises_over_falls,
                                         TESSERACT_LETTERS, tesseract_turns)
from engine.geometry.page_outline import find_page_corners, rectangle_size
from engine.geometry.skew import MIN_LETTERS, line_angle
from engine.geometry.spreads import find_gutter
from engine.geometry.surroundings import Surroundings, find_surroundings
from engine.geometry.transform import Layout, PageGeometry
from engine.geometry.working_copy import WORKING_SIDE, Letters, WorkingCopy, ink_marks, letters, working_copy
from engine.io.ocr import tesseract_installed
from engine.vocabulary import Crop, PageSize, Rotation, Split

#: Finds a page's pictures: a bool grid over the page, True in a picture (engine.cleaning.pictures.picture_cells).
PictureFinder = Callable[[], NDArray[np.bool_]]

#: The longer side of the finer copy that tells the lines' direction where the working copy cannot.
FINER_SIDE = 2400

#: A page this much covered by pictures is a picture: never turned or straightened (the real scans'
#: photographs, cut out as pages, are 0.33-0.82 pictures to the finder; handwritten pages 0).
PICTURE_PAGE = 0.25

#: Skews smaller than this (degrees) are left alone: within the measurement's own error, turning would
#: blur the page for nothing visible.
MIN_SKEW = 0.1

#: The margin kept around the content with ``Crop.CONTENT``, as a share of the page's longer side.
CONTENT_MARGIN = 0.03

_log = logging.getLogger(__name__)

# The resolution assumed for Tesseract when the file does not say (dots per inch).
_ASSUMED_DPI = 300.0


def find_geometry(pixels: np.ndarray, options: GeometryOptions = GeometryOptions(),
                  dpi: Optional[float] = None, pictures: Optional[PictureFinder] = None,
                  fix: GeometryFix = GeometryFix()) -> PageGeometry:
    """What ``options`` allow doing to ``pixels`` (2-D grey, uint8 or float in [0, 1]) to make it upright,
    straight and cropped, found on a small copy; apply it with engine.geometry.apply_geometry.

    ``dpi`` (the page's resolution, when known) helps Tesseract tell which
    way is up where the page's own evidence is not enough.  ``pictures``,
    when given, finds the page's pictures (a bool grid over the page, True in
    a picture): it is asked only when the letters do not clearly make lines,
    so that a photograph's texture is never taken for skewed text.  ``fix``
    holds the user's corrections: each replaces what would be found.
    """
    shape = (int(pixels.shape[0]), int(pixels.shape[1]))
    if not options.active:
        return PageGeometry(shape)
    try:
        return _found(pixels, shape, options, dpi, pictures, fix)
    except (cv2.error, ValueError, ArithmeticError, np.linalg.LinAlgError):
        # The geometry only improves a page: one it cannot handle is cleaned as scanned, never lost.
        _log.warning("the geometry of a %s page failed", shape, exc_info=True)
        return PageGeometry(shape, notes=("its geometry could not be found: left as scanned",))


def _found(pixels: np.ndarray, shape: tuple[int, int], options: GeometryOptions,
           dpi: Optional[float], pictures: Optional[PictureFinder], fix: GeometryFix) -> PageGeometry:
    work = working_copy(pixels)
    found = letters(ink_marks(work.grey))
    if pictures is not None:
        pictures = functools.cache(pictures)  # asked by the surroundings and the text lines, found once
    if fix.corners is not None:
        given = fix.corner_array(shape)
        corners = None if given is None else given * work.scale
    else:
        corners = find_page_corners(work.grey, found) if options.crop != Crop.OFF else None
    around = find_surroundings(work.grey, found, work.scale, pictures) \
        if corners is None and fix.corners is None and options.crop != Crop.OFF else None
    grey = work.grey  # the paper's rectangle, on the working copy's scale
    to_rectangle = Layout(grey.shape)
    if corners is not None:
        to_rectangle.rectify(corners, rectangle_size(corners, (grey.shape[1] / 2, grey.shape[0] / 2)))
        grey = _warped(work.grey, to_rectangle)
        found = letters(ink_marks(grey))
    found, runs_down, text = _text_lines(pixels, found, corners is None, pictures, to_rectangle)
    notes: list[str] = []
    if options.page_size != PageSize.NONE and dpi is None:
        notes.append(f"its file does not say its resolution: set on {options.page_size.label} at "
                     f"{_ASSUMED_DPI:g} dpi")
    automatic = options.rotate == Rotation.AUTO and fix.turns is None
    turns = fix.turns if fix.turns is not None else 0 if automatic else int(options.rotate) // 90
    if automatic and runs_down:
        turns = 1
    if automatic and runs_down is None and text:
        # The letters do not tell which way the lines run (joined or worn letters); Tesseract may, and is
        # trusted where it also recognises the script (right in every such case of the geometry benchmark).
        turns = _told_if_sure(grey, (dpi or _ASSUMED_DPI) * work.scale) or 0
    skew = _skew(np.ascontiguousarray(np.rot90(found.mask, -turns))) if options.deskew and text else 0.0
    if fix.skew is not None:
        skew = fix.skew
    if automatic and runs_down is not None:
        upright = _which_way_up(grey, turns, skew, (dpi or _ASSUMED_DPI) * work.scale)
        if upright is None:
            if runs_down:
                notes.append("its lines run down the page, but which way is up is unclear: left as scanned")
                turns, skew = 0, 0.0 if fix.skew is None else fix.skew
        else:
            turns = (turns + upright) % 4
    page_corners = None if corners is None else corners / work.scale
    boxes = found.boxes.astype(np.float64)
    on_paper = _on_paper(found.boxes, around, work)
    parts = _spread_parts(grey, found, turns, skew, options, fix.gutter) \
        if runs_down is not None or fix.gutter else []

    def layout(part: Optional[_Part] = None) -> Layout:
        """The page's layout at full size (a part of it, for a spread)."""
        whole = Layout.upright(shape, page_corners, turns, skew)
        chosen = boxes[on_paper]
        if part is not None:
            whole.crop(part.left * whole.width, 0.0, part.right * whole.width, whole.height).straighten(part.skew)
            chosen = boxes[part.letters & on_paper]
        if around is not None:
            whole.crop_within(around.paper)
        margin = CONTENT_MARGIN * max(whole.width, whole.height)
        whole.fit(chosen / work.scale, options.crop == Crop.CONTENT, margin)
        if options.page_size != PageSize.NONE:
            inches = options.page_size.inches
            whole.onto_paper(chosen / work.scale, inches[0] * (dpi or _ASSUMED_DPI), inches[1] * (dpi or _ASSUMED_DPI))
        return whole

    whole = layout()
    pieces = tuple(_part_geometry(PageGeometry(shape, page_corners, turns, skew + part.skew, part=index + 1,
                                               surroundings=around), layout(part))
                   for index, part in enumerate(parts))
    return PageGeometry(shape, page_corners, turns, skew, whole.source, whole.size, tuple(notes), pieces,
                        gutter=parts[0].right if parts else None, surroundings=around)


def _text_lines(pixels: np.ndarray, found: Letters, whole_image: bool, pictures: Optional[PictureFinder],
                to_rectangle: Layout) -> tuple[Letters, Optional[bool], bool]:
    """The letters that make the page's text, whether its lines run down the page (None: unclear), and
    whether they are text lines to straighten at all."""
    runs_down = lines_run_down(found)
    if runs_down is None and whole_image and max(pixels.shape) > WORKING_SIDE:
        # Small print merges into words on the working copy, and words' nearest neighbours are on the
        # lines above and below: half as much again is enough to part the letters.
        runs_down = lines_run_down(letters(ink_marks(working_copy(pixels, FINER_SIDE).grey)))
    # Lines are straightened when their direction is clear, or, where it is not (handwriting), when the
    # picture finder says the marks are not a photograph's: its texture can be as sharp as a hand's lines.
    if pictures is None or runs_down is not None:
        return found, runs_down, runs_down is not None
    found = _outside_pictures(found, pictures(), to_rectangle)
    return found, lines_run_down(found), found.count >= MIN_LETTERS


@dataclass(frozen=True)
class _Part:
    """One page of a spread: its columns as shares of the straightened spread's width, the skew of its own lines
    beyond the spread's, and which of the spread's letters are on it."""

    left: float
    right: float
    skew: float
    letters: NDArray[np.bool_]


def _spread_parts(grey: NDArray[np.uint8], found: Letters, turns: int, skew: float,
                  options: GeometryOptions, given: Optional[float] = None) -> list[_Part]:
    """The two pages of a spread (``grey``: the paper's rectangle, ``found``: its letters), each with its own
    skew; none when the page is not clearly a spread or splitting is off.  ``given``: the user's gutter
    (a share of the width; 0: not split), instead of the one found."""
    if given is not None and not given:
        return []
    if given is None and options.split != Split.AUTO:
        return []
    small = Layout(grey.shape).turn(turns).straighten(skew)
    straight = _warped(grey, small)
    gutter = given * straight.shape[1] if given else find_gutter(letters(ink_marks(straight)), straight.shape)
    if gutter is None:
        return []
    # Where each letter of the rectangle lands on the straightened spread.
    centres = np.hstack([found.boxes[:, :2] + found.boxes[:, 2:] / 2, np.ones((found.count, 1))])
    placed = centres @ np.linalg.inv(small.source).T
    placed_x = placed[:, 0] / placed[:, 2]
    parts = []
    for left, right in ((0.0, gutter), (gutter, float(straight.shape[1]))):
        mask = np.ascontiguousarray(letters(ink_marks(straight[:, round(left):round(right)])).mask)
        own = _skew(mask) if options.deskew else 0.0
        parts.append(_Part(left / straight.shape[1], right / straight.shape[1], own,
                           (placed_x >= left) & (placed_x < right)))
    return parts


def _part_geometry(found: PageGeometry, layout: Layout) -> PageGeometry:
    """``found`` (a spread's page) with the transform that ``layout`` makes."""
    return replace(found, source=layout.source, size=layout.size)


def _on_paper(boxes: NDArray[np.int32], around: Optional[Surroundings], work: WorkingCopy) -> NDArray[np.bool_]:
    """Which of the letters' ``boxes`` (working copy) are not in what is cleared around the paper (a dark
    table's grain, found as letters): the page's crop and content are the paper's."""
    if around is None:
        return np.ones(len(boxes), bool)
    size = (work.grey.shape[1], work.grey.shape[0])
    cleared = around.drawn(size, np.diag([work.scale, work.scale, 1.0]))
    kept: NDArray[np.bool_] = ~cleared[boxes[:, 1] + boxes[:, 3] // 2, boxes[:, 0] + boxes[:, 2] // 2]
    return kept


def _skew(mask: NDArray[np.bool_]) -> float:
    """The lines' skew in ``mask`` (letters' pixels) when sure and large enough to undo, else 0."""
    measured = line_angle(mask)
    if measured is None or not measured.sure or abs(measured.angle) < MIN_SKEW:
        return 0.0
    return measured.angle


def _warped(grey: NDArray[np.uint8], layout: Layout) -> NDArray[np.uint8]:
    """``grey`` as ``layout`` makes it (a working copy: edges repeated, not filled)."""
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return np.asarray(cv2.warpPerspective(grey, layout.source, layout.size, flags=flags,
                                          borderMode=cv2.BORDER_REPLICATE), np.uint8)


def _told_if_sure(grey: NDArray[np.uint8], dpi: float) -> Optional[int]:
    """Tesseract's quarter turns for ``grey`` when it is sure of the script too; None otherwise."""
    told = tesseract_turns(grey, dpi)
    return told[0] if told is not None and told[1] else None


def _which_way_up(grey: NDArray[np.uint8], turns: int, skew: float, dpi: float) -> Optional[int]:
    """Half turns (0 or 2) more that make the page upright once turned by ``turns`` and straightened;
    None when neither the letters nor Tesseract can tell."""
    straight = _warped(grey, Layout(grey.shape).turn(turns).straighten(skew))
    found = letters(ink_marks(straight))
    ratio = rises_over_falls(found, straight.shape[0])
    if ratio is not None and ratio >= UPRIGHT_RISES:
        return 0
    # Turning a page over is the costlier mistake: where Tesseract is installed, it decides.
    # Given the page only quarter-turned: Tesseract allows for skew itself, and resampling made it name the
    # script with a quarter of its confidence (15 -> 3.6 for a book page turned by half a degree).
    high = float(np.median(found.boxes[:, 3])) if found.count else TESSERACT_LETTERS
    told = tesseract_turns(np.ascontiguousarray(np.rot90(grey, -turns)), dpi, high)
    if told is not None and told[0] == 0:
        return 0
    if told is not None and told[0] == 2 and (told[1] or (ratio is not None and ratio < 1)):
        return 2
    if told is None and not tesseract_installed() and ratio is not None and ratio <= 1 / SURE_RISES:
        return 2
    # Most pages are upright: one whose lines run across stays as scanned when nothing says otherwise.
    return None if turns else 0


def _outside_pictures(found: Letters, cells: NDArray[np.bool_], to_rectangle: Layout) -> Letters:
    """``found`` without the marks that lie in pictures (``cells``: a bool grid over the page); none on a
    page mostly picture."""
    if not cells.any():
        return found
    if cells.mean() >= PICTURE_PAGE:
        return Letters(found.boxes[:0], np.zeros_like(found.mask))  # a picture page: its lines are no text's
    # The grid at the working copy's size, whose frame to_rectangle starts from.
    size = (round(to_rectangle.source_size[0]), round(to_rectangle.source_size[1]))
    grid = np.asarray(cv2.resize(cells.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST), np.uint8)
    inside = _warped(grid, to_rectangle).astype(bool)
    keep = ~inside[found.boxes[:, 1] + found.boxes[:, 3] // 2, found.boxes[:, 0] + found.boxes[:, 2] // 2]
    return Letters(found.boxes[keep], found.mask & ~inside)
