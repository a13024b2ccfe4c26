"""A page read and made upright, straight and cropped for the model: the batch's reader thread's work."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from engine.cleaning.pictures import picture_cells
from engine.geometry import GeometryOptions, PageGeometry, apply_pages, find_geometry
from engine.io import PageRef, read_page
from engine.io.documents import page_dpi
from engine.options import BatchOptions


@dataclass
class PreparedPage:
    """``pages``: what the model cleans, each with its ``geometries`` entry (two for a split spread);
    ``dpi``: the resolution they are written at; ``notes``: what the user should hear about reading them."""

    pages: list[np.ndarray]
    geometries: list[PageGeometry]
    dpi: Optional[tuple[float, float]]
    notes: list[Optional[str]]


def prepare_page(ref: PageRef, options: BatchOptions, as_read: bool = False) -> PreparedPage:
    """Read ``ref`` (8-bit) and apply the geometry ``options`` ask for (none ``as_read``: the user's zone
    edits were drawn on the page as read).  Tesseract's orientation detection, when the geometry asks for
    it, runs as a separate process, so on the reader thread it overlaps the model cleaning the page before."""
    page = read_page(ref, dtype=np.uint8)
    dpi, dpi_note = page_dpi(page.dpi, page.pixels.shape, options.dpi)
    geometry = find_geometry(page.pixels, GeometryOptions.off() if as_read else options.geometry,
                             dpi[0] if dpi else None, lambda: picture_cells(page.pixels))
    pages = apply_pages(page.pixels, geometry)
    return PreparedPage(pages, list(geometry.parts or (geometry,)), dpi, [page.note, dpi_note, *geometry.notes])
