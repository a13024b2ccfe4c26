"""Which way is up: the direction of a page's text lines, and which of their sides is their top.

Two questions with different answers in reliability.  Whether lines run
across or down the page is read from where each letter's nearest neighbours
lie, in any script.  Which side is up needs the letters' shapes: most
scripts that use Latin letters have many more strokes rising above the
letters' middle band (capitals, digits, b d f h k l t, dots and accents)
than falling below it (g j p q y); Cyrillic has fewer such rises, so this
evidence alone turns a page only when it is overwhelming, and Tesseract's
orientation detection (when installed) confirms a page that looks turned.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.geometry.skew import MIN_LETTERS, line_angle
from engine.geometry.working_copy import Letters, covering, runs
from engine.io.ocr import TESSERACT

# Lines run across the page when their profile is this much sharper across than down (and the reverse).
LINE_DIRECTION_RATIO = 1.5

# Rising over falling strokes: above UPRIGHT_RISES the page is upright, below 1 / UPRIGHT_RISES it is upside
# down; in between (Cyrillic, digits, tables) it is unsure.  Upright Latin print and handwriting measure 2-6.
UPRIGHT_RISES = 1.8

# Without Tesseract, only overwhelming evidence turns a page by itself.
SURE_RISES = 4.0

# Tesseract's answer is taken with at least this orientation confidence.  It turns a page over on its own
# only when it also names the script with this confidence: on handwritten letters it named Greek or
# Japanese at 0.1-2.3 and read them upside down at 6-9; on book print, Latin or Cyrillic, it names the
# script at 3.5-15 (on a small office page at 0.4-1.6: there the letters' rises must agree).
OSD_CONFIDENCE, OSD_SCRIPT_CONFIDENCE = 2.0, 3.0

# Neighbours leaning this much along one direction are lines when the profiles agree.
_LEANING = 1.25

# Letters looked at for the lines' direction (a sample of the page's), and neighbours per letter.
_MOST_LETTERS, _NEIGHBOURS = 1500, 4

#: Where Tesseract cannot tell, it is shown the page again with letters this tall (pixels; at most 3 times
#: enlarged): it tells nothing of a small page's 9-pixel letters and is mostly right three times larger,
#: but then names the script surely even when wrong (a typed letter, photographed, read upside down), so an
#: enlarged page's answer never counts as sure.
TESSERACT_LETTERS = 30

# A rise or fall reaches this share of the middle band's height beyond it.
_REACH = 0.35


@dataclass(frozen=True)
class Orientation:
    """``turns``: quarter turns clockwise that make the page upright (0-3), or None when unsure;
    ``reason``: why, in words, when unsure or when Tesseract decided."""

    turns: Optional[int]
    reason: str = ""


def lines_run_down(found: Letters) -> Optional[bool]:
    """Whether the text lines run down the page; None when it cannot tell.

    O'Gorman's docstrum: a letter's nearest neighbours are mostly the letters
    beside it on its line, whatever the script, the skew or a line's curve,
    so the directions to them cluster along the lines.
    """
    if found.count < MIN_LETTERS:
        return None
    centres = np.ascontiguousarray(found.boxes[:, :2] + found.boxes[:, 2:] / 2, dtype=np.float32)
    # Every letter is a neighbour, but only a spread-out sample of them asks for its neighbours (a k-d tree).
    asking = np.ascontiguousarray(centres[::max(1, len(centres) // _MOST_LETTERS)])
    tree = cv2.flann_Index(centres, {"algorithm": 1, "trees": 4})  # type: ignore[attr-defined]  # not in the stubs
    nearest, _ = tree.knnSearch(asking, _NEIGHBOURS + 1, params={"checks": 64})
    steps = centres[nearest[:, 1:]] - asking[:, None, :]  # the first neighbour found is the letter itself
    angles = np.degrees(np.arctan2(np.abs(steps[..., 1]), np.abs(steps[..., 0])))
    across, down = int((angles < 30).sum()), int((angles > 60).sum())
    if across >= LINE_DIRECTION_RATIO * down:
        return False
    if down >= LINE_DIRECTION_RATIO * across:
        return True
    # Handwriting whose letters join leans only a little; a photograph's marks (0.9-1.2 on the real scans'
    # photographs) do not lean at all.
    if across >= _LEANING * down:
        return _profiles_run_down(found.mask, False)
    if down >= _LEANING * across:
        return _profiles_run_down(found.mask, True)
    return None


def _profiles_run_down(mask: NDArray[np.bool_], leaning_down: bool) -> Optional[bool]:
    """``leaning_down`` when the projection profiles agree (lines give a sharp profile across them, none
    along them); None otherwise."""
    across, down = line_angle(mask, fine=False), line_angle(np.ascontiguousarray(mask.T), fine=False)
    if across is None or down is None:
        return None
    sharper, duller = (down, across) if leaning_down else (across, down)
    return leaning_down if sharper.sure and sharper.peak >= LINE_DIRECTION_RATIO * duller.peak else None


def rises_over_falls(found: Letters, mask_rows: int) -> Optional[float]:
    """Letters reaching above their line's middle band over those reaching below it, on a page whose
    lines run across; None with too few letters in lines."""
    boxes = found.boxes
    if len(boxes) < MIN_LETTERS:
        return None
    tops, bottoms = boxes[:, 1], boxes[:, 1] + boxes[:, 3] - 1
    centres_x = boxes[:, 0] + boxes[:, 2] // 2
    width = int(centres_x.max()) + 1
    strips = max(1, width // 300)  # narrow enough that a slightly curved line stays one band
    rises = falls = 0
    for strip in range(strips):
        inside = (centres_x * strips // width) == strip
        if inside.sum() < 10:
            continue
        # Each letter counts once per row it covers, whatever its ink: a band is where most letters are.
        profile = covering(tops[inside], bottoms[inside] + 1, mask_rows).astype(np.float64)
        bands = np.array(_middle_bands(profile), np.int64).reshape(-1, 2)
        if not len(bands):
            continue
        top, bottom = tops[inside, None], bottoms[inside, None]
        # Each letter belongs to the band it overlaps most.
        overlap = np.minimum(bottom, bands[None, :, 1]) - np.maximum(top, bands[None, :, 0]) + 1
        mine = bands[np.argmax(overlap, axis=1)]
        placed = overlap.max(axis=1) > 0
        reach = _REACH * (mine[:, 1] - mine[:, 0] + 1)
        rises += int((placed & (top[:, 0] < mine[:, 0] - reach)).sum())
        falls += int((placed & (bottom[:, 0] > mine[:, 1] + reach)).sum())
    if rises + falls < 20:
        return None
    return (rises + 1) / (falls + 1)


def _middle_bands(profile: np.ndarray) -> list[tuple[int, int]]:
    """Runs of rows where at least half as many letters as on a line's busiest row lie."""
    bands: list[tuple[int, int]] = []
    busy = profile > 0
    if not busy.any():
        return bands
    # Lines differ in how many letters they hold: each run of letter rows gets its own half-peak.
    for start, stop in runs(busy):
        run = profile[start:stop]
        core = np.flatnonzero(run >= 0.5 * run.max())
        # Letters of neighbouring lines touching (descenders on ascenders) join runs: split at cores' gaps.
        groups = np.split(core, np.flatnonzero(np.diff(core) > 2) + 1)
        bands.extend((start + int(g[0]), start + int(g[-1])) for g in groups if len(g))
    return bands


