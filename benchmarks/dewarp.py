"""Dewarping (engine.geometry.dewarp, ``--dewarp``): curled book pages flattened, straight pages left alone.

    python benchmarks/dewarp.py [--data DIR] [--out DIR] [--skip-ocr] [--smoke]

1. Curled pages: real straight pages (benchmarks/geometry_pages.py: NoisyOffice, DIBCO print, typed and
handwritten pages, the samples) curled towards a spine on their right by DEPTHS (the bend at the spine as a
share of the page's height, geometry_pages.curled); for each, the ink's overlap with the flat page's
(intersection over union of the pixels darker than half-way to the paper), before and after flattening,
and Tesseract's word recall against the flat page for the printed ones (benchmarks.geometry.words).  Depth
0 shows what flattening does to a straight page (it must leave it alone).  2. The real book scans, as the
geometry stage makes them (upright, straight, split): the bend the line fitter finds before and after
(no ground truth: the same fitter judges its own work, so read it with the pictures).  3. Time to find and
undo the bend of an A4 page at 300 dpi.  Writes benchmarks/results/dewarp.md and .json (or into
``--out``); ``--smoke`` runs in seconds on a page of each kind and its figures mean nothing.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from statistics import median
from typing import Optional

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

import numpy as np  # noqa: E402

from benchmarks import geometry_pages as gp  # noqa: E402
from benchmarks.geometry import OCR_PAGES, recall, words  # noqa: E402
from benchmarks.results_files import results_folder, save_results  # noqa: E402
from engine.geometry import apply_pages, find_geometry  # noqa: E402
from engine.geometry.dewarp import find_bend, flattened  # noqa: E402

DEPTHS, SMOKE_DEPTHS = (0.0, 0.01, 0.02, 0.03), (0.0, 0.02)
A4, SMOKE_A4, TIMING_RUNS = (3508, 2480), (720, 516), 3

Pages = list[tuple[str, np.ndarray]]


def ink(page: np.ndarray) -> np.ndarray:
    """The page's ink: pixels darker than half-way between black and its paper."""
    return page < gp.paper_level(page) / 2


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two ink masks (1.0: the same ink in the same places)."""
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else 1.0


def flatten_page(page: np.ndarray) -> np.ndarray:
    return flattened([page], gp.paper_level(page))[0][0]


def curled_table(pages: Pages, depths: tuple[float, ...], ocr: bool) -> dict:
    rows = []
    for name, page in pages:
        flat_ink = ink(page)
        flat_words = words(page) if ocr and name.startswith(OCR_PAGES) else None
        for depth in depths:
            curled = gp.curled(page, depth)
            out = flatten_page(curled)
            row = {"page": name, "depth": depth, "acted": out is not curled,
                   "overlap_before": overlap(flat_ink, ink(curled)), "overlap_after": overlap(flat_ink, ink(out))}
            if flat_words is not None:
                row["recall_before"] = recall(flat_words, words(curled))
                row["recall_after"] = recall(flat_words, words(out))
            rows.append(row)
            print(f"curled {name} by {depth}: overlap {row['overlap_before']:.3f} -> {row['overlap_after']:.3f}",
                  flush=True)
    summary = {}
    for depth in depths:
        chosen = [row for row in rows if row["depth"] == depth]
        read = [row for row in chosen if row.get("recall_before") is not None]
        summary[str(depth)] = {
            "pages": len(chosen), "acted": sum(row["acted"] for row in chosen),
            "overlap_before": median(row["overlap_before"] for row in chosen),
            "overlap_after": median(row["overlap_after"] for row in chosen),
            "worse": sum(row["overlap_after"] < row["overlap_before"] - 0.01 for row in chosen),
            "recall_before": median(row["recall_before"] for row in read) if read else None,
            "recall_after": median(row["recall_after"] for row in read) if read else None,
            "read": len(read)}
    return {"rows": rows, "summary": summary}


def real_table(pages: Pages) -> dict:
    rows = []
    for name, scan in pages:
        for index, page in enumerate(apply_pages(scan, find_geometry(scan))):
            bend = find_bend(page)
            after = find_bend(flatten_page(page)) if bend is not None else None
            rows.append({"page": f"{name}#{index + 1}", "lines": bend.lines if bend else 0,
                         "bend_before": bend.largest if bend else 0.0, "bend_after": after.largest if after else 0.0})
    return {"rows": rows, "flattened": sum(row["bend_before"] > 0 for row in rows),
            "median_before": median(row["bend_before"] for row in rows),
            "median_after": median(row["bend_after"] for row in rows)}


def timing(page: np.ndarray, runs: int) -> dict:
    curled = gp.curled(gp.a4_turned(page, SMOKE_A4 if runs == 1 else A4, 0.0), 0.02)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        flatten_page(curled)
        seconds.append(time.perf_counter() - started)
    return {"seconds": median(seconds), "runs": runs, "size": list(curled.shape)}


def _f(value: Optional[float], digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(results: dict) -> str:
    lines = ["# Dewarping curled book pages (`--dewarp`)", "", f"Pages: {results['pages']}. "
             f"Machine: {results['machine']}; {results['seconds']:.0f} s.", "",
             "## 1. Pages curled by a known bend, flattened", "",
             "Depth: the bend at the spine, a share of the page's height. Ink overlap: intersection over union "
             "with the flat page's ink (1.000: every stroke where it was). Word recall: Tesseract's words against "
             "the flat page's, printed pages.", "",
             "| depth | pages | flattened | ink overlap before | after | pages worse | word recall before (%) "
             "| after (%) | pages read |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for depth, row in results["curled"]["summary"].items():
        lines.append(f"| {depth} | {row['pages']} | {row['acted']} | {_f(row['overlap_before'])} | "
                     f"{_f(row['overlap_after'])} | {row['worse']} | {_f(row['recall_before'], 1)} | "
                     f"{_f(row['recall_after'], 1)} | {row['read']} |")
    real = results["real"]
    lines += ["", "## 2. The real book scans, as the geometry stage makes them", "",
              f"{real['flattened']} of {len(real['rows'])} pages flattened; the largest bend the line fitter "
              f"finds (pixels of the page), median {real['median_before']:.1f} before, {real['median_after']:.1f} "
              "after (0: no bend it is sure of).", "", "| page | lines | bend before | after |",
              "| --- | ---: | ---: | ---: |"]
    lines += [f"| {row['page']} | {row['lines']} | {row['bend_before']:.1f} | {row['bend_after']:.1f} |"
              for row in real["rows"]]
    timed = results["time"]
    lines += ["", "## 3. Time", "", f"Finding and undoing the bend of a {timed['size'][1]} x {timed['size'][0]} "
              f"page: {timed['seconds']:.2f} s (median of {timed['runs']}).", ""]
    if "ocr_skipped" in results:
        lines += [results["ocr_skipped"], ""]
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=gp.DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--out", type=Path, default=None, help="folder for the results (default: benchmarks/results)")
    parser.add_argument("--skip-ocr", action="store_true", help="leave out Tesseract's word recall")
    parser.add_argument("--smoke", action="store_true", help="seconds, on a page of each kind")
    args = parser.parse_args(argv)
    out, started, smoke = results_folder(args.out, args.smoke), time.perf_counter(), args.smoke
    straight = gp.straight_pages(args.data, smoke=smoke)
    real = gp.real_scans(args.data)
    real = [min(real, key=lambda item: item[1].size)] if smoke else real
    ocr = not args.skip_ocr and shutil.which("tesseract") is not None
    results: dict = {"curled": curled_table(straight, SMOKE_DEPTHS if smoke else DEPTHS, ocr),
                     "real": real_table(real), "time": timing(straight[0][1], 1 if smoke else TIMING_RUNS)}
    if not ocr:
        results["ocr_skipped"] = "Tesseract is not on PATH (or --skip-ocr): word recall not measured."
    results["pages"] = f"{len(straight)} straight pages, {len(real)} real scans"
    results["machine"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    results["seconds"] = time.perf_counter() - started
    save_results("dewarp", results, markdown(results), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
