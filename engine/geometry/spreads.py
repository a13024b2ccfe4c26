"""Two-page spreads: where the gutter between an open book's pages runs.

A spread is wider than tall (but not a strip) and holds text on both sides of an empty band
near its middle (the two inner margins, often shaded by the binding's
curve).  A single page is never split: it is taller than wide, or its
text crosses the middle, or one side holds too little of it (a handwritten
note's few large words); a page with two columns has a band far narrower than two margins.
"""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from engine.geometry.skew import MIN_LETTERS
from engine.geometry.working_copy import Letters, covering, runs

#: A spread is this much wider than tall: two pages, each taller than wide (a wider strip is a fragment).
MIN_ASPECT, MAX_ASPECT = 1.15, 2.4

#: The gutter lies within this share of the width around the middle.
GUTTER_REACH = 0.2

#: The empty band is at least this share of the width (two inner margins, narrow in a tightly bound book).
MIN_GAP = 0.012

#: Each side holds at least this share of the letters, in at least this many lines.
MIN_SIDE, MIN_LINES = 0.25, 8

#: Each side holds at least this many letters (on the 1600-pixel working copy): a book's page of text holds
#: hundreds, while a handwritten note's few lines, where joined writing makes a word one shape, hold a few dozen
#: (measured: 932 or more on each side of the real book spreads, 82 or fewer on the notes once taken for spreads).
MIN_SIDE_LETTERS = 200

# A column is empty when fewer letters cover it than this share of a typical text column's.
_EMPTY = 0.15


def find_gutter(found: Letters, shape: tuple[int, ...]) -> Optional[float]:
    """The x of the gutter of a spread whose lines run across (``found``: its letters, ``shape``: the
    copy's (height, width)), the middle of the empty band; None when the page is not clearly a spread."""
    height, width = shape[:2]
    if not MIN_ASPECT * height <= width <= MAX_ASPECT * height or found.count < 2 * MIN_LETTERS:
        return None
    # How many letters cover each column: a mark or two across the gutter (a note in the margin, the crease)
    # leaves it far below a text column's count, where every line has a letter or a word's gap.
    cover = covering(found.boxes[:, 0], found.boxes[:, 0] + found.boxes[:, 2], width).astype(np.float32)
    smooth = max(3, int(0.005 * width) | 1)
    profile = np.asarray(cv2.blur(cover.reshape(1, -1), (smooth, 1)), np.float32).ravel()
    text = profile[profile > 0]
    typical = float(np.percentile(text, 75)) if len(text) else 0.0
    if typical <= 0:
        return None
    empty = profile <= _EMPTY * typical
    low, high = int((0.5 - GUTTER_REACH) * width), int((0.5 + GUTTER_REACH) * width)
    best: Optional[tuple[int, int]] = None
    for start, stop in runs(empty[low:high]):
        if best is None or stop - start > best[1] - best[0]:
            best = (start, stop)
    if best is None or best[1] - best[0] < MIN_GAP * width:
        return None
    gutter = low + (best[0] + best[1]) / 2
    centres = found.boxes[:, 0] + found.boxes[:, 2] / 2
    left_share = float((centres < gutter).mean())
    if not MIN_SIDE <= left_share <= 1 - MIN_SIDE:
        return None
    # A book's page holds many lines; a wide handwritten sheet with a gap between two blocks, a few.
    tops, bottoms = found.boxes[:, 1], found.boxes[:, 1] + found.boxes[:, 3]
    for side in (centres < gutter, centres >= gutter):
        if side.sum() < MIN_SIDE_LETTERS or _lines(tops[side], bottoms[side], height) < MIN_LINES:
            return None
    return gutter


def _lines(tops: np.ndarray, bottoms: np.ndarray, height: int) -> int:
    """How many text lines letters spanning rows [top, bottom) make: runs of rows many letters cover."""
    rows = covering(tops, bottoms, height)
    busy = rows >= max(2, 0.2 * float(rows.max(initial=0)))
    return len(runs(busy))
