"""DocClean on real documents: DIBCO with ground truth, book scans and phone photos without.

    python benchmarks/real_scans.py [--data DIR] [--general PATH] [--fast PATH] [--noisyoffice PATH] [--ink PATH]
                                    [--sets 2016,2017,2018]
                                    [--skip-speed] [--skip-ocr] [--skip-pictures] [--only TABLES]
                                    [--out DIR] [--smoke]

* DIBCO (``DIR/dibco``): for each reported year, every method's output is
  binarised at Otsu's threshold and scored with the DIBCO metrics, averaged
  over the year's pages: F-measure, pseudo F-measure, PSNR and DRD.  The
  general model never trained on these years (resources/recipes/general.toml),
  nor did the ink model of ``--mode bw`` (resources/recipes/ink.toml).
* Real scans (``DIR/realscans``): share of the input's clear ink (engine.cleaning.ink)
  still ink in the output, and the mean paper level before and after.
* Speed: read + clean + write of A4 pages at 300 dpi, as a ratio to OpenCV's
  NL-means timed in the same run (float32 unless the CPU has native bfloat16).
* OCR (``DIR/noisyoffice``, the held-out documents of ``split_by_document(pairs,
  0.2, seed=0)``): Tesseract's character error rate (%, edit distance over the
  reference's length, whitespace normalised) per noise kind, for every method.
  The reference text is Tesseract's own reading of the clean ground-truth page,
  so the figure is what the noise (or the cleaning) costs the OCR, not the OCR's
  own errors.  Tesseract runs as its binary, ``-l eng --psm 6``, one page at a
  time, nothing upscaled (benchmarks/ocr.py says why); the noise kind of each
  pair is found from its pixels (benchmarks.ocr.noise_kinds).  Skipped, with one
  sentence saying how to install it, where Tesseract is not installed.
* Pictures (the half-tone photographs of five book scans, boxes drawn by eye in
  benchmarks/picture_boxes.json): inside each box, after a 4x area downscale of
  the input and the output (so that half-tone dots count as the tone they
  print), the Pearson correlation of output with input and the share of pixels
  with mid-tones (grey between 0.15 and 0.85) in the output and in the input.

Writes benchmarks/results/real_scans.md and .json and prints the tables.
``--smoke`` runs every step in seconds (the smallest page of the first set, the
middle of the smallest real scan, two NoisyOffice pairs, one small page timed once, the deep
anchor trained for two steps) into a temporary folder unless ``--out`` says
where: it checks that the benchmark still runs, its figures mean nothing.
The smoke run's OCR reads one NoisyOffice pair and its pictures table the
smallest photograph, cut out with a small margin.  ``--only ocr,pictures`` runs
just the tables named (of dibco, realscans, noisyoffice_rmse, speed, ocr, pictures).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator, Optional

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import anchors, deep_anchor, ocr  # noqa: E402
from benchmarks.results_files import results_folder, save_results  # noqa: E402
from benchmarks.speed import A4_AT_300_DPI, SMOKE_PAGE, make_a4_pages, seconds_per_megapixel  # noqa: E402
from engine.io import find_images, read_page, to_unit, write_page  # noqa: E402
from engine.cleaning import binarize  # noqa: E402
from engine.evaluation.scoring import evaluate, evaluate_ink  # noqa: E402
from engine.data.pairs import find_pairs, load_pair, split_by_document  # noqa: E402

DEFAULT_DATA = PROJECT.parent / "shared" / "data"
MODELS = PROJECT / "resources" / "models"
DEFAULT_SETS = ("DIBCO2016", "DIBCO2017", "DIBCO2018")
SMOKE_PAIRS = 2  # NoisyOffice pairs a smoke run scores
SMOKE_SIDE = 800  # pixels of the real scan a smoke run checks
SMOKE_OCR_PAIRS = 1  # NoisyOffice pairs a smoke run reads with Tesseract
SMOKE_MARGIN = 64  # pixels of page kept around the photograph a smoke run cleans
PICTURE_BOXES = Path(__file__).resolve().parent / "picture_boxes.json"
TONE_DOWNSCALE = 4  # area downscale before the picture figures: a half-tone dot becomes its tone
MID_TONES = (0.15, 0.85)  # grey levels counted as mid-tones
TARGET_CORRELATION, TARGET_MID_TONES = 0.9, 50.0
TABLES = ("dibco", "realscans", "noisyoffice_rmse", "speed", "ocr", "pictures")

Clean = Callable[[np.ndarray], np.ndarray]


def sauvola(page: np.ndarray) -> np.ndarray:
    """Sauvola's binarisation (window 31, k 0.2) as a black-and-white page."""
    return np.where(binarize.sauvola(page), 0.0, 1.0).astype(np.float32)


