"""Previews that come fast: the whole page small first, then the part on screen at full resolution.

Cleaning an A4 page at 300 dpi takes seconds on an ordinary CPU; a preview
should not.  A page reduced to QUICK_PIXELS cleans in a fraction of that
and shows what the model does to the layout; the region the user is looking
at, cleaned at full resolution with its context, shows the detail.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

import cv2
import numpy as np

from engine.errors import ConfigurationError
from engine.cleaning.denoiser import Denoiser
from engine.cleaning.page import clean_page
from engine.cleaning.pictures import ZoneEdits
from engine.io import grey_to_rgb, to_uint8
from engine.progress import CancelToken, ProgressCallback, check

# About 0.6 MP: an A4 page at 300 dpi seen at 80 dpi, cleaned in a tenth of the full page's time.
QUICK_PIXELS = 600_000
# Context around a region, in pixels: the content check looks 128 pixels around each pixel.
_CONTEXT = 128


def quick_preview(denoiser: Denoiser, pixels: np.ndarray, mode: str = "grey",
                  max_pixels: int = QUICK_PIXELS, zones: Optional[ZoneEdits] = None,
                  colour: Optional[np.ndarray] = None) -> np.ndarray:
    """The page cleaned at a reduced size of at most ``max_pixels`` pixels (same dtype, smaller shape),
    with the user's ``zones`` edits (in page pixels); ``colour``: the page in colour, for the colour modes.

    A page already that small is cleaned as it is.
    """
    height, width = pixels.shape[:2]
    scale = min(1.0, math.sqrt(max_pixels / (height * width)))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
        colour = None if colour is None else cv2.resize(colour, size, interpolation=cv2.INTER_AREA)
    return clean_page(denoiser, pixels, mode, zones=zones and zones.moved(scale), colour=colour).pixels


def clean_region(denoiser: Denoiser, pixels: np.ndarray, box: tuple[int, int, int, int], mode: str = "grey",
                 cancel: Optional[CancelToken] = None, zones: Optional[ZoneEdits] = None,
                 colour: Optional[np.ndarray] = None) -> np.ndarray:
    """The cleaned pixels of ``box`` = (left, top, right, bottom), in pixels, at full resolution.

    The box is cleaned with the model's receptive field (and the content
    check's window) of context around it, clipped to the page.
    """
    height, width = pixels.shape[:2]
    left, top, right, bottom = (max(0, min(v, limit)) for v, limit in zip(box, (width, height, width, height)))
    if right <= left or bottom <= top:
        raise ConfigurationError(f"the region {box} is not inside the {width} x {height} page")
    margin = max(denoiser.geometry.margin, _CONTEXT)
    x0, y0 = max(0, left - margin), max(0, top - margin)
    x1, y1 = min(width, right + margin), min(height, bottom + margin)
    cleaned = clean_page(denoiser, pixels[y0:y1, x0:x1], mode, cancel=cancel,
                         zones=zones and zones.moved(top=y0, left=x0),
                         colour=None if colour is None else colour[y0:y1, x0:x1]).pixels
    return cleaned[top - y0:bottom - y0, left - x0:right - x0]


@dataclass(frozen=True)
class PreviewStage:
    """One stage of a staged preview.

    ``name`` is "quick" (``pixels``: the whole page cleaned small), "region"
    (``pixels``: the part ``box`` = (left, top, right, bottom) cleaned at full
    resolution) or "full" (``pixels``: the whole page at full resolution).
    """

    name: str
    pixels: np.ndarray
    box: Optional[tuple[int, int, int, int]] = None


#: The columns (left, right) of each page of a split spread shown side by side (engine.geometry.side_by_side).
Parts = Sequence[tuple[int, int]]


def staged_preview(denoiser: Denoiser, pixels: np.ndarray, mode: str = "grey",
                   box: Optional[tuple[int, int, int, int]] = None, quick_only: bool = False,
                   cancel: Optional[CancelToken] = None,
                   progress: Optional[ProgressCallback] = None,
                   zones: Optional[ZoneEdits] = None, parts: Parts = (),
                   colour: Optional[np.ndarray] = None) -> Iterator[PreviewStage]:
    """The preview policy, stage by stage: the page small first, then ``box`` (the part on screen, when
    zoomed in) at full resolution, then the whole page; only the first with ``quick_only`` (a batch has
    the model).  Every stage applies the user's ``zones`` edits.  Stops between stages, and within the
    last, when ``cancel`` is set.  A spread's pages side by side (``parts``) are cleaned each on its own
    in the last stage, as the batch cleans them (the first look cleans them together; no region is cleaned).
    ``colour`` is the page in colour (uint8 RGB), for the colour modes.
    """
    check(cancel)
    yield PreviewStage("quick", quick_preview(denoiser, pixels, mode, zones=zones, colour=colour))
    if quick_only:
        return
    if box is not None and not parts:
        check(cancel)
        yield PreviewStage("region", clean_region(denoiser, pixels, box, mode, cancel=cancel, zones=zones,
                                                  colour=colour), box)
    check(cancel)
    if not parts:
        yield PreviewStage("full", clean_page(denoiser, pixels, mode, progress=progress, cancel=cancel,
                                              zones=zones, colour=colour).pixels)
        return
    cleaned = [clean_page(denoiser, pixels[:, left:right], mode, progress=progress, cancel=cancel,
                          zones=zones and zones.moved(left=left),
                          colour=None if colour is None else colour[:, left:right]).pixels for left, right in parts]
    # A page in colour beside one in grey (auto mode) makes the whole spread colour; the gap stays as it is.
    in_colour = any(page.ndim == 3 for page in cleaned)
    whole = grey_to_rgb(to_uint8(pixels)) if in_colour else pixels.copy()
    for (left, right), page in zip(parts, cleaned):
        whole[:, left:right] = grey_to_rgb(to_uint8(page)) if in_colour else page
    yield PreviewStage("full", whole)

