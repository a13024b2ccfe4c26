"""One page cleaned as the user asked: the model, the content check, the output mode."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from engine.cleaning.binarize import otsu_threshold
from engine.cleaning.denoiser import Denoiser
from engine.cleaning.ink import InkReport, check_ink
from engine.progress import CancelToken, ProgressCallback
from engine.vocabulary import PageMode, choice



@dataclass
class CleanedPage:
    """A page as the model cleaned it, with what the content check found.

    ``pixels`` has the input's shape and dtype; in 'bw' mode it holds only
    black (0) and white (1.0 or 255).
    """

    pixels: np.ndarray
    ink: InkReport
    mode: PageMode = PageMode.GREY

    @property
    def bilevel(self) -> bool:
        return self.mode == PageMode.BW


def clean_page(denoiser: Denoiser, pixels: np.ndarray, mode: str = PageMode.GREY, keep_ink: bool = True,
               progress: Optional[ProgressCallback] = None,
               cancel: Optional[CancelToken] = None) -> CleanedPage:
    """Clean one grey page with ``denoiser``, keep its ink, and render it in ``mode``.

    With ``keep_ink`` (the default) ink the model would have erased is put
    back from the page (engine.cleaning.ink): the output is never emptier
    than the text it was given.  'bw' binarises the result at Otsu's threshold.
    """
    mode = choice(PageMode, mode, "the page mode")
    cleaned = denoiser.denoise(pixels, progress=progress, cancel=cancel)
    report_ = check_ink(pixels, cleaned, restore=keep_ink)
    if mode == PageMode.BW:
        scale = 255 if cleaned.dtype == np.uint8 else 1.0
        cleaned = np.where(cleaned < otsu_threshold(cleaned) * scale, 0, scale).astype(cleaned.dtype)
    return CleanedPage(cleaned, report_, mode)