def tesseract_turns(grey: NDArray[np.uint8], dpi: float, letters_high: float = TESSERACT_LETTERS
                    ) -> Optional[tuple[int, bool]]:
    """Quarter turns clockwise that make ``grey`` upright by Tesseract's orientation detection, and whether
    it was sure of the script too; None when Tesseract (with its 'osd' data) is not installed, fails, or is
    unsure of the orientation.  ``letters_high``: the letters' typical height in ``grey`` (pixels)."""
    told = _osd(grey, dpi)
    larger = min(3.0, TESSERACT_LETTERS / max(1.0, letters_high))
    if told is not None or larger <= 1.0:
        return told
    enlarged = np.asarray(cv2.resize(grey, None, fx=larger, fy=larger, interpolation=cv2.INTER_CUBIC), np.uint8)
    told = _osd(enlarged, dpi * larger)
    return None if told is None else (told[0], False)


def _osd(grey: NDArray[np.uint8], dpi: float) -> Optional[tuple[int, bool]]:
    program = shutil.which(TESSERACT)
    if program is None:
        return None
    with tempfile.TemporaryDirectory(prefix="docclean-osd-") as folder:
        path = Path(folder) / "page.png"
        cv2.imwrite(str(path), grey)
        try:
            done = subprocess.run([program, str(path), "-", "--psm", "0", "--dpi", str(int(dpi))],
                                  capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
    fields = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    try:
        rotate, confidence = int(fields["Rotate"].strip()), float(fields["Orientation confidence"].strip())
        script = float(fields["Script confidence"].strip())
    except (KeyError, ValueError):
        return None
    if confidence < OSD_CONFIDENCE:
        return None
    return (rotate // 90) % 4, script >= OSD_SCRIPT_CONFIDENCE