def _float(page: np.ndarray) -> np.ndarray:
    return to_unit(page)


def model_cleaner(path: Optional[Path], keep_ink: bool, mode: str = "grey") -> Clean:
    from engine.cleaning.denoiser import Denoiser
    from engine.cleaning.page import clean_page

    denoiser = Denoiser.from_file(path, precision="float32")
    return lambda page: clean_page(denoiser, page, mode, keep_ink=keep_ink).pixels


def methods(args: argparse.Namespace) -> dict[str, Clean]:
    deep = deep_anchor.trained_model_path(args.data / "noisyoffice", args.out / "cache",
                                          **(deep_anchor.SMOKE_TRAINING if args.smoke else {}))
    return {
        "input page binarised at Otsu": lambda page: _float(page),
        "Sauvola (31 px, k 0.2)": lambda page: sauvola(page),
        "median-background division (21 px)": lambda page: anchors.median_division(_float(page)),
        "seeds' deep conv AE (NoisyOffice, 10 epochs)": model_cleaner(deep, keep_ink=False),
        "NoisyOffice model (docclean-noisyoffice)": model_cleaner(args.noisyoffice, keep_ink=False),
        "general model, model alone": model_cleaner(args.general, keep_ink=False),
        "general model + ink kept (default)": model_cleaner(args.general, keep_ink=True),
        "fast model + ink kept (--model fast)": model_cleaner(args.fast, keep_ink=True),
        "--mode bw (ink model + ink kept)": model_cleaner(args.ink, keep_ink=True, mode="bw"),
    }


def _smallest(paths: list[Path]) -> Path:
    return min(paths, key=lambda path: path.stat().st_size)


def dibco_table(cleaners: dict[str, Clean], folder: Path, sets: list[str], smoke: bool = False) -> dict:
    found = find_pairs(folder).pairs
    results: dict = {}
    for year in sets:
        chosen = [p for p in found if p.name.startswith(year + "_")]
        if not chosen:
            raise FileNotFoundError(f"{folder}: no pairs named {year}_*")
        if smoke:
            smallest = _smallest([p.noisy for p in chosen])
            chosen = [p for p in chosen if p.noisy == smallest]
        for name, clean in cleaners.items():
            report = evaluate(chosen, clean)
            results.setdefault(name, {})[year] = {**report.binary, "pages": report.pairs}
            print(f"{year}  {name}: F {report.binary['f_measure']:.2f}", flush=True)
    return results


def noisyoffice_rmse(cleaners: dict[str, Clean], folder: Path, limit: Optional[int] = None) -> dict:
    _, test = split_by_document(find_pairs(folder).pairs, 0.2, seed=0)
    return {name: evaluate(test[:limit], clean).rmse for name, clean in cleaners.items()}


