"""OCR helpers for the benchmarks: Tesseract's reading of a page, character error rate, NoisyOffice noise kinds.

Tesseract is run as its command-line binary (``tesseract IMG stdout -l eng --psm 6``),
one page at a time, single-threaded (``OMP_THREAD_LIMIT=1``: the benchmark machines
have two cores), on the page at its own resolution: nothing is upscaled (the
NoisyOffice pages' print is large enough to read as it is).  Page segmentation
mode 6 ("a single uniform block of text") suits NoisyOffice's pages, one block of
text cut off at the right edge: on every second held-out noisy page, read against
Tesseract's reading of its clean page in the same mode, the mean character error
rate was 2.9 % with mode 6, 6.5 % with the automatic mode 3 and 6.8 % with mode 4
(the automatic layout analysis drops or splits stained lines).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.io import read_page, write_page

TESSERACT = "tesseract"
PAGE_SEGMENTATION = 6
INSTALL_HINT = ("Tesseract (with its English data) is not installed, so the OCR table is skipped "
                "(install it with: apt-get install -y tesseract-ocr tesseract-ocr-eng).")

# NoisyOffice's noise kinds, each with one pair per background crop seen in its pages,
# picked and named by eye (coffee: dark spills and rings; folds: straight creases;
# watermarks: faint mottled or rectangular grey prints; crumples: fine creases all over).
NOISE_EXAMPLES = {
    "coffee stains": ("5", "7", "9"),
    "folds": ("11", "12"),
    "watermarks": ("3", "4", "21"),
    "crumples": ("0",),
}
PAPER = 0.9  # clean-page grey level above which a pixel is paper
SAME_BACKGROUND = 0.5  # least correlation of two residuals from one scanned background


def tesseract_available() -> bool:
    """Whether the ``tesseract`` binary is on PATH and has its English data."""
    if shutil.which(TESSERACT) is None:
        return False
    languages = subprocess.run([TESSERACT, "--list-langs"], capture_output=True, text=True).stdout.split()
    return "eng" in languages


def read_text(page: np.ndarray, psm: int = PAGE_SEGMENTATION) -> str:
    """Tesseract's text of a grey page in [0, 1] (written to a temporary PNG, read in English)."""
    with tempfile.TemporaryDirectory(prefix="docclean-ocr-") as scratch:
        image = write_page(page, Path(scratch) / "page.png")
        done = subprocess.run([TESSERACT, str(image), "stdout", "-l", "eng", "--psm", str(psm)],
                              capture_output=True, text=True, check=True,
                              env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return done.stdout


def normalise(text: str) -> str:
    """The text with every run of whitespace (line breaks included) made one space, and trimmed."""
    return " ".join(text.split())


def levenshtein(a: str, b: str) -> int:
    """Edit distance between two strings (insertions, deletions, substitutions of one character each).

    One row of the dynamic programme at a time, in numpy: substitutions and
    deletions elementwise, then insertions as a running minimum.
    """
    if not a or not b:
        return len(a) + len(b)
    codes = np.array([ord(ch) for ch in b])
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for i, ch in enumerate(a, start=1):
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(row[:-1] + (codes != ord(ch)), row[1:] + 1)
        row = np.minimum.accumulate(best - steps) + steps
    return int(row[-1])


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate in %: edit distance over the reference's length, whitespace normalised."""
    reference, hypothesis = normalise(reference), normalise(hypothesis)
    return 100.0 * levenshtein(reference, hypothesis) / max(len(reference), 1)


def paper_residual(noisy: Path, clean: Path) -> np.ndarray:
    """Noisy over clean grey level on the clean page's paper, NaN on its ink.

    Dividing by the clean page removes the document, leaving the scanned
    background that the noise was made from.
    """
    dirty, truth = read_page(noisy).pixels, read_page(clean).pixels
    return np.where(truth > PAPER, dirty / np.maximum(truth, 1e-3), np.nan)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images over their common top-left area, where both are defined (not NaN)."""
    height, width = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    a, b = a[:height, :width], b[:height, :width]
    both = ~np.isnan(a) & ~np.isnan(b)
    return float(np.corrcoef(a[both], b[both])[0, 1])


def noise_kinds(pairs: Sequence, examples: Sequence) -> dict[str, str]:
    """The NoisyOffice noise kind of each pair, by name: that of the example whose background it shares.

    NoisyOffice's noise comes from a few scanned backgrounds reused over all
    documents, and its file names do not say which.  A pair's background is
    its paper residual (noisy / clean where the clean page is paper); it is
    matched by Pearson correlation, over the area both pages have, against the
    residuals of NOISE_EXAMPLES' pairs (one per background crop, named by
    eye).  Residuals of one background correlate at 0.75 to 1, of different
    ones at -0.2 to 0.3: a best match under 0.5 is refused.

    Args:
        pairs: the engine.data.pairs.Pair objects to label.
        examples: all pairs of the set (the NOISE_EXAMPLES names are looked up among them).
    """
    by_name = {pair.name: pair for pair in examples}
    references = [(kind, paper_residual(by_name[name].noisy, by_name[name].clean))
                  for kind, names in NOISE_EXAMPLES.items() for name in names]
    kinds = {}
    for pair in pairs:
        residual = paper_residual(pair.noisy, pair.clean)
        score, kind = max((correlation(residual, ref), kind) for kind, ref in references)
        if score < SAME_BACKGROUND:
            raise ValueError(f"{pair.noisy}: matches no known NoisyOffice background (best correlation {score:.2f})")
        kinds[pair.name] = kind
    return kinds
