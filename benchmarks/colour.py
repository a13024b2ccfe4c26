"""Colour mode (``--mode colour``, engine.cleaning.colour): paper white and neutral, every mark in its colour.

    python benchmarks/colour.py [--data DIR] [--out DIR] [--precision float32|native] [--smoke]

1. Generated pages (benchmarks/colour_pages.py): clean NoisyOffice documents at two sizes on yellowed,
unevenly lit, coffee-stained paper, with a red stamp, a blue pen's signature, a yellow highlighter and a
green colour figure, saved as JPEG.  Cleaned by the general model in colour mode; measured: the bare
paper's whiteness (mean grey, of 1) and chroma (max - min of R, G, B, of 1), the black print's grey, and
each mark's hue error (degrees, median colour against the colour drawn) and saturation (HSV) against the
drawn one's.  Targets: paper >= 0.95 with chroma <= 0.03, print <= 0.35, hue within 15 degrees,
saturation kept.  2. What 'auto' picks on the real book scans and photos and on the generated pages.  3. Time: the colour step against the grey cleaning of the same page, and bytes per
page of the PNG written in each mode.  Writes benchmarks/results/colour.md and .json (or into ``--out``);
``--smoke`` runs on one page.
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
from pathlib import Path
from typing import Optional

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from benchmarks import geometry_pages as gp  # noqa: E402
from benchmarks.colour_pages import MARK_COLOURS, colour_page, hue_distance, hue_saturation  # noqa: E402
from benchmarks.results_files import results_folder, save_results  # noqa: E402
from engine.cleaning.colour import COLOUR_SHARE, colour_page as in_colour  # noqa: E402
from engine.cleaning.denoiser import Denoiser  # noqa: E402
from engine.cleaning.page import clean_page  # noqa: E402
from engine.cleaning.pictures import picture_cells  # noqa: E402
from engine.io.display import display_pixels  # noqa: E402
from engine.vocabulary import PageMode  # noqa: E402

DOCUMENTS, SCALES, SEED = 6, (1.0, 2.0), 7
TARGET_PAPER, TARGET_CHROMA, TARGET_PRINT, TARGET_HUE = 0.95, 0.03, 0.35, 15.0


def chroma(rgb: np.ndarray) -> np.ndarray:
    unit = rgb.astype(np.float32) / 255.0
    return unit.max(axis=-1) - unit.min(axis=-1)


def png_bytes(pixels: np.ndarray) -> int:
    stream = io.BytesIO()
    Image.fromarray(pixels).save(stream, format="PNG", compress_level=6)
    return stream.getbuffer().nbytes


def generated_table(data: Path, denoiser: Denoiser, smoke: bool) -> list[dict]:
    rows = []
    rng = np.random.default_rng(SEED)
    for name, clean in gp.noisyoffice_clean(data / "noisyoffice" / "clean", 1 if smoke else DOCUMENTS, set()):
        for scale in SCALES[:1 if smoke else None]:
            page = colour_page(cv2.resize(clean, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), rng)
            grey = cv2.cvtColor(page.rgb, cv2.COLOR_RGB2GRAY)
            started = time.perf_counter()
            cleaned = clean_page(denoiser, grey, PageMode.GREY)
            grey_seconds = time.perf_counter() - started
            started = time.perf_counter()
            out = in_colour(page.rgb, cleaned.pixels, picture_cells(grey))
            colour_seconds = time.perf_counter() - started
            assert out is not None
            auto = in_colour(page.rgb, cleaned.pixels, None, COLOUR_SHARE) is not None
            row = {"page": f"{name} x{scale:g}", "size": list(grey.shape[::-1]),
                   "paper": float(out[page.paper].mean() / 255), "paper_chroma": float(chroma(out[page.paper]).mean()),
                   "print": float(out[page.ink].mean() / 255), "auto_colour": auto,
                   "grey_seconds": grey_seconds, "colour_seconds": colour_seconds,
                   "png_grey": png_bytes(cleaned.pixels), "png_colour": png_bytes(out),
                   "input_jpeg": len(cv2.imencode(".jpg", page.rgb[..., ::-1])[1]), "marks": {}}
            for mark, mask in page.marks.items():
                hue, saturation = hue_saturation(out[mask])
                true_hue, true_saturation = hue_saturation(np.array(MARK_COLOURS[mark], np.uint8)[None])
                row["marks"][mark] = {"hue_error": hue_distance(hue, true_hue),
                                      "saturation": saturation, "true_saturation": true_saturation}
            rows.append(row)
            print(f"{row['page']}: paper {row['paper']:.3f} chroma {row['paper_chroma']:.4f} print "
                  f"{row['print']:.3f}, worst hue error "
                  f"{max(m['hue_error'] for m in row['marks'].values()):.1f}", flush=True)
    return rows


def real_table(data: Path, denoiser: Denoiser, smoke: bool) -> list[dict]:
    """What 'auto' picks on the real book scans and photos, at half size."""
    rows = []
    for path in sorted((data / "realscans").glob("*.jpg"))[:1 if smoke else None]:
        rgb = display_pixels(path)
        if rgb.ndim != 3:
            rows.append({"page": path.name, "auto_colour": False, "colour_share": 0.0})
            continue
        small = cv2.resize(rgb, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        cleaned = clean_page(denoiser, grey, PageMode.AUTO, colour=small)
        rows.append({"page": path.name, "auto_colour": cleaned.mode == PageMode.COLOUR})
        print(f"auto {path.name}: {cleaned.mode}", flush=True)
    return rows


def markdown(results: dict) -> str:
    rows = results["generated"]
    lines = ["# Colour mode (engine.cleaning.colour)", "",
             f"Model: general, {results['precision']}. Machine: {results['machine']}.", "",
             "## 1. Generated pages: yellowed, stained, unevenly lit paper with known marks (JPEG 90)", "",
             f"Targets: paper >= {TARGET_PAPER} white with chroma <= {TARGET_CHROMA}; print <= {TARGET_PRINT}; each "
             f"mark's hue within {TARGET_HUE:g}° and its saturation kept.", "",
             "| page | paper | paper chroma | print | " + " | ".join(
                 f"{name}: hue error, saturation (drawn)" for name in MARK_COLOURS) + " |",
             "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in MARK_COLOURS) + " |"]
    for row in rows:
        lines.append(f"| {row['page']} | {row['paper']:.3f} | {row['paper_chroma']:.4f} | {row['print']:.3f} | "
                     + " | ".join(f"{row['marks'][name]['hue_error']:.1f}°, {row['marks'][name]['saturation']:.2f} "
                                  f"({row['marks'][name]['true_saturation']:.2f})" for name in MARK_COLOURS) + " |")
    worst_hue = max(m["hue_error"] for row in rows for m in row["marks"].values())
    least_saturation = min(m["saturation"] / m["true_saturation"] for row in rows for m in row["marks"].values())
    lines += ["", f"Worst: paper {min(r['paper'] for r in rows):.3f}, paper chroma "
                  f"{max(r['paper_chroma'] for r in rows):.4f}, print {max(r['print'] for r in rows):.3f}, hue error "
                  f"{worst_hue:.1f}°, saturation {least_saturation:.2f} of the drawn one's.", "",
              "## 2. What 'auto' picks", "",
              f"Generated pages (coloured marks): colour on {sum(r['auto_colour'] for r in rows)} of {len(rows)}. "
              f"Real book scans and phone photos (no pen or highlighter; a green cover, library stamps, brown gutter "
              f"shadows, the table around a photographed book): colour on "
              f"{sum(r['auto_colour'] for r in results['real'])} of {len(results['real'])}"
              + (" (" + ", ".join(r["page"] for r in results["real"] if r["auto_colour"]) + ")"
                 if any(r["auto_colour"] for r in results["real"]) else "") + ".", "",
              "## 3. Time and size", "",
              "| page | pixels | grey cleaning (s) | colour step (s) | ratio | PNG grey (bytes) | PNG colour (bytes) "
              "| input JPEG (bytes) |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        lines.append(f"| {row['page']} | {row['size'][0]} x {row['size'][1]} | {row['grey_seconds']:.2f} | "
                     f"{row['colour_seconds']:.2f} | {row['colour_seconds'] / row['grey_seconds']:.2f} | "
                     f"{row['png_grey']:,} | {row['png_colour']:,} | {row['input_jpeg']:,} |")
    lines += ["", f"Whole run: {results['seconds']:.0f} s."]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=gp.DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--out", type=Path, default=None, help="folder for the results (default: benchmarks/results)")
    parser.add_argument("--precision", choices=["float32", "native"], default="float32",
                        help="the model's precision (float32: as on most users' laptops)")
    parser.add_argument("--smoke", action="store_true", help="one page of each kind, into a temporary folder")
    args = parser.parse_args(argv)
    out, started = results_folder(args.out, args.smoke), time.perf_counter()
    denoiser = Denoiser.from_file("general", precision=args.precision)
    results: dict = {"precision": args.precision,
                     "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                     "generated": generated_table(args.data, denoiser, args.smoke),
                     "real": real_table(args.data, denoiser, args.smoke)}
    results["seconds"] = time.perf_counter() - started
    save_results("colour", results, markdown(results), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
