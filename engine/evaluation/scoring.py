"""Score a cleaning function on noisy/clean page pairs.

One code path for the CLI, the GUI and the benchmarks: ``evaluate`` takes
the pairs and any function that turns a noisy page into a cleaned one, and
returns the numbers the field reports (Kaggle per-pixel RMSE, PSNR, SSIM,
and on binary ground truth the DIBCO metrics) plus how fast the function
ran.  ``evaluate_ink`` scores pages without ground truth by the ink kept.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Optional

import numpy as np

from engine.errors import ConfigurationError, DataError
from engine.evaluation import binary_metrics
from engine.evaluation import metrics
from engine.cleaning.binarize import otsu_threshold
from engine.io import ImageReadError, read_page
from engine.cleaning.ink import check_ink, paper_brightness
from engine.data.pairs import Pair, load_pair
from engine.progress import CancelToken, ProgressCallback, check, report
from engine.vocabulary import Stage

CleanFunction = Callable[[np.ndarray], np.ndarray]
#: One pair's or page's numbers by name, with its name and document (words), or the 'error' that kept it out.
Row = dict[str, Any]


class NothingReadable(DataError):
    """Not one of the pairs (or pages) to score could be read.

    ``errors`` holds one "<file>: <reason>" per input; ``summary`` is the
    sentence without them ("none of the 3 pairs could be read").
    """

    def __init__(self, noun: str, errors: List[str]) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        self.summary = (f"the one {noun} could not be read" if count == 1
                        else f"none of the {count} {noun}s could be read")
        super().__init__(f"{self.summary}: " + "; ".join(self.errors))


def _errors(rows: List[Row]) -> List[str]:
    return [row["error"] for row in rows if "error" in row]


@dataclass
class EvaluationReport:
    """Quality and speed of a cleaning function over a set of pairs.

    Attributes:
        rmse: per-pixel RMSE pooled over every pixel of every page (the
            Kaggle "Denoising Dirty Documents" metric), in [0, 1].
        psnr: mean of the per-page PSNR in dB; inf if any page is perfect.
        ssim: mean of the per-page SSIM, in [-1, 1].
        pairs: number of pairs scored.
        seconds_per_megapixel: seconds spent inside the cleaning function
            per million pixels cleaned (I/O and scoring excluded).
        per_pair: one dict per pair with keys name, document, rmse, psnr,
            ssim, megapixels and seconds; for a pair that could not be read,
            name, document and error ("<file>: <reason>") instead.
    """

    rmse: float
    psnr: float
    ssim: float
    pairs: int
    seconds_per_megapixel: float
    per_pair: List[Row] = field(default_factory=list)
    binary: Optional[dict[str, float]] = None

    def to_json_dict(self) -> dict[str, object]:
        """The summary numbers, ready for ``json.dump``.

        Returns the keys rmse, psnr, ssim, pairs and seconds_per_megapixel
        (per_pair is left out), and where every ground truth page is binary
        the DIBCO means f_measure, pseudo_f_measure, binary_psnr and drd;
        when some pairs could not be read, "errors" lists their messages.
        Non-finite numbers,
        such as the infinite PSNR of a perfect result, become None because
        JSON has no infinity.
        """
        return {
            "rmse": _json_number(self.rmse),
            "psnr": _json_number(self.psnr),
            "ssim": _json_number(self.ssim),
            "pairs": self.pairs,
            "seconds_per_megapixel": _json_number(self.seconds_per_megapixel),
            **({k: _json_number(v) for k, v in self.binary.items()} if self.binary else {}),
            **({"errors": self.errors} if self.errors else {}),
        }

    @property
    def errors(self) -> List[str]:
        """One "<file>: <reason>" per pair that could not be read."""
        return _errors(self.per_pair)


def _json_number(value: float) -> Optional[float]:
    return float(value) if math.isfinite(value) else None


def _score_page(pair: Pair, cleaned: np.ndarray, clean: np.ndarray) -> Row:
    """Per-page numbers for one pair, plus its squared error and pixel count for pooling."""
    cleaned = np.asarray(cleaned)
    if cleaned.ndim == 3 and cleaned.shape[2] == 1:
        cleaned = cleaned[:, :, 0]
    if cleaned.shape != clean.shape:
        raise DataError(
            f"{pair.noisy}: cleaning returned shape {cleaned.shape}, "
            f"but the clean page {pair.clean} has shape {clean.shape}"
        )
    squared = metrics.squared_error_sum(cleaned, clean)
    page_rmse = math.sqrt(squared / clean.size)
    row: Row = {
        "name": pair.name,
        "document": pair.document,
        "rmse": page_rmse,
        "psnr": metrics.psnr_from_rmse(page_rmse),
        "ssim": metrics.ssim(cleaned, clean),
        "megapixels": clean.size / 1e6,
        "squared_error": squared,
        "pixels": clean.size,
    }
    if is_binary(clean):
        row.update(binary_scores(cleaned < otsu_threshold(cleaned), clean < 0.5))
    return row


BINARY_KEYS = ("f_measure", "pseudo_f_measure", "binary_psnr", "drd")


def is_binary(page: np.ndarray) -> bool:
    """True for a ground-truth page of black and white (a binarisation set such as DIBCO).

    A few stray grey pixels (under 1 %, as some sets' files have) are
    allowed; ink is then everything below 0.5.
    """
    return bool(np.count_nonzero((page != 0) & (page != 1)) < 0.01 * page.size)


def binary_scores(ink: np.ndarray, true_ink: np.ndarray) -> dict[str, float]:
    """The DIBCO metrics of a binarised page (True = ink) against its ground truth."""
    return {
        "f_measure": binary_metrics.f_measure(ink, true_ink),
        "pseudo_f_measure": binary_metrics.pseudo_f_measure(ink, true_ink),
        "binary_psnr": binary_metrics.binary_psnr(ink, true_ink),
        "drd": binary_metrics.drd(ink, true_ink),
    }


def _clean_and_score(pair: Pair, clean_fn: CleanFunction) -> Row:
    """One pair's row: its scores and cleaning time, or the 'error' that kept it from being read."""
    try:
        noisy, clean = load_pair(pair)
    except (ImageReadError, ValueError) as error:  # ValueError: the two pages differ in size
        return {"name": pair.name, "document": pair.document, "error": str(error)}
    started = time.perf_counter()
    cleaned = clean_fn(noisy)
    seconds = time.perf_counter() - started
    return {**_score_page(pair, cleaned, clean), "seconds": seconds}


def evaluate(
    pairs: List[Pair],
    clean_fn: CleanFunction,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> EvaluationReport:
    """Clean every noisy page with ``clean_fn`` and score it against its clean page.

    Pages are loaded with ``engine.data.pairs.load_pair`` (grey float32 in
    [0, 1], full resolution, never resized) and scored one at a time, so
    memory stays at about one page.  A pair that cannot be read (a damaged
    file, pages of different sizes) is left out and its row holds the
    'error'; the others are scored.

    Args:
        pairs: the pairs to score, e.g. the test side of
            ``split_by_document``. Must not be empty.
        clean_fn: maps a noisy page (float32, shape (height, width), values
            in [0, 1]) to a cleaned page of the same shape, values in [0, 1].
            Only the time spent inside it is counted as cleaning time.
        progress: optional callback; gets stage "evaluate" with done/total
            counted in pages.
        cancel: optional token, checked before each page.

    Returns:
        An EvaluationReport. ``rmse`` is pooled over all pixels of all pages
        (sqrt of total squared error / total pixels); ``psnr`` and ``ssim``
        are means of the per-page values; ``seconds_per_megapixel`` is the
        total cleaning time divided by the total megapixels.

    Raises:
        ValueError: if ``pairs`` is empty or ``clean_fn`` returns a page of
            the wrong shape (the message names the file).
        NothingReadable: (a ValueError) if not one pair could be read.
        engine.progress.Cancelled: if ``cancel`` is set.
    """
    if not pairs:
        raise ConfigurationError("evaluate needs at least one pair, got none")
    total = len(pairs)
    per_pair: List[Row] = []
    report(progress, Stage.EVALUATE, 0, total, "scoring pages")
    for index, pair in enumerate(pairs):
        check(cancel)
        row = _clean_and_score(pair, clean_fn)
        per_pair.append(row)
        report(progress, Stage.EVALUATE, index + 1, total, pair.name,
               values={"rmse": row["rmse"]} if "rmse" in row else {})
    scored = [row for row in per_pair if "error" not in row]
    if not scored:
        raise NothingReadable("pair", _errors(per_pair))
    squared_total = sum(row.pop("squared_error") for row in scored)
    pixels_total = sum(row.pop("pixels") for row in scored)
    seconds_total = sum(row["seconds"] for row in scored)
    binary_rows = [row for row in scored if "f_measure" in row]
    return EvaluationReport(
        rmse=math.sqrt(squared_total / pixels_total),
        psnr=float(np.mean([row["psnr"] for row in scored])),
        ssim=float(np.mean([row["ssim"] for row in scored])),
        pairs=len(scored),
        seconds_per_megapixel=seconds_total / (pixels_total / 1e6),
        per_pair=per_pair,
        # DIBCO tables average each metric over the pages of a set.
        binary={key: float(np.mean([row[key] for row in binary_rows])) for key in BINARY_KEYS}
        if binary_rows and len(binary_rows) == len(scored) else None,
    )


@dataclass
class InkEvaluation:
    """How much clear ink a cleaner kept on pages without ground truth (engine.cleaning.ink).

    ``recall`` pools the kept ink of all pages; ``paper_before`` and
    ``paper_after`` are mean paper levels (1 = white) of input and output.
    """

    pages: int
    recall: float
    paper_before: float
    paper_after: float
    per_page: List[Row] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, object]:
        """The summary numbers for ``json.dump``; "errors" lists the pages that could not be read, if any."""
        return {"pages": self.pages, "ink_recall": self.recall,
                "paper_before": self.paper_before, "paper_after": self.paper_after,
                **({"errors": self.errors} if self.errors else {})}

    @property
    def errors(self) -> List[str]:
        """One "<file>: <reason>" per page that could not be read."""
        return _errors(self.per_page)


def evaluate_ink(
    pages: List[Path],
    clean_fn: CleanFunction,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> InkEvaluation:
    """Clean each page file (read as uint8) with ``clean_fn`` and measure the ink it kept.

    A page that cannot be read is left out and its row holds the 'error';
    NothingReadable (a ValueError) is raised if not one page could be read.
    """
    if not pages:
        raise ConfigurationError("evaluate_ink needs at least one page, got none")
    rows: List[Row] = []
    ink_total = kept_total = 0
    report(progress, Stage.EVALUATE, 0, len(pages), "measuring ink")
    for index, path in enumerate(pages):
        check(cancel)
        try:
            noisy = read_page(path, dtype=np.uint8).pixels
        except ImageReadError as error:
            rows.append({"name": Path(path).name, "error": str(error)})
            report(progress, Stage.EVALUATE, index + 1, len(pages), Path(path).name)
            continue
        cleaned = clean_fn(noisy)
        kept = check_ink(noisy, cleaned)
        ink_total += kept.ink
        kept_total += kept.kept
        rows.append({"name": Path(path).name, "ink_recall": kept.recall,
                     "paper_before": paper_brightness(noisy), "paper_after": paper_brightness(cleaned)})
        report(progress, Stage.EVALUATE, index + 1, len(pages), Path(path).name, values={"ink_recall": kept.recall})
    scored = [row for row in rows if "error" not in row]
    if not scored:
        raise NothingReadable("page", _errors(rows))
    return InkEvaluation(
        pages=len(scored), recall=kept_total / ink_total if ink_total else 1.0,
        paper_before=float(np.mean([row["paper_before"] for row in scored])),
        paper_after=float(np.mean([row["paper_after"] for row in scored])), per_page=rows)
