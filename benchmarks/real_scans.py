"""DocClean on real documents: DIBCO with ground truth, book scans and phone photos without.

    python benchmarks/real_scans.py [--data DIR] [--general PATH] [--noisyoffice PATH] [--sets 2016,2017,2018]
                                    [--skip-speed] [--out DIR] [--smoke]

* DIBCO (``DIR/dibco``): for each reported year, every method's output is
  binarised at Otsu's threshold and scored with the DIBCO metrics, averaged
  over the year's pages: F-measure, pseudo F-measure, PSNR and DRD.  The
  general model never trained on these years (resources/recipes/general.toml).
* Real scans (``DIR/realscans``): share of the input's clear ink (engine.cleaning.ink)
  still ink in the output, and the mean paper level before and after.
* Speed: read + clean + write of A4 pages at 300 dpi, as a ratio to OpenCV's
  NL-means timed in the same run (float32 unless the CPU has native bfloat16).

Writes benchmarks/results/real_scans.md and .json and prints the tables.
``--smoke`` runs every step in seconds (the smallest page of the first set, the
middle of the smallest real scan, two NoisyOffice pairs, one small page timed once, the deep
anchor trained for two steps) into a temporary folder unless ``--out`` says
where: it checks that the benchmark still runs, its figures mean nothing.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Callable, Optional

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks import anchors, deep_anchor  # noqa: E402
from benchmarks.results_files import results_folder, save_results  # noqa: E402
from benchmarks.speed import A4_AT_300_DPI, SMOKE_PAGE, make_a4_pages, seconds_per_megapixel  # noqa: E402
from engine.io import find_images, read_page, to_unit, write_page  # noqa: E402
from engine.cleaning import binarize  # noqa: E402
from engine.evaluation.scoring import evaluate, evaluate_ink  # noqa: E402
from engine.data.pairs import find_pairs, split_by_document  # noqa: E402

DEFAULT_DATA = PROJECT.parent / "shared" / "data"
MODELS = PROJECT / "resources" / "models"
DEFAULT_SETS = ("DIBCO2016", "DIBCO2017", "DIBCO2018")
SMOKE_PAIRS = 2  # NoisyOffice pairs a smoke run scores
SMOKE_SIDE = 800  # pixels of the real scan a smoke run checks

Clean = Callable[[np.ndarray], np.ndarray]


def sauvola(page: np.ndarray) -> np.ndarray:
    """Sauvola's binarisation (window 31, k 0.2) as a black-and-white page."""
    return np.where(binarize.sauvola(page), 0.0, 1.0).astype(np.float32)


def _float(page: np.ndarray) -> np.ndarray:
    return to_unit(page)


def model_cleaner(path: Optional[Path], keep_ink: bool) -> Clean:
    from engine.cleaning.denoiser import Denoiser
    from engine.cleaning.page import clean_page

    denoiser = Denoiser.from_file(path, precision="float32")
    return lambda page: clean_page(denoiser, page, keep_ink=keep_ink).pixels


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


def markdown(results: dict) -> str:
    lines = ["## DIBCO, binarised at Otsu (years never trained on)", ""]
    sets = results["sets"]
    header = "| method | " + " | ".join(f"{s} F / pF / PSNR / DRD" for s in sets) + " |"
    lines += [header, "| --- |" + " ---: |" * len(sets)]
    for name, per_set in results["dibco"].items():
        cells = [f"{v['f_measure']:.1f} / {v['pseudo_f_measure']:.1f} / {v['binary_psnr']:.2f} / {v['drd']:.2f}"
                 for v in (per_set[s] for s in sets)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Real book scans and phone photos (no ground truth)", "",
              "| method | ink kept | paper before | paper after |", "| --- | ---: | ---: | ---: |"]
    for name, row in results["realscans"].items():
        lines.append(f"| {name} | {row['ink_recall']:.4f} | {row['paper_before']:.3f} | {row['paper_after']:.3f} |")
    if results.get("noisyoffice_rmse"):
        lines += ["", "## NoisyOffice held-out RMSE (36 pairs, 9 documents)", "", "| model | RMSE |", "| --- | ---: |"]
        lines += [f"| {name} | {value:.4f} |" for name, value in results["noisyoffice_rmse"].items()]
    if results.get("speed"):
        speed = results["speed"]
        lines += ["", f"## Speed, A4 at 300 dpi, read + clean + write (NL-means {speed['nl_means_s_per_mp']:.3f} s/MP)",
                  "", "| model | s/MP | x NL-means |", "| --- | ---: | ---: |"]
        lines += [f"| {name} | {v['s_per_mp']:.3f} | {v['ratio_to_nl_means']:.2f} |"
                  for name, v in speed.items() if isinstance(v, dict)]
    lines += ["", f"Machine: {results['machine']}"]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--general", type=Path, default=MODELS / "docclean-general.keras")
    parser.add_argument("--noisyoffice", type=Path, default=MODELS / "docclean-noisyoffice.keras")
    parser.add_argument("--sets", default=",".join(DEFAULT_SETS))
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="folder for the results (default: benchmarks/results)")
    parser.add_argument("--smoke", action="store_true",
                        help="run every step in seconds on a tiny input, into a temporary folder unless --out is given")
    args = parser.parse_args(argv)
    args.out = results_folder(args.out, args.smoke)
    cleaners = methods(args)
    sets = args.sets.split(",")[:1] if args.smoke else args.sets.split(",")
    models = {k: v for k, v in cleaners.items() if "model" in k or "AE" in k}
    results = {
        "sets": sets,
        "dibco": dibco_table(cleaners, args.data / "dibco", sets, args.smoke),
        "realscans": realscans_table(cleaners, args.data / "realscans", args.smoke),
        "noisyoffice_rmse": noisyoffice_rmse(models, args.data / "noisyoffice", SMOKE_PAIRS if args.smoke else None),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', 'unset')}",
    }
    if not args.skip_speed:
        results["speed"] = speed_ratios({k: v for k, v in models.items() if "alone" not in k},
                                        args.data / "noisyoffice", args.smoke)
    save_results("real_scans", results, markdown(results), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
