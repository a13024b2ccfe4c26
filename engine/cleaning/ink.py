"""Content safety: how much of a page's ink a cleaner kept, and keeping the rest.

A pixel of the input is *clearly ink* when it lies on the paper (not beyond
its edge, see beyond_the_paper), is darker than the paper around it by at
least ``INK_CONTRAST`` of the paper level, and by at least ``NEARBY_SHARE``
of the darkest ink within ``NEARBY`` pixels, and either
Sauvola's threshold calls it ink or it is darker than ``SOLID_CONTRAST``
(solid areas, where Sauvola sees no edge: redaction bars, filled shapes,
photographs).  Contrast is relative: 1 - pixel / paper level, so faded
print on grey paper counts as much as black print on white; next to black
print, a crease or a stain's edge half as dark is not clearly ink.

A clearly-ink pixel is *kept* by a cleaner when the output keeps at least
``KEEP_SHARE`` of its contrast against the output's own paper.  ``check_ink``
measures this and, asked to, puts dropped ink back where the model erased
writing: the input divided by its paper level (the page with its paper made
white), never lighter than what the model wrote.

Clear ink that the model dropped is ink only when it has ink's edges.
Print, handwriting and solid shapes end at a step, as sharp as the page's
own writing; a coffee ring, a fold's shadow or a water stain fades out over
many pixels.  A dropped piece whose edges are less than ``SHARP_SHARE`` as
steep, for its contrast, as the ink the model kept on the same rows is a
stain: it is neither counted as ink nor put back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.cleaning.binarize import SAUVOLA_WINDOW, PaperLevel, bands, sauvola_threshold
from engine.io import to_uint8, to_unit

INK_CONTRAST = 0.25
NEARBY_SHARE = 0.6
NEARBY = 160  # pixels: about two lines of body text at 300 dpi
_BLOCK = 32
# Ink is put back in 128-pixel squares (a few words at 300 dpi) where the
# model dropped more than a tenth of the clear ink.
RESTORE_BLOCK = 128
RESTORE_SHARE = 0.1
# Nor may the output be darker than MAX_DARKENING times the input's contrast:
# show-through and other faint marks must not come out as black print.
MAX_DARKENING = 3.0
SOLID_CONTRAST = 0.6
# Paper darker than this share of the page's own paper, where it reaches the
# image's edge, is not paper: the scanner's lid, a book's edges, the table
# under a phone photo.  Nothing is written there, so nothing is put back there.
BEYOND_PAPER = 0.5
KEEP_SHARE = 0.5
# Above this share of clear ink dropped, a page is reported as unlike
# anything the model knows.
WARN_DROPPED = 0.05

# Where on the page ink was put back or is missing (InkReport.places).  Dropped
# clear ink counts towards a place only in 8-connected pieces of at least
# PLACE_PIECE pixels: the halftone dots, specks and stray pixels a model
# removes around print are not writing, while a glyph's stroke at 300 dpi is
# at least 3 x 7 pixels.  A place (8-adjacent RESTORE_BLOCK squares) is told
# to the user when its pieces hold at least PLACE_PIXELS pixels: a short word
# thinned by a third, a 128-pixel rule two pixels thick, an erased capital.
# Measured with the default model on 15 real scans and 8 DIBCO pages: with no
# minimum 21 of the 23 pages had places (213, most a few specks put back);
# with these, the 12 well-cleaned pages of print and handwriting have none,
# and the 33 places of the other 11 each hold 200 to 9,000 pixels, where the
# model erased sharp dark material: halftone photographs, a book's black
# border, a gutter's edge, writing on a stained diary's foot.
PLACE_PIECE = 20
PLACE_PIXELS = 200
PUT_BACK = "put back"
MISSING = "missing"

_NEIGHBOURS = np.ones((3, 3), np.uint8)
# A piece of dropped ink is put back only when the steepness of its edges
# (contrast gradient per pixel over its contrast) is at least SHARP_SHARE of
# that of the kept ink on the same rows.  Where the model kept too little ink
# to compare with (under SHARP_SAMPLE pixels of edge), every piece is put back.
# Measured: NoisyOffice's coffee rings 0.05-0.16 beside print at 0.34; the
# pieces of one page's writing lie within 0.5-1.5 of their page's figure.
SHARP_SHARE = 0.45
SHARP_SAMPLE = 500

# A page with less than this share of its pixels lighter than NO_PAPER_LEVEL has no paper to find ink
# on: a black (or nearly black) page, a lens cap, an unexposed frame.  Cleaning makes it white.
NO_PAPER_LEVEL = 64  # of 255: a quarter of white
NO_PAPER_SHARE = 0.01


def no_paper_warning(pixels: np.ndarray) -> str | None:
    """A sentence for the user when the page is dark throughout (no paper to clean), else None.

    ``pixels`` is a grey page, uint8 or float in [0, 1].  The content check
    measures ink against the paper, so on such a page it finds no ink to keep
    and says nothing, while the model paints it white.
    """
    level = NO_PAPER_LEVEL if pixels.dtype == np.uint8 else NO_PAPER_LEVEL / 255.0
    light = sum(int(np.count_nonzero(pixels[top:bottom] > level)) for top, bottom in bands(*pixels.shape))
    if light >= NO_PAPER_SHARE * pixels.size:
        return None
    what = "black" if not light and not pixels.any() else "dark"
    return f"the page is {what} throughout: nothing to clean; check the scan (its output is not the page)"


class InkPlace(NamedTuple):
    """A box of the page where the model dropped writing: its ink was put back, or is missing.

    ``top``, ``left``, ``bottom`` and ``right`` are page pixels (bottom and
    right exclusive), on the RESTORE_BLOCK grid; ``kind`` is PUT_BACK (the
    check put the ink back from the input) or MISSING (it was not: restoring
    was off, or the model dropped too small a share of that square's ink);
    ``pixels`` the clear ink dropped there, in pieces of PLACE_PIECE or more.
    """

    top: int
    left: int
    bottom: int
    right: int
    kind: str
    pixels: int


@dataclass(frozen=True)
class InkReport:
    """The ink of one page before and after cleaning, in pixels, and where the model dropped writing."""

    ink: int  # clearly ink in the input
    kept: int  # of those, still ink in what the model wrote
    restored: int  # pixels put back from the input (0 unless asked to restore)
    lightened: int = 0  # pixels the model darkened far beyond the input, lightened back
    places: tuple[InkPlace, ...] = ()  # where it dropped writing, top to bottom

    @property
    def recall(self) -> float:
        """Share of the input's clear ink the model kept, in [0, 1] (1 for a page without ink)."""
        return self.kept / self.ink if self.ink else 1.0

    @property
    def unfamiliar(self) -> bool:
        """True when the model dropped more ink than it ever should."""
        return self.recall < 1.0 - WARN_DROPPED

    def warning(self) -> str | None:
        """A sentence for the user when the page was unfamiliar or has places to check, else None."""
        marked = f"{_count(len(self.places), 'place')} marked in the viewer"
        if self.unfamiliar:
            dropped = 100.0 * (1.0 - self.recall)
            action = "put back from the original" if self.restored else "missing from the output"
            text = (f"this page looks unlike what the model was trained on: it would have erased "
                    f"{dropped:.0f}% of the ink, which was {action}")
            return f"{text} ({marked})" if self.places else text
        if not self.places:
            return None
        put_back = sum(1 for place in self.places if place.kind == PUT_BACK)
        missing = len(self.places) - put_back
        parts = [f"was put back in {_count(put_back, 'place')}"] if put_back else []
        parts += [f"is missing in {_count(missing, 'place')}"] if missing else []
        return f"ink the model erased {' and '.join(parts)} (marked in the viewer)"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _contrast(values: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """1 - values / paper, at least 0, float32 (the content check's hot loop: in place)."""
    ratio = cv2.divide(values.astype(np.float32, copy=False), paper.astype(np.float32, copy=False))
    np.subtract(np.float32(1.0), ratio, out=ratio)
    return np.maximum(ratio, np.float32(0.0), out=ratio)


class _NearbyInk:
    """The strongest contrast within NEARBY pixels of every pixel, from 32-pixel blocks."""

    def __init__(self, page: np.ndarray, paper: PaperLevel) -> None:
        height, width = page.shape
        cols = -(-width // _BLOCK)
        rows = []
        for top, bottom in bands(height, width):  # 128-row multiples: whole blocks but the last
            contrast = _contrast(to_unit(page[top:bottom]), paper.band(top, bottom))
            padded = np.zeros((-(-(bottom - top) // _BLOCK) * _BLOCK, cols * _BLOCK), np.float32)
            padded[:bottom - top, :width] = contrast
            # The 99th percentile would be steadier, the maximum is 10x cheaper; a
            # lone dark speck only raises the bar for faint ink right beside it.
            rows.append(padded.reshape(-1, _BLOCK, cols, _BLOCK).max(axis=(1, 3)))
        blocks = np.concatenate(rows)
        reach = 2 * (NEARBY // _BLOCK) + 1
        self.blocks = cv2.dilate(blocks, np.ones((reach, reach), np.uint8))

    def band(self, top: int, bottom: int, width: int) -> np.ndarray:
        return _spread(self.blocks, _BLOCK, top, bottom, width)


def _spread(grid: np.ndarray, step: int, top: int, bottom: int, width: int) -> np.ndarray:
    """Rows [top, bottom) of ``grid`` (one cell per step x step block) at full size, each pixel its block's."""
    return grid[np.arange(top, bottom) // step][:, np.arange(width) // step]


class _Comparison:
    """Clear ink of the input and what the output kept of it, band by band."""

    def __init__(self, noisy: np.ndarray, cleaned: np.ndarray, paper: PaperLevel | None = None) -> None:
        self.noisy, self.cleaned = noisy, cleaned
        self.paper_in, self.paper_out = paper or PaperLevel(noisy), PaperLevel(cleaned)
        self.nearby = _NearbyInk(noisy, self.paper_in)
        beyond = beyond_the_paper(self.paper_in)
        self.beyond = beyond if beyond.any() else None  # most pages: no lookup per band
        self.lightened = 0

    def band(self, top: int, bottom: int, limit: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(input values, its paper level, clear ink, kept ink) of rows [top, bottom).

        Clear ink the output dropped is counted only where it has ink's edges (ink_shaped).
        With ``limit`` the output's rows are first lightened wherever they are
        darker than MAX_DARKENING times the input's contrast allows.
        """
        noisy, height = self.noisy, self.noisy.shape[0]
        lo, hi = max(0, top - SAUVOLA_WINDOW), min(height, bottom + SAUVOLA_WINDOW)
        values = to_unit(noisy[top:bottom])
        paper = self.paper_in.band(top, bottom)
        contrast_in = _contrast(values, paper)
        dark = values < sauvola_threshold(noisy[lo:hi])[top - lo:bottom - lo]
        bar = np.maximum(INK_CONTRAST, NEARBY_SHARE * self.nearby.band(top, bottom, noisy.shape[1]))
        ink = (contrast_in >= bar) & (dark | (contrast_in >= SOLID_CONTRAST))
        if self.beyond is not None:
            ink &= ~_spread(self.beyond, self.paper_in.step, top, bottom, noisy.shape[1])
        output = to_unit(self.cleaned[top:bottom])
        if limit:
            floor = 1.0 - MAX_DARKENING * contrast_in
            invented = output < floor
            if invented.any():
                self.lightened += int(np.count_nonzero(invented))
                output = np.maximum(output, floor)
                self.cleaned[top:bottom] = to_uint8(output) if self.cleaned.dtype == np.uint8 else output
        kept = ink & (_contrast(output, self.paper_out.band(top, bottom)) >= KEEP_SHARE * contrast_in)
        dropped = ink & ~kept
        if dropped.any():
            ink &= kept | ink_shaped(dropped, kept, contrast_in)
        return values, paper, ink, kept


def beyond_the_paper(paper: PaperLevel) -> np.ndarray:
    """Blocks of ``paper``'s grid beyond the page: in a dark area at least half a paper
    window across (no stroke is that wide), far darker than the page's paper, and
    joined to the image's edge (bool)."""
    dark = (paper.brightest < BEYOND_PAPER * np.percentile(paper.small, 75)).astype(np.uint8)
    across = max(1, paper.window // (2 * paper.step))
    dark = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((across, across), np.uint8))
    _, labels = cv2.connectedComponents(dark, connectivity=4)
    edges = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.isin(labels, edges[edges > 0])


def _per_block(mask: np.ndarray, cols: int) -> NDArray[np.intp]:
    """Count of True pixels in each RESTORE_BLOCK-wide square of a band."""
    rows = -(-mask.shape[0] // RESTORE_BLOCK)
    padded = np.zeros((rows * RESTORE_BLOCK, cols * RESTORE_BLOCK), np.int32)
    padded[:mask.shape[0], :mask.shape[1]] = mask
    # NumPy sums int32 values as intp.
    counts: NDArray[np.intp] = padded.reshape(rows, RESTORE_BLOCK, cols, RESTORE_BLOCK).sum(axis=(1, 3))
    return counts


def check_ink(noisy: np.ndarray, cleaned: np.ndarray, restore: bool = False,
              paper_level: PaperLevel | None = None) -> InkReport:
    """Compare the clear ink of ``noisy`` with ``cleaned``; optionally put dropped ink back.

    Both are grey pages of the same shape, uint8 or float in [0, 1].  With
    ``restore``, ``cleaned`` is changed in place: never darker than
    MAX_DARKENING times the input's contrast, and where ink was dropped (and a
    pixel around it, for the anti-aliased edge), in every RESTORE_BLOCK square
    where the model dropped more than RESTORE_SHARE of the clear ink: there
    it erased writing, not the odd stain fragment as dark as print beside it.
    The report's ``places`` say where writing was put back, or dropped and
    not put back (see PLACE_PIXELS), so that a person can look there.
    ``paper_level`` is ``noisy``'s PaperLevel when the caller already has it.
    Works band by band: memory is a few bands of float32 beyond the two pages.
    """
    if noisy.shape != cleaned.shape:
        raise ValueError(f"pages differ in shape: {noisy.shape} and {cleaned.shape}")
    compared = _Comparison(noisy, cleaned, paper_level)
    height, width = noisy.shape
    cols = -(-width // RESTORE_BLOCK)
    ink_blocks, kept_blocks, piece_blocks = [], [], []
    for top, bottom in bands(height, width):
        _, _, ink, kept = compared.band(top, bottom, limit=restore)
        ink_blocks.append(_per_block(ink, cols))
        kept_blocks.append(_per_block(kept, cols))
        piece_blocks.append(_per_block(_in_pieces(ink & ~kept), cols))
    ink_count, kept_count = np.concatenate(ink_blocks), np.concatenate(kept_blocks)
    in_pieces = np.concatenate(piece_blocks)
    erased = (ink_count - kept_count) > RESTORE_SHARE * ink_count
    put_back = erased if restore else np.zeros_like(erased)
    places = tuple(sorted(_places(in_pieces, put_back, PUT_BACK, height, width)
                          + _places(in_pieces, ~put_back, MISSING, height, width)))
    report_ = InkReport(int(ink_count.sum()), int(kept_count.sum()), 0, compared.lightened, places)
    if not restore:
        return report_
    restored_total = 0
    for top, bottom in bands(height, width):
        rows = erased[top // RESTORE_BLOCK: -(-bottom // RESTORE_BLOCK)]
        if not rows.any():
            continue
        values, paper, ink, kept = compared.band(top, bottom)
        where = np.repeat(np.repeat(rows, RESTORE_BLOCK, axis=0), RESTORE_BLOCK, axis=1)[:bottom - top, :width]
        dropped = ink & ~kept & where
        if not dropped.any():
            continue
        output = to_unit(cleaned[top:bottom])
        region = cv2.dilate(dropped.view(np.uint8), _NEIGHBOURS).astype(bool)
        restored = np.where(region, np.minimum(output, np.clip(values / paper, 0.0, 1.0)), output)
        restored_total += int(np.count_nonzero(restored < output))
        if cleaned.dtype == np.uint8:
            cleaned[top:bottom] = to_uint8(restored)
        else:
            cleaned[top:bottom] = restored
    return InkReport(report_.ink, report_.kept, restored_total, compared.lightened, places)


def _in_pieces(dropped: np.ndarray) -> np.ndarray:
    """The pixels of ``dropped`` (bool, one band) in 8-connected pieces of at least PLACE_PIECE pixels.

    A piece crossing a band's edge is counted in two parts: bands are 128-row
    multiples, so this splits few strokes, and only makes a place a little
    less likely.
    """
    if not dropped.any():
        return dropped
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dropped.view(np.uint8), connectivity=8)
    large = stats[:, cv2.CC_STAT_AREA] >= PLACE_PIECE
    large[0] = False
    result: np.ndarray = large[labels]
    return result


def _places(counts: np.ndarray, where: np.ndarray, kind: str, height: int, width: int) -> list[InkPlace]:
    """Boxes of the 8-adjacent RESTORE_BLOCK squares of ``where`` with dropped ink in pieces
    (``counts``), each holding at least PLACE_PIXELS of it, in page pixels."""
    grid = (where & (counts > 0)).astype(np.uint8)
    if not grid.any():
        return []
    number, labels, stats, _ = cv2.connectedComponentsWithStats(grid, connectivity=8)
    totals = np.bincount(labels.ravel(), counts.ravel(), number)
    places = []
    for label in range(1, number):
        if totals[label] < PLACE_PIXELS:
            continue
        left, top, across, down = (int(value) for value in stats[label, :4])
        places.append(InkPlace(top * RESTORE_BLOCK, left * RESTORE_BLOCK, min(height, (top + down) * RESTORE_BLOCK),
                               min(width, (left + across) * RESTORE_BLOCK), kind, int(totals[label])))
    return places


def _steepness(contrast: np.ndarray) -> np.ndarray:
    """The contrast gradient's magnitude per pixel (a step of contrast c spreads ~c/2 over a pixel)."""
    gx = cv2.Sobel(contrast, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(contrast, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    steepness: np.ndarray = cv2.magnitude(gx, gy)
    return steepness


def _edge(mask: np.ndarray) -> np.ndarray:
    """The one-pixel rings just inside and just outside each region of ``mask`` (bool)."""
    grown: np.ndarray = cv2.dilate(mask.view(np.uint8), _NEIGHBOURS).astype(bool)
    inner: np.ndarray = cv2.erode(mask.view(np.uint8), _NEIGHBOURS).astype(bool)
    edge: np.ndarray = grown & ~inner
    return edge


def ink_shaped(dropped: np.ndarray, kept: np.ndarray, contrast: np.ndarray) -> np.ndarray:
    """The pieces of ``dropped`` whose edges are as steep as ink's (bool, same shape).

    ``dropped`` and ``kept`` are bool masks of one band: clear ink the model
    erased, and clear ink it kept; ``contrast`` is the input's contrast
    against its paper.  A piece (8-connected) whose mean edge steepness, over
    its mean contrast, is below SHARP_SHARE of the kept ink's is a stain's
    darkest part, not writing.  With too little kept ink to compare with, all
    of ``dropped`` is returned.  A stain that touches an erased word is one
    piece with it and comes back with it: the word matters more.
    """
    kept_edge = _edge(kept)
    if np.count_nonzero(kept_edge) < SHARP_SAMPLE:
        return dropped
    steep = _steepness(contrast)
    reference = float(steep[kept_edge].mean()) / max(float(contrast[kept].mean()), 1e-3)
    count, labels = cv2.connectedComponents(dropped.view(np.uint8), connectivity=8)
    if count <= 1:
        return dropped
    # Edge pixels outside a piece take the label of the piece beside them.
    near = cv2.dilate(labels.astype(np.float32), _NEIGHBOURS).astype(np.int32)
    # Where a piece touches kept ink (a ring across a line of print) the
    # print's edge is not the piece's.
    edge = _edge(dropped) & ~cv2.dilate(kept.view(np.uint8), _NEIGHBOURS).astype(bool)
    edge_labels = np.where(dropped, labels, near)[edge]
    edge_steep = np.bincount(edge_labels, steep[edge], count) / np.maximum(np.bincount(edge_labels, None, count), 1)
    inside = labels[dropped]
    mean_contrast = np.bincount(inside, contrast[dropped], count) / np.maximum(np.bincount(inside, None, count), 1)
    sharp = edge_steep >= SHARP_SHARE * reference * mean_contrast
    sharp[0] = False
    result: np.ndarray = sharp[labels]
    return result


def paper_brightness(page: np.ndarray) -> float:
    """The median paper level of a page, in [0, 1] (1 = white paper)."""
    return float(np.median(PaperLevel(page).small))
