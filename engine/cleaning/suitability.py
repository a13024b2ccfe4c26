"""Whether a model suits the pages it is about to clean, told before the batch.

A specialised model (the NoisyOffice one: office prints at 540 x 420
pixels) run on a 300 dpi book scan erases whole columns of figures; the
content check puts fragments back and marks the page, but only after the
work is done.  Before a batch, the model is tried on three squares of
SAMPLE_SIDE pixels across the first page (at a quarter, half and three
quarters of its longer side: both pages of a spread, not just its gutter;
under a second) and the content check measures what it would erase there.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from engine.cleaning.denoiser import Denoiser
from engine.cleaning.ink import check_ink
from engine.models.bundled import DEFAULT_MODEL_NAME, INK_MODEL_NAME, bundled_model_path

# The bundled models made for every kind of page are not tried: they erase under 7 % of any real
# scan's ink, and the try costs a one-page run a fifth of its time.
GENERAL_MODELS = (DEFAULT_MODEL_NAME, "fast", INK_MODEL_NAME)

SAMPLE_SIDE = 768
# Above this share of the sample's clear ink erased, the model does not suit the pages.  The
# bundled general model erases under 5 % of any real scan's (content check, real_scans benchmark);
# the NoisyOffice model 20-60 % of a book page's.
UNSUITED_DROP = 0.15
# Fewer clear-ink pixels than this in the sample (a blank middle, a picture) say nothing.
MIN_INK = 500


def samples(pixels: np.ndarray, side: int = SAMPLE_SIDE) -> list[np.ndarray]:
    """Squares of ``side`` centred at a quarter, half and three quarters of the page's longer side
    (the whole page when it is smaller than that)."""
    height, width = pixels.shape
    squares = []
    for share in (0.25, 0.5, 0.75):
        centre_y, centre_x = (height * share, width / 2) if height > width else (height / 2, width * share)
        top = int(min(max(0.0, centre_y - side / 2), max(0, height - side)))
        left = int(min(max(0.0, centre_x - side / 2), max(0, width - side)))
        squares.append(np.ascontiguousarray(pixels[top:top + side, left:left + side]))
    return squares


def unsuited_warning(denoiser: Denoiser, pixels: np.ndarray, label: str) -> Optional[str]:
    """A sentence when ``denoiser`` would erase much of the ink of the page ``label`` (grey
    ``pixels``, tried on three samples), else None."""
    if denoiser.path in {bundled_model_path(name) for name in GENERAL_MODELS}:
        return None
    reports = [check_ink(sample, denoiser.denoise(sample)) for sample in samples(pixels)]
    ink, kept = sum(r.ink for r in reports), sum(r.kept for r in reports)
    if ink < MIN_INK or kept >= (1.0 - UNSUITED_DROP) * ink:
        return None
    erased = 100.0 * (1.0 - kept / ink)
    return (f"{denoiser.name} would erase {erased:.0f}% of the ink of {label}: it was not made "
            f"for pages like these (the content check puts the ink back, but the pages may look patchy); "
            f"the {DEFAULT_MODEL_NAME} model (the default) suits most pages")
