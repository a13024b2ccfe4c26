"""One page cleaned as the user asked: the model, the content check, the output mode."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from engine.cleaning.binarize import PaperLevel, bands, otsu_threshold
from engine.cleaning.colour import COLOUR_SHARE, colour_page
from engine.cleaning.denoiser import Denoiser
from engine.cleaning.ink import INK_CONTRAST, InkReport, check_ink
from engine.cleaning.pictures import ZoneEdits, apply_zone_edits, dither, keep_pictures, picture_cells, picture_mask
from engine.io import to_unit
from engine.progress import CancelToken, ProgressCallback
from engine.vocabulary import PageMode, choice

# An ink model's output is the probability of paper: below one half, a pixel is more likely ink.
INK_THRESHOLD = 0.5


@dataclass
class CleanedPage:
    """A page as the model cleaned it, with what the content check found.

    ``pixels`` has the input's shape and dtype; in 'bw' mode it holds only
    black (0) and white (1.0 or 255); in colour it is uint8 RGB.  ``mode``
    is the mode it was written in ('auto' resolved to colour or grey).
    """

    pixels: np.ndarray
    ink: InkReport
    mode: PageMode = PageMode.GREY
    picture_share: float = 0.0  # of the page, kept as a picture (engine.cleaning.pictures)

    @property
    def bilevel(self) -> bool:
        return self.mode == PageMode.BW


def clean_page(denoiser: Denoiser, pixels: np.ndarray, mode: str = PageMode.GREY, keep_ink: bool = True,
               progress: Optional[ProgressCallback] = None,
               cancel: Optional[CancelToken] = None, pictures: bool = True,
               zones: Optional[ZoneEdits] = None, colour: Optional[np.ndarray] = None) -> CleanedPage:
    """Clean one grey page with ``denoiser``, keep its pictures and ink, and render it in ``mode``.

    With ``pictures`` (the default) photographs and other pictures keep their
    tones, only their paper level corrected (engine.cleaning.pictures).  With
    ``keep_ink`` (the default) ink the model would have erased is put back
    from the page (engine.cleaning.ink): the output is never emptier than the
    text it was given.  'bw' binarises the result, at 0.5 for an ink model
    (its output is the probability of paper) and at Otsu's threshold for
    any other, and dithers the pictures.  ``zones`` are the user's corrections of the pictures found
    (engine.cleaning.pictures.ZoneEdits): the regions marked as pictures are kept
    as pictures even without ``pictures``, those marked as text are cleaned.
    'colour' puts the colours of ``colour`` (the page as uint8 RGB, None for a grey page) back on the
    cleaned page (engine.cleaning.colour); 'auto' does so where the page has coloured marks; a grey page is
    written grey in either.
    """
    mode = choice(PageMode, mode, "the page mode")
    cleaned = denoiser.denoise(pixels, progress=progress, cancel=cancel)
    inked = mode == PageMode.BW and denoiser.gives_ink
    if inked:
        # The content check must judge the page as it will be written: a stroke at
        # probability 0.6 looks kept in grey and is gone once thresholded.
        scale = 255 if cleaned.dtype == np.uint8 else 1.0
        cleaned = np.where(cleaned < INK_THRESHOLD * scale, 0, scale).astype(cleaned.dtype)
    cells = picture_cells(pixels) if pictures else None
    if zones is not None and not zones.empty:
        cells = apply_zone_edits(cells, pixels.shape, zones)
    # Computed once: keeping the pictures and checking the ink both need the input's paper.
    paper_level = PaperLevel(pixels) if cells is not None and cells.any() else None
    if cells is not None:
        keep_pictures(pixels, cleaned, cells, paper_level)
    # An ink model's output is near 0 or 1: ink the check puts back from the page has
    # the page's own (paler) tone, and must not be lost again at the threshold.
    before = cleaned.copy() if inked and keep_ink else None
    report_ = check_ink(pixels, cleaned, restore=keep_ink, paper_level=paper_level)
    if mode == PageMode.BW:
        put_back = None if before is None else (cleaned < before) & (to_unit(cleaned) < 1 - INK_CONTRAST)
        cleaned = _black_and_white(cleaned, cells, INK_THRESHOLD if denoiser.gives_ink else None, put_back)
    elif mode in (PageMode.COLOUR, PageMode.AUTO):
        cleaned, mode = _in_colour(cleaned, colour, cells, mode)
    share = float(cells.mean()) if cells is not None and cells.size else 0.0
    return CleanedPage(cleaned, report_, mode, share)


def _in_colour(cleaned: np.ndarray, colour: Optional[np.ndarray], cells: Optional[np.ndarray],
               mode: PageMode) -> tuple[np.ndarray, PageMode]:
    """The cleaned grey page in ``colour``'s colours, or as it is where the page has none to keep (a grey
    page, or in 'auto' mode too few coloured marks), with the mode it is then in."""
    coloured = None if colour is None or colour.ndim != 3 else colour_page(
        colour, cleaned, cells, COLOUR_SHARE if mode == PageMode.AUTO else 0.0)
    return (cleaned, PageMode.GREY) if coloured is None else (coloured, PageMode.COLOUR)


def _black_and_white(cleaned: np.ndarray, cells: Optional[np.ndarray], threshold: Optional[float],
                     ink: Optional[np.ndarray] = None) -> np.ndarray:
    """Black (0) and white (1.0 or 255): text below ``threshold`` (None: Otsu's) and the
    pixels of ``ink`` (bool), pictures dithered."""
    scale = 255 if cleaned.dtype == np.uint8 else 1.0
    threshold = (otsu_threshold(cleaned) if threshold is None else threshold) * scale
    result = np.where(cleaned < threshold, 0, scale).astype(cleaned.dtype)
    if ink is not None:
        result[ink] = 0
    if cells is None or not cells.any():
        return result
    for top, bottom in bands(*cleaned.shape):
        inside = picture_mask(cells, cleaned.shape, top, bottom)
        if inside.any():
            dots = dither(cleaned[top:bottom].astype(np.float32) / np.float32(scale)) * scale
            result[top:bottom][inside] = dots[inside].astype(cleaned.dtype)
    return result
