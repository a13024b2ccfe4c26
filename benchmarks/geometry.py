"""Page geometry (engine.geometry): deskew, which way is up and the crop, on real pages spoilt in known ways.

    python benchmarks/geometry.py [--data DIR] [--out DIR] [--skip-ocr] [--smoke]

Real pages (benchmarks/geometry_pages.py) turned, laid on a scanner bed or photographed, with seeded
randomness, so every right answer is known.  1. Deskew: straight pages turned anticlockwise by each of
ANGLES (rotate "0", crop off, no split); the engine reports as ``skew`` the tilt it undid (anticlockwise
positive), so a page turned by a should give its untouched skew plus a; a sign check applies one and
measures again.  2. Blank sheets and the real scans' photographs, all automatic: none may be turned,
straightened, cropped or split.  3. Orientation: straight pages and real scans turned clockwise by k
quarter turns (crop off, no split): right when ``turns == (4 - k) % 4``.  4. Scanner bed: corner error,
the original's ink kept (ink_kept) and bed left in the output (dark_border).  5. Photographed: corner
error and Tesseract's word recall (words) of the output against the flat page's.  6. Time on an A4 page
at 300 dpi turned 2°.  8. Around the paper: what is cleared on real phone photos of open books, and the
true ink cleared on the DIBCO pages.  Every page here is a single page, so a split counts against the engine.
Writes benchmarks/results/geometry.md and .json (or into ``--out``).  ``--smoke`` runs every table in
seconds on one page of each kind, into a temporary folder unless ``--out`` says where; its figures mean
nothing.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import anchors, geometry_pages as gp  # noqa: E402
from benchmarks.results_files import results_folder, save_results  # noqa: E402
from engine.cleaning.pictures import picture_cells  # noqa: E402
from engine.geometry import GeometryOptions, PageGeometry, apply_geometry, apply_pages, find_geometry  # noqa: E402

ANGLES = (-15.0, -10.0, -7.0, -4.5, -2.0, -0.8, 0.3, 1.1, 3.0, 6.0, 9.5, 12.0, 15.0)  # degrees, anticlockwise
SMOKE_ANGLES = (-4.5, 3.0)
TARGET_MEDIAN, TARGET_WORST = 0.1, 0.3  # degrees of deskew residual
TARGET_ORIENTATION, TARGET_INK, TARGET_RECALL, TARGET_SECONDS = 99.0, 0.99, 90.0, 0.25
INK, DARK_BED, STRIP = 0.5, 0.25, 0.01  # shares of white; STRIP: border strip width as a share of the size
BLANK_PAGES = 6
OCR_PAGES = ("noisyoffice/", "dibco/DIBCO2017_H17", "dibco/DIBCO2017_H19", "dibco/DIBCO2017_H20",
             "dibco/Nabuco_H06", "dibco/Nabuco_H13", "dibco/Nabuco_H14")  # printed in Latin letters Tesseract reads
A4, SMOKE_A4 = (3508, 2480), (516, 720)  # (height, width) in pixels: A4 at 300 dpi, and a smoke run's page
# A printed page (the letters tell which way is up) and a handwritten one (Tesseract is asked).
TIMED_PAGES, TIMING_RUNS = {"print": "noisyoffice", "handwriting": "dibco/Nabuco_H13"}, 5
UNSURE = ("left as scanned", "unclear", "unsure", "not sure")  # words of a note saying the page was left as it was
SEED = 2024

Pages = list[tuple[str, np.ndarray]]


def options(**chosen: object) -> GeometryOptions:
    """GeometryOptions with ``chosen`` and no splitting: one step measured alone."""
    chosen.setdefault("split", "off")
    return GeometryOptions(**chosen)


def automatic(page: np.ndarray) -> PageGeometry:
    """The geometry the command line finds by default: every step automatic, the picture finder at hand."""
    return find_geometry(page, GeometryOptions(), pictures=lambda: picture_cells(page))


def alone(page: np.ndarray, **chosen: object) -> PageGeometry:
    """The geometry of the steps ``chosen`` leaves on, as the batch finds it (the picture finder at hand)."""
    return find_geometry(page, options(**chosen), pictures=lambda: picture_cells(page))


def outputs(pixels: np.ndarray, geometry: PageGeometry) -> list[np.ndarray]:
    """The pages the engine makes of ``pixels``: one, or two where it took the page for a spread."""
    return apply_pages(pixels, geometry)


def _share(flags: list[bool]) -> float:
    return 100.0 * float(np.mean(flags)) if flags else float("nan")


def _by_family(rows: list[dict], summary: Callable[[list[dict]], dict]) -> dict:
    """``summary(rows)`` for each page family and for all rows ("all")."""
    families = sorted({gp.family(row["page"]) for row in rows})
    return {**{f: summary([r for r in rows if gp.family(r["page"]) == f]) for f in families}, "all": summary(rows)}


def sign_check(page: np.ndarray, angle: float = 5.0) -> dict:
    """The page turned by ``angle``, straightened by the engine and measured again: the tilt left (degrees)."""
    tilted = gp.turned(page, angle)
    geometry = alone(tilted, rotate="0", crop="off")
    again = alone(apply_geometry(tilted, geometry), rotate="0", crop="off").skew
    return {"turned": angle, "reported": geometry.skew, "left_after_apply": again,
            "straightened": abs(again) <= 1.0 and abs(geometry.skew) > 1.0}


def deskew_table(pages: Pages, angles: tuple[float, ...]) -> dict:
    """Residual skew (degrees) of every page turned by every angle (module docstring, table 1)."""
    rows = []
    for name, page in pages:
        own = alone(page, rotate="0", crop="off").skew
        for index, angle in enumerate(angles):
            found = alone(gp.turned(page, angle, seed=index), rotate="0", crop="off").skew
            rows.append({"page": name, "angle": angle, "own": own, "found": found,
                         "residual": abs(found - (own + angle))})
        print(f"deskew  {name}: worst {max(r['residual'] for r in rows if r['page'] == name):.2f}°", flush=True)

    def summary(chosen: list[dict]) -> dict:
        residuals = [r["residual"] for r in chosen]
        return {"pages": len({r["page"] for r in chosen}), "cases": len(chosen),
                "median": float(np.median(residuals)), "worst": float(np.max(residuals)),
                "within_0.1": _share([v <= 0.1 for v in residuals]), "within_0.3": _share([v <= 0.3 for v in residuals]),
                "not_straightened": sum(r["found"] == 0.0 and abs(r["own"] + r["angle"]) >= 0.1 for r in chosen)}
    return {"angles": list(angles), "sign_check": sign_check(pages[0][1]), "summary": _by_family(rows, summary),
            "worst_cases": sorted(rows, key=lambda r: -r["residual"])[:10], "rows": rows}


def never_turned_table(pages: Pages) -> dict:
    """Pages that must stay as they are (blank sheets, photographs), all steps automatic: what was done."""
    rows = []
    for name, page in pages:
        geometry = automatic(page)
        made = outputs(page, geometry)
        rows.append({"page": name, "turns": geometry.turns, "skew": geometry.skew, "split": len(made) > 1,
                     "cropped": geometry.corners is not None or made[0].shape != page.shape,
                     "changed": bool(geometry.changed), "notes": list(geometry.notes)})

    def summary(chosen: list[dict]) -> dict:
        return {"pages": len(chosen), "turned": sum(r["turns"] != 0 for r in chosen),
                "deskewed": sum(r["skew"] != 0.0 for r in chosen), "cropped": sum(r["cropped"] for r in chosen),
                "split": sum(r["split"] for r in chosen), "changed": sum(r["changed"] for r in chosen)}
    return {"summary": _by_family(rows, summary), "rows": rows}


def orientation_table(pages: Pages, turns: tuple[int, ...]) -> dict:
    """Quarter turns found for every page turned clockwise by each of ``turns`` (crop off, no split)."""
    rows = []
    for name, page in pages:
        for k in turns:
            geometry = alone(gp.quarter_turned(page, k), crop="off")
            rows.append({"page": name, "k": k, "turns": geometry.turns, "right": geometry.turns == (4 - k) % 4,
                         "unsure": any(word in note.lower() for note in geometry.notes for word in UNSURE),
                         "notes": list(geometry.notes)})
        mine = [r for r in rows if r["page"] == name]
        print(f"orientation  {name}: right {sum(r['right'] for r in mine)}/{len(mine)}", flush=True)

    def summary(chosen: list[dict]) -> dict:
        return {"pages": len({r["page"] for r in chosen}), "cases": len(chosen),
                "right": _share([r["right"] for r in chosen]), "unsure": sum(r["unsure"] for r in chosen),
                "wrong": sum(not r["right"] and not r["unsure"] for r in chosen)}
    return {"summary": _by_family(rows, summary), "misses": [r for r in rows if not r["right"]]}


def corner_errors(found: Optional[np.ndarray], truth: np.ndarray) -> Optional[list[float]]:
    """Distances (px) between found and true corners, corner by corner; None when none were found."""
    return None if found is None else [float(d) for d in np.hypot(*(np.asarray(found, float) - truth).T)]


def ink_kept(page: np.ndarray, scan: np.ndarray, corners: np.ndarray, out: np.ndarray,
             source: np.ndarray) -> tuple[float, float]:
    """Shares of the page's ink that the output keeps: inside its frame, and still ink there.

    Each ink pixel of the original page (darker than INK of white) is followed into the scan through its
    known placement and on into the output through ``source`` (the matrix from output to scan pixels).  It
    counts only where the scan still shows ink within 1 px (the scanner's blur thins faint strokes before the
    engine sees them); it is kept where it lands in the output's frame, still ink where the output is ink
    within 1 px.  Following pixels rather than counting them keeps resampling from passing for lost ink.
    """
    ys, xs = np.nonzero(page < INK * 255)
    to_scan = gp.page_matrix(page, corners)
    points = np.stack([xs, ys], 1).astype(np.float64)
    in_scan = gp.moved(points, to_scan).round().astype(int)
    counted = cv2.erode(scan, np.ones((3, 3), np.uint8))[in_scan[:, 1], in_scan[:, 0]] < INK * 255
    landed = gp.moved(points[counted], np.linalg.inv(source) @ to_scan).round().astype(int)
    if not len(landed):
        return 1.0, 1.0
    inside = ((landed[:, 0] >= 0) & (landed[:, 0] < out.shape[1]) & (landed[:, 1] >= 0) & (landed[:, 1] < out.shape[0]))
    still = np.zeros(len(landed), bool)
    still[inside] = cv2.erode(out, np.ones((3, 3), np.uint8))[landed[inside, 1], landed[inside, 0]] < INK * 255
    return float(inside.mean()), float(still.mean())


def dark_border(pixels: np.ndarray) -> float:
    """Share (%) of pixels darker than DARK_BED of white in the strips STRIP of the size wide along the edges."""
    height, width = pixels.shape
    across, down = max(1, round(STRIP * width)), max(1, round(STRIP * height))
    strips = [pixels[:down], pixels[-down:], pixels[down:-down, :across], pixels[down:-down, -across:]]
    return 100.0 * float(np.mean(np.concatenate([s.ravel() for s in strips]) < DARK_BED * 255))


def scanner_bed_table(pages: Pages) -> dict:
    """Corners, ink kept and leftover bed for every page laid on a scanner bed (all steps automatic)."""
    rows = []
    for index, (name, page) in enumerate(pages):
        scan, corners = gp.on_scanner_bed(page, np.random.default_rng(SEED + index))
        geometry = automatic(scan)
        made = outputs(scan, geometry)
        row = {"page": name, "corner_errors": corner_errors(geometry.corners, corners), "split": len(made) > 1,
               "turns": geometry.turns, "skew": geometry.skew, "page_size": list(page.shape[::-1]),
               "true_corners_ink_kept": ink_kept(page, scan, corners, gp.warped_back(scan, page, corners),
                                                 gp.page_matrix(page, corners))[1]}
        if len(made) == 1:
            source = geometry.source if geometry.changed else np.eye(3)
            row["ink_inside"], row["ink_kept"] = ink_kept(page, scan, corners, made[0], source)
            row.update(dark_border_out=dark_border(made[0]), dark_border_page=dark_border(page),
                       out_size=list(made[0].shape[::-1]))
        rows.append(row)
        print(f"scanner bed  {name}: corners {row['corner_errors'] is not None}, split {row['split']}, "
              f"ink kept {row.get('ink_kept', float('nan')):.4f}", flush=True)
    return {"summary": _by_family(rows, _corner_summary), "rows": rows}


def _corner_summary(chosen: list[dict]) -> dict:
    """Found share, mean and worst corner error, splits, and the mean (and least or most) of the rows' figures."""
    found = [r["corner_errors"] for r in chosen if r["corner_errors"] is not None]
    summary = {"pages": len(chosen), "found": _share([r["corner_errors"] is not None for r in chosen]),
               "mean_error": float(np.mean(found)) if found else float("nan"),
               "worst_error": float(np.max(found)) if found else float("nan"), "split": sum(r["split"] for r in chosen)}
    for key in ("ink_inside", "ink_kept", "true_corners_ink_kept", "dark_border_out", "dark_border_page",
                "recall_photo", "recall_rectified", "recall_true_corners"):
        values = [r[key] for r in chosen if r.get(key) is not None]
        if values:
            low = not key.startswith("dark")
            summary[key] = float(np.mean(values))
            summary[key + ("_least" if low else "_most")] = float(np.min(values) if low else np.max(values))
    return summary