def realscans_table(cleaners: dict[str, Clean], folder: Path, smoke: bool = False) -> dict:
    pages = find_images([folder])
    if not pages:
        raise FileNotFoundError(f"{folder}: no pages")
    results = {}
    with tempfile.TemporaryDirectory(prefix="docclean-realscans-") as scratch:
        if smoke:
            # The middle of the smallest scan (even that one is 7 MP): print, paper and its shading.
            page = read_page(_smallest(pages)).pixels
            top, left = max(0, page.shape[0] // 2 - SMOKE_SIDE // 2), max(0, page.shape[1] // 2 - SMOKE_SIDE // 2)
            pages = [write_page(page[top:top + SMOKE_SIDE, left:left + SMOKE_SIDE], Path(scratch) / "middle.png")]
        for name, clean in cleaners.items():
            scored = evaluate_ink(pages, clean)
            results[name] = {**scored.to_json_dict(),
                             "per_page": {row["name"]: row["ink_recall"] for row in scored.per_page}}
            print(f"real scans  {name}: ink kept {scored.recall:.4f}", flush=True)
    return results


def speed_ratios(cleaners: dict[str, Clean], noisyoffice: Path, smoke: bool = False) -> dict:
    _, test = split_by_document(find_pairs(noisyoffice).pairs, 0.2, seed=0)
    repeats = 1 if smoke else 2
    with tempfile.TemporaryDirectory(prefix="docclean-a4-") as scratch:
        pages = make_a4_pages(sorted({p.noisy for p in test}), Path(scratch), count=1,
                              size=SMOKE_PAGE if smoke else A4_AT_300_DPI)
        nl_means = seconds_per_megapixel(pages, anchors.nl_means, repeats=repeats)
        timed = {name: seconds_per_megapixel(pages, clean, repeats=repeats) for name, clean in cleaners.items()}
    return {"nl_means_s_per_mp": nl_means,
            **{name: {"s_per_mp": s, "ratio_to_nl_means": s / nl_means} for name, s in timed.items()}}


def mean_by_kind(values: dict[str, float], kinds: dict[str, str]) -> dict[str, float]:
    """The mean of ``values`` (by pair name) over the pairs of each noise kind, and over all as "all"."""
    groups: dict[str, list[float]] = {}
    for name, value in values.items():
        groups.setdefault(kinds[name], []).append(value)
    return {**{kind: float(np.mean(v)) for kind, v in sorted(groups.items())},
            "all": float(np.mean(list(values.values())))}


def ocr_table(cleaners: dict[str, Clean], folder: Path, limit: Optional[int] = None) -> dict:
    """Tesseract's CER (%) per noise kind on the held-out NoisyOffice pairs, for every cleaner.

    The reference is Tesseract's reading of each pair's clean ground truth.
    """
    pairs = find_pairs(folder).pairs
    test = split_by_document(pairs, 0.2, seed=0)[1][:limit]
    kinds = ocr.noise_kinds(test, pairs)
    pages = {pair.name: load_pair(pair) for pair in test}
    references = {name: ocr.read_text(clean) for name, (_, clean) in pages.items()}
    rates = {}
    for method, clean_fn in cleaners.items():
        per_pair = {name: ocr.cer(references[name], ocr.read_text(clean_fn(noisy)))
                    for name, (noisy, _) in pages.items()}
        rates[method] = mean_by_kind(per_pair, kinds)
        print(f"OCR  {method}: CER {rates[method]['all']:.2f} %", flush=True)
    counts = {kind: list(kinds.values()).count(kind) for kind in sorted(set(kinds.values()))}
    return {"psm": ocr.PAGE_SEGMENTATION, "pairs_per_kind": counts, "cer": rates}


Box = tuple[int, int, int, int]  # left, top, right (exclusive), bottom (exclusive), full-resolution pixels


def picture_boxes(path: Path = PICTURE_BOXES) -> dict[str, list[Box]]:
    """The photographs' boxes by page file name, as benchmarks/picture_boxes.json gives them."""
    boxes = json.loads(path.read_text(encoding="utf-8"))["boxes"]
    return {page: [tuple(box) for box in page_boxes] for page, page_boxes in boxes.items()}


def tones(pixels: np.ndarray) -> np.ndarray:
    """The grey pixels area-averaged over TONE_DOWNSCALE x TONE_DOWNSCALE blocks (half-tone dots become tones)."""
    height, width = pixels.shape[0] // TONE_DOWNSCALE, pixels.shape[1] // TONE_DOWNSCALE
    return cv2.resize(pixels.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)


def tone_correlation(before: np.ndarray, after: np.ndarray) -> float:
    """Pearson correlation of two tone images; 0 where either is flat (a flat output keeps no tone)."""
    if before.std() == 0 or after.std() == 0:
        return 0.0
    return float(np.corrcoef(before.ravel(), after.ravel())[0, 1])


def mid_tone_share(tone: np.ndarray) -> float:
    """Share (%) of a tone image's pixels between the MID_TONES grey levels."""
    low, high = MID_TONES
    return 100.0 * float(np.mean((tone >= low) & (tone <= high)))


def picture_scores(before: np.ndarray, after: np.ndarray) -> dict[str, float]:
    """Tone correlation and mid-tone shares of one photograph's box, before and after cleaning."""
    before, after = tones(before), tones(after)
    return {"correlation": tone_correlation(before, after), "mid_tones_kept": mid_tone_share(after),
            "input_mid_tones": mid_tone_share(before)}


def summarise_pictures(per_box: dict[str, dict[str, float]]) -> dict:
    """One cleaner's row of the pictures table: mean and least correlation, mean mid-tone shares."""
    rows = list(per_box.values())
    correlations = [row["correlation"] for row in rows]
    return {"mean_correlation": float(np.mean(correlations)), "min_correlation": float(np.min(correlations)),
            "mid_tones_kept": float(np.mean([row["mid_tones_kept"] for row in rows])),
            "input_mid_tones": float(np.mean([row["input_mid_tones"] for row in rows])), "per_box": per_box}


def smoke_picture(folder: Path, boxes: dict[str, list[Box]]) -> tuple[str, np.ndarray, list[Box]]:
    """The smallest photograph with SMOKE_MARGIN pixels of page around it: page name, pixels, box in the cut-out."""
    page, (left, top, right, bottom) = min(((page, box) for page, page_boxes in boxes.items() for box in page_boxes),
                                           key=lambda item: (item[1][2] - item[1][0]) * (item[1][3] - item[1][1]))
    x0, y0 = max(0, left - SMOKE_MARGIN), max(0, top - SMOKE_MARGIN)
    pixels = read_page(folder / page).pixels[y0:bottom + SMOKE_MARGIN, x0:right + SMOKE_MARGIN]
    return page, pixels, [(left - x0, top - y0, right - x0, bottom - y0)]


def picture_pages(folder: Path, smoke: bool = False) -> Iterator[tuple[str, np.ndarray, list[Box]]]:
    """Each page with photographs, read when its turn comes: its name, grey pixels and boxes."""
    boxes = picture_boxes()
    if smoke:
        yield smoke_picture(folder, boxes)
        return
    for page, page_boxes in boxes.items():
        yield page, read_page(folder / page).pixels, page_boxes


def pictures_table(cleaners: dict[str, Clean], folder: Path, smoke: bool = False) -> dict:
    """Per cleaner, how the half-tone photographs' tones survive (see the module docstring)."""
    per_box: dict[str, dict[str, dict[str, float]]] = {name: {} for name in cleaners}
    for page_name, page, page_boxes in picture_pages(folder, smoke):
        for name, clean in cleaners.items():
            cleaned = clean(page)
            for index, (left, top, right, bottom) in enumerate(page_boxes):
                per_box[name][f"{page_name}#{index}"] = picture_scores(page[top:bottom, left:right],
                                                                       cleaned[top:bottom, left:right])
    results = {name: summarise_pictures(rows) for name, rows in per_box.items()}
    for name, row in results.items():
        print(f"pictures  {name}: correlation {row['mean_correlation']:.3f}, "
              f"mid-tones {row['mid_tones_kept']:.1f} %", flush=True)
    return results


def dibco_markdown(results: dict) -> list[str]:
    """The DIBCO section: the four metrics per reported year, one row per method."""
    lines = ["## DIBCO, binarised at Otsu (years never trained on)", ""]
    sets = results["sets"]
    header = "| method | " + " | ".join(f"{s} F / pF / PSNR / DRD" for s in sets) + " |"
    lines += [header, "| --- |" + " ---: |" * len(sets)]
    for name, per_set in results["dibco"].items():
        cells = [f"{v['f_measure']:.1f} / {v['pseudo_f_measure']:.1f} / {v['binary_psnr']:.2f} / {v['drd']:.2f}"
                 for v in (per_set[s] for s in sets)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines + [""]


def ocr_markdown(table: dict) -> list[str]:
    """The OCR section: CER per noise kind, one row per method."""
    kinds = list(table["pairs_per_kind"])
    counts = ", ".join(f"{kind} {count}" for kind, count in table["pairs_per_kind"].items())
    lines = ["## Tesseract on held-out NoisyOffice pages: character error rate, %", "",
             (f"Reference text: Tesseract's own reading of the clean ground-truth page. Tesseract "
             f"`-l eng --psm {table['psm']}`, one page at a time, nothing upscaled; pairs per noise kind: {counts}. "
             "The first method passes the page through unchanged (Otsu's threshold is applied only in the "
             "DIBCO scoring): its row is the noisy input itself."), "",
             "| method | " + " | ".join(kinds) + " | all |", "| --- |" + " ---: |" * (len(kinds) + 1)]
    for name, rates in table["cer"].items():
        lines.append(f"| {name} | " + " | ".join(f"{rates[k]:.2f}" for k in [*kinds, "all"]) + " |")
    return lines + [""]


def pictures_markdown(table: dict) -> list[str]:
    """The pictures section: tone correlation and mid-tones per method, with the targets."""
    boxes = len(next(iter(table.values()))["per_box"])
    low, high = MID_TONES
    lines = [f"## Half-tone photographs on book scans (photographs: {boxes}, boxes drawn by eye)", "",
             (f"Inside each photograph, after a {TONE_DOWNSCALE}x area downscale of input and output (so that "
             "half-tone dots count as the tone they print): Pearson correlation of output with input, and the "
             f"share of pixels between {low} and {high} (mid-tones). Targets: correlation >= {TARGET_CORRELATION}, "
             f"mid-tones kept >= {TARGET_MID_TONES:.0f} %. The first method passes the page through unchanged."), "",
             "| method | mean correlation | min correlation | mid-tones kept (mean %) | input's mid-tones (mean %) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {name} | {row['mean_correlation']:.3f} | {row['min_correlation']:.3f} | "
              f"{row['mid_tones_kept']:.1f} | {row['input_mid_tones']:.1f} |" for name, row in table.items()]
    return lines + [""]


def markdown(results: dict) -> str:
    """The results as markdown, one section per table computed."""
    lines = dibco_markdown(results) if results.get("dibco") else []
    if results.get("realscans"):
        lines += ["## Real book scans and phone photos (no ground truth)", "",
                  "| method | ink kept | paper before | paper after |", "| --- | ---: | ---: | ---: |"]
        for name, row in results["realscans"].items():
            lines.append(f"| {name} | {row['ink_recall']:.4f} | {row['paper_before']:.3f} | {row['paper_after']:.3f} |")
        lines.append("")
    if results.get("noisyoffice_rmse"):
        lines += ["## NoisyOffice held-out RMSE (36 pairs, 9 documents)", "", "| model | RMSE |", "| --- | ---: |"]
        lines += [f"| {name} | {value:.4f} |" for name, value in results["noisyoffice_rmse"].items()]
        lines.append("")
    if results.get("speed"):
        speed = results["speed"]
        lines += [f"## Speed, A4 at 300 dpi, read + clean + write (NL-means {speed['nl_means_s_per_mp']:.3f} s/MP)",
                  "", "| model | s/MP | x NL-means |", "| --- | ---: | ---: |"]
        lines += [f"| {name} | {v['s_per_mp']:.3f} | {v['ratio_to_nl_means']:.2f} |"
                  for name, v in speed.items() if isinstance(v, dict)]
        lines.append("")
    if results.get("ocr"):
        lines += ocr_markdown(results["ocr"])
    elif results.get("ocr_skipped"):
        lines += ["## Tesseract on held-out NoisyOffice pages", "", results["ocr_skipped"], ""]
    if results.get("pictures"):
        lines += pictures_markdown(results["pictures"])
    lines += [f"Machine: {results['machine']}"]
    return "\n".join(lines) + "\n"


def chosen_tables(args: argparse.Namespace) -> set[str]:
    """The tables to compute: those --only names (all by default), less those a --skip-* flag drops."""
    tables = set(args.only.split(",")) if args.only else set(TABLES)
    unknown = tables - set(TABLES)
    if unknown:
        raise SystemExit(f"--only: no table {', '.join(sorted(unknown))} (choose from {', '.join(TABLES)})")
    skipped = {"speed": args.skip_speed, "ocr": args.skip_ocr, "pictures": args.skip_pictures}
    return {table for table in tables if not skipped.get(table, False)}


def ocr_results(cleaners: dict[str, Clean], folder: Path, smoke: bool) -> dict:
    """{"ocr": the OCR table}, or, without Tesseract, {"ocr_skipped": how to install it} (printed)."""
    if not ocr.tesseract_available():
        print(ocr.INSTALL_HINT, flush=True)
        return {"ocr_skipped": ocr.INSTALL_HINT}
    return {"ocr": ocr_table(cleaners, folder, SMOKE_OCR_PAIRS if smoke else None)}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--general", type=Path, default=MODELS / "docclean-general.keras")
    parser.add_argument("--noisyoffice", type=Path, default=MODELS / "docclean-noisyoffice.keras")
    parser.add_argument("--fast", type=Path, default=MODELS / "docclean-fast.keras")
    parser.add_argument("--ink", type=Path, default=MODELS / "docclean-ink.keras",
                        help="the ink model black-and-white mode runs (default: the bundled one)")
    parser.add_argument("--sets", default=",".join(DEFAULT_SETS))
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-ocr", action="store_true", help="leave out the Tesseract table")
    parser.add_argument("--skip-pictures", action="store_true", help="leave out the half-tone photographs table")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated tables to run, of {','.join(TABLES)} (default: all)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the results (default: benchmarks/results)")
    parser.add_argument("--smoke", action="store_true",
                        help="run every step in seconds on a tiny input, into a temporary folder unless --out is given")
    args = parser.parse_args(argv)
    tables = chosen_tables(args)
    args.out = results_folder(args.out, args.smoke)
    cleaners = methods(args)
    sets = args.sets.split(",")[:1] if args.smoke else args.sets.split(",")
    models = {k: v for k, v in cleaners.items() if "model" in k or "AE" in k}
    results: dict = {"sets": sets}
    if "dibco" in tables:
        results["dibco"] = dibco_table(cleaners, args.data / "dibco", sets, args.smoke)
    if "realscans" in tables:
        results["realscans"] = realscans_table(cleaners, args.data / "realscans", args.smoke)
    if "noisyoffice_rmse" in tables:
        results["noisyoffice_rmse"] = noisyoffice_rmse(models, args.data / "noisyoffice",
                                                       SMOKE_PAIRS if args.smoke else None)
    results["machine"] = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                          f"ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', 'unset')}")
    if "speed" in tables:
        results["speed"] = speed_ratios({k: v for k, v in models.items() if "alone" not in k},
                                        args.data / "noisyoffice", args.smoke)
    if "ocr" in tables:
        results.update(ocr_results(cleaners, args.data / "noisyoffice", args.smoke))
    if "pictures" in tables:
        results["pictures"] = pictures_table(cleaners, args.data / "realscans", args.smoke)
    save_results("real_scans", results, markdown(results), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
