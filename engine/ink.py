"""Content safety: how much of a page's ink a cleaner kept, and keeping the rest.

A pixel of the input is *clearly ink* when it is darker than the paper
around it by at least ``INK_CONTRAST`` of the paper level, and by at least
``NEARBY_SHARE`` of the darkest ink within ``NEARBY`` pixels, and either
Sauvola's threshold calls it ink or it is darker than ``SOLID_CONTRAST``
(solid areas, where Sauvola sees no edge: redaction bars, filled shapes,
photographs).  Contrast is relative: 1 - pixel / paper level, so faded
print on grey paper counts as much as black print on white; next to black
print, a crease or a stain's edge half as dark is not clearly ink.

A clearly-ink pixel is *kept* by a cleaner when the output keeps at least
``KEEP_SHARE`` of its contrast against the output's own paper.  ``check_ink``
measures this and, asked to, puts dropped ink back: the input divided by
its paper level (the page with its paper made white), never lighter than
what the model wrote.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.binarize import SAUVOLA_WINDOW, PaperLevel, as_unit, bands, sauvola_threshold

INK_CONTRAST = 0.25
NEARBY_SHARE = 0.6
NEARBY = 160  # pixels: about two lines of body text at 300 dpi
_BLOCK = 32
SOLID_CONTRAST = 0.6
KEEP_SHARE = 0.5
# Above this share of clear ink dropped, a page is reported as unlike
# anything the model knows.
WARN_DROPPED = 0.05

_NEIGHBOURS = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class InkReport:
    """The ink of one page before and after cleaning, in pixels."""

    ink: int  # clearly ink in the input
    kept: int  # of those, still ink in what the model wrote
    restored: int  # pixels put back from the input (0 unless asked to restore)

    @property
    def recall(self) -> float:
        """Share of the input's clear ink the model kept, in [0, 1] (1 for a page without ink)."""
        return self.kept / self.ink if self.ink else 1.0

    @property
    def unfamiliar(self) -> bool:
        """True when the model dropped more ink than it ever should."""
        return self.recall < 1.0 - WARN_DROPPED

    def warning(self) -> str | None:
        """A sentence for the user when the page was unfamiliar, else None."""
        if not self.unfamiliar:
            return None
        dropped = 100.0 * (1.0 - self.recall)
        action = "put back from the original" if self.restored else "missing from the output"
        return (f"this page looks unlike what the model was trained on: it would have erased "
                f"{dropped:.0f}% of the ink, which was {action}")


def _contrast(values: np.ndarray, paper: np.ndarray) -> np.ndarray:
    return np.maximum(1.0 - values / paper, 0.0)


class _NearbyInk:
    """The strongest contrast within NEARBY pixels of every pixel, from 32-pixel blocks."""

    def __init__(self, page: np.ndarray, paper: PaperLevel) -> None:
        height, width = page.shape
        cols = -(-width // _BLOCK)
        rows = []
        for top in range(0, height, _BLOCK):
            bottom = min(height, top + _BLOCK)
            contrast = _contrast(as_unit(page[top:bottom]), paper.band(top, bottom))
            padded = np.pad(contrast, ((0, 0), (0, cols * _BLOCK - width)))
            # The 99th percentile would be steadier, the maximum is 10x cheaper; a
            # lone dark speck only raises the bar for faint ink right beside it.
            rows.append(padded.reshape(bottom - top, cols, _BLOCK).max(axis=(0, 2)))
        blocks = np.stack(rows).astype(np.float32)
        reach = 2 * (NEARBY // _BLOCK) + 1
        self.blocks = cv2.dilate(blocks, np.ones((reach, reach), np.uint8))

    def band(self, top: int, bottom: int, width: int) -> np.ndarray:
        rows = self.blocks[np.arange(top, bottom) // _BLOCK]
        return rows[:, np.arange(width) // _BLOCK]


def check_ink(noisy: np.ndarray, cleaned: np.ndarray, restore: bool = False) -> InkReport:
    """Compare the clear ink of ``noisy`` with ``cleaned``; optionally put dropped ink back.

    Both are grey pages of the same shape, uint8 or float in [0, 1].  With
    ``restore``, ``cleaned`` is changed in place where ink was dropped (and a
    pixel around it, for the anti-aliased edge).  Works band by band: memory
    is a few bands of float32 beyond the two pages.
    """
    if noisy.shape != cleaned.shape:
        raise ValueError(f"pages differ in shape: {noisy.shape} and {cleaned.shape}")
    paper_in, paper_out = PaperLevel(noisy), PaperLevel(cleaned)
    nearby = _NearbyInk(noisy, paper_in)
    margin = SAUVOLA_WINDOW
    height = noisy.shape[0]
    ink_total = kept_total = restored_total = 0
    for top, bottom in bands(height):
        lo, hi = max(0, top - margin), min(height, bottom + margin)
        values = as_unit(noisy[top:bottom])
        paper = paper_in.band(top, bottom)
        contrast_in = _contrast(values, paper)
        dark = values < sauvola_threshold(noisy[lo:hi])[top - lo:bottom - lo]
        strong = contrast_in >= np.maximum(INK_CONTRAST, NEARBY_SHARE * nearby.band(top, bottom, noisy.shape[1]))
        ink = strong & (dark | (contrast_in >= SOLID_CONTRAST))
        output = as_unit(cleaned[top:bottom])
        kept = ink & (_contrast(output, paper_out.band(top, bottom)) >= KEEP_SHARE * contrast_in)
        ink_total += int(ink.sum())
        kept_total += int(kept.sum())
        dropped = ink & ~kept
        if restore and dropped.any():
            region = cv2.dilate(dropped.view(np.uint8), _NEIGHBOURS).astype(bool)
            restored = np.where(region, np.minimum(output, np.clip(values / paper, 0.0, 1.0)), output)
            restored_total += int(np.count_nonzero(restored < output))
            if cleaned.dtype == np.uint8:
                cleaned[top:bottom] = np.clip(np.rint(restored * 255.0), 0, 255).astype(np.uint8)
            else:
                cleaned[top:bottom] = restored
    return InkReport(ink_total, kept_total, restored_total)


def paper_brightness(page: np.ndarray) -> float:
    """The median paper level of a page, in [0, 1] (1 = white paper)."""
    return float(np.median(PaperLevel(page).small))