def words(page: np.ndarray) -> Counter:
    """Tesseract's words (``--psm 3``, its default English), lower-cased and alphanumeric only, on the page
    flattened first (benchmarks.anchors.median_division): uneven light, which the geometry stage does not
    claim to fix and DocClean's cleaning evens out after it, must not decide the figure."""
    flat = (anchors.median_division(page.astype(np.float32) / 255.0) * 255.0).round().astype(np.uint8)
    with tempfile.TemporaryDirectory(prefix="docclean-geometry-ocr-") as scratch:
        path = Path(scratch) / "page.png"
        cv2.imwrite(str(path), flat)
        done = subprocess.run(["tesseract", str(path), "-", "--psm", "3"], capture_output=True, text=True,
                              check=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return Counter(re.findall(r"[^\W_]+", done.stdout.lower()))


def recall(reference: Counter, read: Counter) -> Optional[float]:
    """Share (%) of the reference's words (as a multiset) that ``read`` has too; None without reference words."""
    total = sum(reference.values())
    return 100.0 * sum((reference & read).values()) / total if total else None


def photographed_table(pages: Pages, ocr: bool) -> dict:
    """Corners and, on the printed pages, Tesseract's word recall, for every page photographed on a table."""
    rows, to_read = [], []
    for index, (name, page) in enumerate(pages):
        photo, corners = gp.photographed(page, np.random.default_rng(SEED + 100 + index))
        geometry = automatic(photo)
        made = outputs(photo, geometry)
        rows.append({"page": name, "corner_errors": corner_errors(geometry.corners, corners), "split": len(made) > 1,
                     "turns": geometry.turns, "skew": geometry.skew, "out_sizes": [m.shape[::-1] for m in made]})
        if ocr and name.startswith(OCR_PAGES):
            to_read.append((rows[-1], [page, photo, gp.warped_back(photo, page, corners), *made]))
    # Tesseract runs single-threaded, so two pages at a time use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for row, images in to_read:
            flat, seen, truly, *straight = pool.map(words, images)
            row.update(flat_words=sum(flat.values()), recall_photo=recall(flat, seen),
                       recall_true_corners=recall(flat, truly), recall_rectified=recall(flat, sum(straight, Counter())))
            print(f"photographed  {row['page']}: word recall {row['recall_photo'] or 0:.1f} % as photographed, "
                  f"{row['recall_rectified'] or 0:.1f} % rectified", flush=True)
    return {"summary": _by_family(rows, _corner_summary), "ocr": ocr, "rows": rows}


def surroundings_table(data: Path, smoke: bool) -> dict:
    """What is cleared around the paper: on the real phone photos of open books (the share cleared, the dark
    border before and after), and on every DIBCO page (the share of its true ink that is cleared)."""
    photos = []
    for path in sorted((data / "realscans").glob("set0005-*.jpg"))[:1 if smoke else None]:
        photo = gp.read_grey(path)
        started = time.perf_counter()
        geometry = find_geometry(photo, pictures=lambda: picture_cells(photo))
        seconds = time.perf_counter() - started
        made = outputs(photo, geometry)
        around = geometry.surroundings
        photos.append({"page": path.name, "cleared": 100.0 * around.share if around else 0.0, "find": seconds,
                       "dark_border_photo": dark_border(photo),
                       "dark_border_out": float(np.mean([dark_border(page) for page in made]))})
        print(f"surroundings {path.name}: cleared {photos[-1]['cleared']:.1f} %, dark border "
              f"{photos[-1]['dark_border_photo']:.1f} -> {photos[-1]['dark_border_out']:.1f} %", flush=True)
    documents = []
    for path in sorted((data / "dibco" / "source").glob("*.png"))[:2 if smoke else None]:
        page = gp.read_grey(path)
        truth = gp.read_grey(data / "dibco" / "target" / path.name) < 128
        around = find_geometry(page, pictures=lambda: picture_cells(page)).surroundings
        if around is not None:
            cleared = around.drawn((page.shape[1], page.shape[0]), np.eye(3))
            documents.append({"page": path.name, "cleared": 100.0 * around.share,
                              "ink_cleared": 100.0 * float((truth & cleared).sum()) / max(1, int(truth.sum()))})
    pages = len(sorted((data / "dibco" / "source").glob("*.png"))[:2 if smoke else None])
    return {"photos": photos, "dibco": documents, "dibco_pages": pages}


def timing(page: np.ndarray, runs: int) -> dict:
    """Median seconds of find_geometry, of applying it and of both, over ``runs`` runs after one untimed."""
    automatic(page)
    finds, applies = [], []
    for _ in range(runs):
        start = time.perf_counter()
        geometry = automatic(page)
        finds.append(time.perf_counter() - start)
        outputs(page, geometry)
        applies.append(time.perf_counter() - start - finds[-1])
    return {"size": list(page.shape[::-1]), "runs": runs, "find": float(np.median(finds)), "skew": geometry.skew,
            "apply": float(np.median(applies)), "total": float(np.median(np.add(finds, applies)))}


def batch_table(straight: Pages, runs: int, size: tuple[int, int], folder: Path) -> dict:
    """Seconds per page of the product's batch (general model, float32, PNG) with the geometry off and on, on
    A4 pages turned 2°: a printed and a handwritten one, each ``runs`` times; both settings run in turn."""
    from engine.cleaning.batch import iter_denoise
    from engine.cleaning.denoiser import Denoiser
    from engine.options import BatchOptions
    from engine.vocabulary import RerunPolicy

    inputs = folder / "pages"
    inputs.mkdir(parents=True, exist_ok=True)
    for kind, wanted in TIMED_PAGES.items():
        _, page = next(((name, page) for name, page in straight if name.startswith(wanted)), straight[0])
        for copy in range(runs):
            cv2.imwrite(str(inputs / f"{kind}-{copy}.png"), gp.a4_turned(page, size))
    denoiser = Denoiser.from_file(None, precision="float32")
    seconds = {"off": [], "auto": []}
    for setting, geometry in [("off", GeometryOptions.off()), ("auto", GeometryOptions())] * 2:
        options = BatchOptions(existing=RerunPolicy.OVERWRITE, geometry=geometry)
        started = time.perf_counter()
        done = list(iter_denoise([inputs], folder / setting, denoiser, options))
        seconds[setting].append((time.perf_counter() - started) / len(done))
    off, auto = min(seconds["off"]), min(seconds["auto"])
    return {"pages": 2 * runs, "size": [size[1], size[0]], "off": off, "auto": auto, "added": auto - off}


def _f(value: Optional[float], digits: int = 2) -> str:
    return "-" if value is None or np.isnan(value) else f"{value:.{digits}f}"


def _rows(summary: dict, cells: Callable[[dict], list[str]]) -> list[str]:
    return [f"| {family} | " + " | ".join(cells(row)) + " |" for family, row in summary.items()]


def _header(*columns: str) -> list[str]:
    return ["| " + " | ".join(columns) + " |", "| --- |" + " ---: |" * (len(columns) - 1)]


def markdown(results: dict) -> str:
    """The results as markdown: one section per table, each target beside its figure."""
    deskew, check = results["deskew"], results["deskew"]["sign_check"]
    lines = ["# Page geometry (engine.geometry)", "", f"Pages: {results['pages']}.", "",
             f"## 1. Deskew residual, degrees (turned by {', '.join(f'{a:g}' for a in deskew['angles'])}; "
             "rotate 0, crop off)", "",
             f"Residual: |skew found - (untouched page's skew + turn)|. Sign check: turned {check['turned']:g}°, "
             f"reported {check['reported']:.2f}°, {check['left_after_apply']:.2f}° left after applying "
             f"({'straightened' if check['straightened'] else 'NOT straightened'}).", "",
             *_header("family", "pages", "cases", f"median (target <= {TARGET_MEDIAN})",
                      f"worst (target <= {TARGET_WORST})", "within 0.1°", "within 0.3°", "left unstraightened")]
    lines += _rows(deskew["summary"], lambda r: [str(r["pages"]), str(r["cases"]), _f(r["median"], 3), _f(r["worst"], 3),
                                                 _f(r["within_0.1"], 1) + " %", _f(r["within_0.3"], 1) + " %",
                                                 str(r["not_straightened"])])
    lines += ["", "Worst: " + "; ".join(f"{r['page']} turned {r['angle']:g}°, found {r['found']:.2f}° (own "
                                        f"{r['own']:.2f}°)" for r in deskew["worst_cases"][:5]), "",
              "## 2. Pages that must stay as they are (all automatic; target 0 everywhere)", "",
              *_header("kind", "pages", "turned", "deskewed", "cropped", "split", "changed at all")]
    lines += _rows(results["never_turned"]["summary"],
                   lambda r: [str(r[k]) for k in ("pages", "turned", "deskewed", "cropped", "split", "changed")])
    for key, title in (("orientation", "straight pages"), ("orientation_real", "real scans (Russian print)")):
        table = results[key]
        lines += ["", f"## 3. Orientation, {title}, turned clockwise by k quarter turns (crop off)", "",
                  *_header("family", "pages", "cases", f"right turns (target >= {TARGET_ORIENTATION:g} %)",
                           "left unsure (noted)", "wrong")]
        lines += _rows(table["summary"], lambda r: [str(r["pages"]), str(r["cases"]), _f(r["right"], 1) + " %",
                                                    str(r["unsure"]), str(r["wrong"])])
        if table["misses"]:
            lines += ["", "Missed: " + "; ".join(f"{r['page']} k={r['k']}: turns {r['turns']}"
                                                 + (" (noted)" if r["unsure"] else "") for r in table["misses"])]
    lines += ["", "## 4. Page on a scanner bed (turned up to ±3°, bed margins 3-10 %; all automatic)", "",
              f"Ink: the original's pixels darker than {INK} of white that the scan still shows as ink, followed "
              "through the transform: inside the output's frame, and still ink there (within 1 px); beside it, "
              "the same for a bilinear warp with the true corners. Dark border: output pixels darker than "
              f"{DARK_BED} of white in a {STRIP:.0%} strip along the edges (the original page's own beside it).", "",
              *_header("family", "pages", "corners found", "mean corner error (px)", "worst (px)", "split",
                       "ink inside", f"ink kept (target >= {TARGET_INK})", "least ink kept",
                       "ink kept, true corners", "dark border out (%)", "page's own (%)")]
    lines += _rows(results["scanner_bed"]["summary"], lambda r: [
        str(r["pages"]), _f(r["found"], 0) + " %", _f(r["mean_error"]), _f(r["worst_error"]), str(r["split"]),
        _f(r.get("ink_inside"), 4), _f(r.get("ink_kept"), 4), _f(r.get("ink_kept_least"), 4),
        _f(r.get("true_corners_ink_kept"), 4), _f(r.get("dark_border_out")), _f(r.get("dark_border_page"))])
    photo = results["photographed"]
    lines += ["", "## 5. Photographed page (camera tilt up to ~25°, table, uneven light, JPEG 85; all automatic)", "",
              results.get("ocr_skipped", "Word recall (%): Tesseract's words (--psm 3, each image flattened by "
                          "median-background division first) against its words on the flat page, printed pages "
                          f"only; target >= {TARGET_RECALL:g} % rectified. True corners: the photo warped back "
                          "with the true corners, what a perfect geometry stage gives."), "",
              *_header("family", "pages", "corners found", "mean corner error (px)", "worst (px)", "split",
                       "recall as photographed", "recall rectified", "least rectified", "recall, true corners")]
    lines += _rows(photo["summary"], lambda r: [
        str(r["pages"]), _f(r["found"], 0) + " %", _f(r["mean_error"]), _f(r["worst_error"]), str(r["split"]),
        _f(r.get("recall_photo"), 1), _f(r.get("recall_rectified"), 1), _f(r.get("recall_rectified_least"), 1),
        _f(r.get("recall_true_corners"), 1)])
    first = next(iter(results["time"].values()))
    lines += ["", f"## 6. Time, {first['size'][0]} x {first['size'][1]} page turned 2° (median of {first['runs']})", "",
              *_header("page", "find_geometry (s)", "apply_pages (s)", f"both (s; target <= {TARGET_SECONDS})")]
    lines += [f"| {kind} ({speed['page']}) | {speed['find']:.3f} | {speed['apply']:.3f} | {speed['total']:.3f} |"
              for kind, speed in results["time"].items()]
    batch = results["batch"]
    lines += ["", f"## 7. The batch, {batch['pages']} pages of {batch['size'][0]} x {batch['size'][1]} (half printed, "
              "half handwritten, turned 2°): general model, float32, PNG; the faster of two passes each", "",
              "The reader thread prepares the next page (geometry included, Tesseract as a separate process) while "
              "the model cleans the page before, so the geometry's time is mostly hidden.", "",
              *_header("geometry off (s/page)", "geometry auto (s/page)", f"added (s/page; target <= {TARGET_SECONDS})"),
              f"| {batch['off']:.2f} | {batch['auto']:.2f} | {batch['added']:.2f} |"]
    around = results["surroundings"]
    lines += ["", "## 8. Around the paper: phone photos of open books (realscans/set0005-*; all automatic)", "",
              "An open book's paper has curved edges and the facing page beside it: no four corners. What around "
              "it is dark, broad, joined to the border, free of text and no picture is made paper "
              "(engine.geometry.surroundings). Dark border as in section 4.", "",
              *_header("photo", "cleared (% of the image)", "dark border, photo (%)", "dark border, out (%)",
                       "find_geometry (s)")]
    lines += [f"| {r['page']} | {r['cleared']:.1f} | {r['dark_border_photo']:.1f} | {r['dark_border_out']:.1f} | "
              f"{r['find']:.2f} |" for r in around["photos"]]
    worst = max((r["ink_cleared"] for r in around["dibco"]), default=0.0)
    lines += ["", f"DIBCO (true ink known): something cleared on {len(around['dibco'])} of {around['dibco_pages']} "
              f"pages (their scanner bed or book edge); true ink cleared: worst {worst:.4f} % of a page's ink.", "",
              "Whole run: " + f"{results['seconds']:.0f} s. Machine: {results['machine']}"]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=gp.DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--out", type=Path, default=None, help="folder for the results (default: benchmarks/results)")
    parser.add_argument("--skip-ocr", action="store_true", help="leave out Tesseract's word recall")
    parser.add_argument("--smoke", action="store_true",
                        help="every table in seconds on one page of each kind, into a temporary folder unless --out")
    args = parser.parse_args(argv)
    out, started, smoke = results_folder(args.out, args.smoke), time.perf_counter(), args.smoke
    straight = gp.straight_pages(args.data, smoke=smoke)
    rng = np.random.default_rng(SEED)
    blanks = [(f"blank/{i}", gp.blank_page(rng, (400, 300) if smoke else None)) for i in range(BLANK_PAGES)]
    blanks, pictures = blanks[:1 if smoke else None], gp.picture_pages(args.data)[:1 if smoke else None]
    real = gp.real_scans(args.data)
    real = [min(real, key=lambda item: item[1].size)] if smoke else real
    ocr = not args.skip_ocr and shutil.which("tesseract") is not None
    results: dict = {"smoke": smoke, "deskew": deskew_table(straight, SMOKE_ANGLES if smoke else ANGLES),
                     "never_turned": never_turned_table(blanks + pictures),
                     "orientation": orientation_table(straight, (0, 1) if smoke else (0, 1, 2, 3)),
                     "orientation_real": orientation_table(real, (0, 1) if smoke else (0, 1, 2, 3)),
                     "scanner_bed": scanner_bed_table(straight)}
    if not ocr:
        results["ocr_skipped"] = ("Tesseract is not on PATH (or --skip-ocr): word recall not measured "
                                  "(install it with: apt-get install -y tesseract-ocr tesseract-ocr-eng).")
        print(results["ocr_skipped"], flush=True)
    results["photographed"] = photographed_table(straight, ocr)
    results["surroundings"] = surroundings_table(args.data, smoke)
    results["time"] = {}
    for kind, wanted in TIMED_PAGES.items():
        name, timed = next(((name, page) for name, page in straight if name.startswith(wanted)), straight[0])
        results["time"][kind] = {"page": name, **timing(gp.a4_turned(timed, SMOKE_A4 if smoke else A4),
                                                        1 if smoke else TIMING_RUNS)}
    with tempfile.TemporaryDirectory(prefix="docclean-geometry-batch-") as folder:
        results["batch"] = batch_table(straight, 1 if smoke else 3, SMOKE_A4 if smoke else A4, Path(folder))
    families = Counter(gp.family(name) for name, _ in straight)
    results["pages"] = (f"{len(straight)} straight ({', '.join(f'{n} {f}' for f, n in families.items())}), "
                        f"{len(blanks)} blank, {len(pictures)} photographs, {len(real)} real scans")
    results["machine"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    results["seconds"] = time.perf_counter() - started
    save_results("geometry", results, markdown(results), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
