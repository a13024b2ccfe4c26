"""How far a page's text lines are turned from the horizontal.

Postl's projection-profile method: the ink is projected onto the page's
vertical axis turned by each candidate angle; at the lines' own angle the
profile alternates sharply between lines and gaps, so the sum of squared
differences of neighbouring rows peaks there.  Searched coarse to fine on
the letters' pixels, which is fast (no image is rotated) and reaches a few
hundredths of a degree on a page with a dozen lines.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from numpy.typing import NDArray

#: The largest skew looked for, in degrees either way.
MAX_SKEW = 20.0

#: A page needs this many letter-sized marks to have lines worth measuring.
MIN_LETTERS = 30

# At the lines' angle the profile's sharpness must stand this far above its typical value over all
# angles: a photograph or a blank page's specks have no such peak.
MIN_PEAK = 1.6

_COARSE_POINTS, _FINE_POINTS = 40_000, 200_000


@dataclass(frozen=True)
class LineAngle:
    """``angle``: degrees to turn the page anticlockwise (as seen on screen) to make its lines horizontal;
    ``peak``: the profile's sharpness there over its median over all angles (above MIN_PEAK: lines)."""

    angle: float
    peak: float

    @property
    def sure(self) -> bool:
        return self.peak >= MIN_PEAK


def _points(mask: NDArray[np.bool_], most: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``most`` of the mask's pixels (x, y), centred, float64; a fixed sample for repeatable angles."""
    ys, xs = np.nonzero(mask)
    if len(xs) > most:
        chosen = np.random.default_rng(seed).choice(len(xs), most, replace=False)
        xs, ys = xs[chosen], ys[chosen]
    height, width = mask.shape
    # Spread within its pixel: on the bare grid, slopes such as 1/3 line pixels up into false lines.
    spread = np.random.default_rng(seed + 1).uniform(-0.5, 0.5, (2, len(xs)))
    return xs + spread[0] - width / 2, ys + spread[1] - height / 2


def _sharpness(xs: np.ndarray, ys: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Postl's criterion for each angle (degrees): squared differences of the turned profile's neighbours."""
    scores = np.empty(len(angles))
    for index, angle in enumerate(np.deg2rad(angles)):
        # The row a point falls on once the page is turned anticlockwise by ``angle`` (y grows downwards).
        rows = ys * np.cos(angle) + xs * np.sin(angle)
        profile = np.bincount((rows - rows.min()).astype(np.intp)).astype(np.float64)
        scores[index] = np.square(np.diff(profile)).sum()
    return scores


def line_angle(mask: NDArray[np.bool_], limit: float = MAX_SKEW, fine: bool = True) -> Optional[LineAngle]:
    """The angle of the text lines in ``mask`` (letters' pixels), within ``limit`` degrees; None with
    fewer pixels than a few lines of text have.  Without ``fine``, to the coarse search's quarter degree
    only (its ``peak`` is the same): enough to tell whether there are lines."""
    if np.count_nonzero(mask) < 20 * MIN_LETTERS:
        return None
    xs, ys = _points(mask, _COARSE_POINTS)
    coarse = np.arange(-limit, limit + 1e-9, 0.25)
    scores = _sharpness(xs, ys, coarse)
    best = float(coarse[int(np.argmax(scores))])
    typical = float(np.median(scores)) or 1.0
    peak = float(scores.max()) / typical
    if not fine:
        return LineAngle(best, peak)
    xs, ys = _points(mask, _FINE_POINTS)
    steps = np.arange(best - 0.3, best + 0.3 + 1e-9, 0.02)
    fine_scores = _sharpness(xs, ys, steps)
    # The fine peak's centre of mass over its top neighbours: steadier than the single best step.
    top = int(np.argmax(fine_scores))
    around = slice(max(0, top - 2), top + 3)
    weights = fine_scores[around] - fine_scores[around].min() + 1e-9
    angle = float(np.average(steps[around], weights=weights))
    return LineAngle(angle, peak)
