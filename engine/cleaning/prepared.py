"""A page read and made upright, straight and cropped for the model: the batch's reader thread's work, and
the app viewer's."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from engine.cleaning.page_fixes import PageFixes
from engine.cleaning.pictures import picture_cells
from engine.geometry import GeometryFix, GeometryOptions, PageGeometry, apply_pages, find_geometry, side_by_side
from engine.geometry.dewarp import flattened
from engine.geometry.transform import paper_grey, part_offsets
from engine.io import PageRef, read_page, to_uint8
from engine.io.display import display_pixels
from engine.io.documents import page_dpi
from engine.options import BatchOptions
from engine.vocabulary import PageMode


@dataclass
class PreparedPage:
    """``pages``: what the model cleans, each with its ``geometries`` entry (two for a split spread);
    ``dpi``: the resolution they are written at; ``notes``: what the user should hear about reading them;
    ``colours``: the same pages in colour (uint8 RGB) when the mode asks for colour and the page has it."""

    pages: list[np.ndarray]
    geometries: list[PageGeometry]
    dpi: Optional[tuple[float, float]]
    notes: list[Optional[str]]
    colours: list[Optional[np.ndarray]] = field(default_factory=list)


def prepare_page(ref: PageRef, options: BatchOptions, fix: GeometryFix = GeometryFix()) -> PreparedPage:
    """Read ``ref`` (8-bit) and apply the geometry ``options`` ask for, with the user's ``fix``.
    Tesseract's orientation detection, when the geometry asks for it, runs as a separate process, so on
    the reader thread it overlaps the model cleaning the page before."""
    page = read_page(ref, dtype=np.uint8)
    dpi, dpi_note = page_dpi(page.dpi, page.pixels.shape, options.dpi)
    geometry = find_geometry(page.pixels, options.geometry, dpi[0] if dpi else None,
                             lambda: picture_cells(page.pixels), fix)
    pages = apply_pages(page.pixels, geometry)
    # The colours are read only when they will be written: a second decoding of the file.
    seen = display_pixels(ref) if options.mode in (PageMode.COLOUR, PageMode.AUTO) else None
    colours: list[Optional[np.ndarray]] = [None] * len(pages)
    if seen is not None and seen.ndim == 3 and seen.shape[:2] == page.pixels.shape:
        colours = list(apply_pages(seen, geometry))
    if options.geometry.dewarp:
        pages, flat = flattened(pages, paper_grey(page.pixels), [c for c in colours if c is not None])
        colours = list(flat) or colours
    return PreparedPage(pages, list(geometry.parts or (geometry,)), dpi, [page.note, dpi_note, *geometry.notes],
                        colours)


@dataclass
class ViewedPage:
    """A page for the app's viewer, as the batch would clean it: ``pixels`` (grey, float) and ``display``
    (uint8, in colour when the page has colour) after the geometry, a split spread's pages side by side
    (engine.geometry.side_by_side, the frame zone marks are drawn in); ``as_read``: the display pixels
    before it, on which the geometry is drawn; ``geometry`` and the ``fix`` it was found with."""

    pixels: np.ndarray
    display: np.ndarray
    as_read: np.ndarray
    geometry: PageGeometry
    fix: GeometryFix
    parts: list[tuple[int, int]] = field(default_factory=list)  # a spread's pages' columns in ``pixels``


def view_page(ref: PageRef, options: GeometryOptions, fix: Optional[GeometryFix] = None,
              out_dir: Optional[Path] = None, first_look: Optional[Callable[[np.ndarray], None]] = None) -> ViewedPage:
    """Read ``ref`` for the viewer with the geometry ``options`` ask for and the user's ``fix`` (None: the one
    ``out_dir``'s record keeps for it, engine.cleaning.page_fixes).  ``first_look`` is given the display
    pixels as read before the geometry is found, which takes a second on a large page."""
    page = read_page(ref)
    as_read = display_pixels(ref)
    if first_look is not None and options.active:
        first_look(as_read)
    # Found on 8-bit pixels, as the batch finds it (a float copy reduced rounds otherwise: 0.04° of skew).
    geometry, fix = _geometry(ref, to_uint8(page.pixels), page.dpi, options, fix, out_dir)
    if not geometry.changed and not options.dewarp:
        return ViewedPage(page.pixels, as_read, as_read, geometry, fix)
    greys, views = apply_pages(page.pixels, geometry), apply_pages(as_read, geometry)
    if options.dewarp:
        greys, views = flattened(greys, paper_grey(page.pixels), views)
    # The gap between a spread's pages: paper to the model, a grey band to the eye.
    grey, display = side_by_side(greys, 1.0), side_by_side(views, 160)
    widths = [part.shape[1] for part in greys] if len(greys) > 1 else []
    parts = [(left, left + width) for left, width in zip(part_offsets(widths), widths)]
    return ViewedPage(grey, display, as_read, geometry, fix, parts)


def written_look(ref: PageRef, options: GeometryOptions, fix: GeometryFix = GeometryFix()) -> np.ndarray:
    """What the batch will write of ``ref`` before cleaning, with ``fix``, for a thumbnail: ViewedPage.display
    alone."""
    page = read_page(ref, dtype=np.uint8)
    geometry, _ = _geometry(ref, page.pixels, page.dpi, options, fix, None)
    as_read = display_pixels(ref)
    return side_by_side(apply_pages(as_read, geometry), 160) if geometry.changed else as_read


def _geometry(ref: PageRef, pixels: np.ndarray, dpi: Optional[tuple[float, float]], options: GeometryOptions,
              fix: Optional[GeometryFix], out_dir: Optional[Path]) -> tuple[PageGeometry, GeometryFix]:
    """The page's geometry with the user's ``fix`` (None: the one ``out_dir``'s record keeps), and that fix."""
    if fix is None:
        fix = PageFixes(out_dir, active=options.active).of(ref) if out_dir is not None else GeometryFix()
    found = find_geometry(pixels, options, dpi[0] if dpi else None, lambda: picture_cells(pixels), fix)
    return found, fix
