"""Compact documents: bytes per page for each mode and format against the input's, and the 100-page target.

    python benchmarks/compact.py [--data DIR] [--out DIR] [--pages N] [--precision float32|native] [--smoke]

1. Bytes per page.  The nine real book scans (realscans/set0002-*: about A4 at 300 dpi, four of them
two-page spreads, five with half-tone photographs) as a scanner writes them, one PDF of JPEG pages at
quality INPUT_QUALITY: grey for the grey and black-and-white modes, colour for colour mode.  Each mode is
cleaned by ``docclean denoise`` once, to PNG; the cleaned pages are then written in every format by the
writers the batch uses (engine.io): bytes per input page, and the ratio to the input's.  "pdf" is the
default (grey and colour pages JPEG at PDF_JPEG_QUALITY, or Flate where that is smaller), "pdf (lossless)"
``--pdf-images lossless``.
2. The target: a searchable PDF (``--combine --ocr eng``) of ``--pages`` (100) pages at 300 dpi, the book
scans and A4 mosaics of held-out NoisyOffice pages taking turns, from one grey JPEG PDF as above.  Grey mode
(PDF pages JPEG at the default quality, ``--pdfa``) must stay within 2x the input's bytes, black and white
(CCITT G4) under 1x.  Wall time per page of each run, and pikepdf's PDF/A-2b verdict on the grey one.
3. What JPEG costs: the held-out NoisyOffice pages, cleaned, written as JPEG at each quality: the RMSE
against the lossless page (grey levels, 0-255), and Tesseract's CER reading it, beside reading the lossless
page (benchmarks/ocr.py, against its reading of the clean ground truth).

Writes benchmarks/results/compact.md and .json (or into ``--out``); ``--smoke`` runs on two book scans,
four pages and two NoisyOffice pages, into a temporary folder.
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from benchmarks import ocr  # noqa: E402
from benchmarks.results_files import results_folder, save_results, standard_arguments  # noqa: E402
from benchmarks.speed import A4_AT_300_DPI, SMOKE_PAGE, make_a4_pages  # noqa: E402
from engine.cleaning.denoiser import Denoiser  # noqa: E402
from engine.cleaning.page import clean_page  # noqa: E402
from engine.data.pairs import find_pairs, load_pair, split_by_document  # noqa: E402
from engine.io import PDF_JPEG_QUALITY, open_document, read_page, write_page  # noqa: E402
from engine.io.pixels import to_uint8  # noqa: E402

#: The JPEG quality of the scans going in: a scanner's or NAPS2's usual setting.
INPUT_QUALITY = 75
TARGET_GREY, TARGET_BW = 2.0, 1.0
QUALITIES = (95, 85, 75, 50)
FORMATS = ("png", "tiff", "jpeg", "pdf", "pdf (lossless)")


def scanner_pdf(pages: list[Image.Image], path: Path) -> Path:
    """``pages`` as a scanner writes them: one PDF of JPEG pages at INPUT_QUALITY, 300 dpi."""
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=300.0, quality=INPUT_QUALITY)
    return path


def docclean(*arguments: str, precision: str) -> float:
    """Run ``docclean denoise`` with ``arguments``; its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli.main", "-q", "denoise", *arguments, "--precision", precision],
                   check=True, cwd=PROJECT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def written_bytes(cleaned: list[Path], fmt: str, bilevel: bool, scratch: Path) -> int:
    """Bytes of the cleaned pages (PNG files) written in ``fmt`` by the batch's own writers."""
    scratch.mkdir(parents=True)
    if fmt.startswith("pdf"):
        writer = open_document(scratch / "out.pdf", jpeg_quality=None if "lossless" in fmt else PDF_JPEG_QUALITY)
        for path in cleaned:
            writer.add_page(_pixels(path), read_page(path).dpi, bilevel)
        return writer.finish().stat().st_size
    suffix = {"png": ".png", "tiff": ".tif", "jpeg": ".jpg"}[fmt]
    return sum(write_page(_pixels(path), scratch / f"{number}{suffix}", dpi=read_page(path).dpi,
                          bilevel=bilevel).stat().st_size for number, path in enumerate(cleaned))


def _pixels(path: Path) -> np.ndarray:
    """A cleaned page as the batch hands it to a writer: grey or RGB, 8 bits."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB" if image.mode == "RGB" else "L"))


def sizes_table(scans: list[Path], scratch: Path, precision: str) -> dict:
    grey = [Image.open(path).convert("L") for path in scans]
    inputs = {"grey": scanner_pdf(grey, scratch / "grey-scan.pdf"),
              "colour": scanner_pdf([Image.open(path).convert("RGB") for path in scans], scratch / "colour-scan.pdf")}
    rows = []
    for mode in ("grey", "bw", "colour"):
        source = inputs["colour" if mode == "colour" else "grey"]
        folder = scratch / f"cleaned-{mode}"
        docclean(str(source), "-o", str(folder), "--mode", mode, precision=precision)
        cleaned = sorted(folder.glob("*.png"))
        per_page = source.stat().st_size / len(scans)
        row = {"mode": mode, "input_per_page": per_page, "pages_out": len(cleaned), "formats": {}}
        for fmt in FORMATS:
            size = written_bytes(cleaned, fmt, mode == "bw", scratch / f"{mode}-{fmt.split()[0]}-{len(row['formats'])}")
            row["formats"][fmt] = size / len(scans)
        rows.append(row)
        print(f"{mode}: " + ", ".join(f"{fmt} {size / per_page:.2f}x" for fmt, size in row["formats"].items()),
              flush=True)
    return {"scans": len(scans), "rows": rows}


def document_pages(scans: list[Path], noisy: list[Path], count: int, scratch: Path, smoke: bool) -> list[Image.Image]:
    """``count`` pages at 300 dpi: the book scans and A4 mosaics of noisy office pages, taking turns."""
    mosaics = make_a4_pages(noisy, scratch, count=(count + 1) // 2, size=SMOKE_PAGE if smoke else A4_AT_300_DPI)
    books = [Image.open(path).convert("L") for path in scans]
    pages = []
    for number in range(count):
        if number % 2:
            pages.append(books[(number // 2) % len(books)])
        else:
            pages.append(Image.open(mosaics[number // 2]).convert("L"))
    return pages


def target_table(pages: list[Image.Image], scratch: Path, precision: str) -> dict:
    from pikepdf import pdfa

    source = scanner_pdf(pages, scratch / "document-scan.pdf")
    runs = {}
    for mode, extra in (("grey", ["--pdfa"]), ("bw", [])):
        folder = scratch / f"document-{mode}"
        seconds = docclean(str(source), "-o", str(folder), "--combine", "document.pdf", "--ocr", "eng",
                           "--mode", mode, *extra, precision=precision)
        result = folder / "document.pdf"
        runs[mode] = {"bytes": result.stat().st_size, "ratio": result.stat().st_size / source.stat().st_size,
                      "seconds_per_page": seconds / len(pages)}
        if mode == "grey":
            runs[mode]["pdfa_2b"] = pdfa.validate_written(result, "2b").verdict
        print(f"{mode}: {runs[mode]['ratio']:.2f}x the input, {runs[mode]['seconds_per_page']:.1f} s a page", flush=True)
    return {"pages": len(pages), "input_bytes": source.stat().st_size, "runs": runs}


def jpeg_table(noisyoffice: Path, denoiser: Denoiser, limit: Optional[int]) -> dict:
    test = split_by_document(find_pairs(noisyoffice).pairs, 0.2, seed=0)[1][:limit]
    cer: dict[str, list[float]] = {"lossless": [], **{str(quality): [] for quality in QUALITIES}}
    rmse: dict[str, list[float]] = {str(quality): [] for quality in QUALITIES}
    for pair in test:
        noisy, clean = load_pair(pair)
        reference = ocr.read_text(clean)
        cleaned = to_uint8(clean_page(denoiser, noisy).pixels)
        cer["lossless"].append(ocr.cer(reference, ocr.read_text(cleaned)))
        for quality in QUALITIES:
            encoded = io.BytesIO()
            Image.fromarray(cleaned).save(encoded, format="JPEG", quality=quality, optimize=True)
            decoded = np.asarray(Image.open(encoded))
            rmse[str(quality)].append(float(np.sqrt(np.mean((decoded.astype(float) - cleaned) ** 2))))
            cer[str(quality)].append(ocr.cer(reference, ocr.read_text(decoded)))
    return {"pages": len(test), "cer": {key: float(np.mean(values)) for key, values in cer.items()},
            "rmse": {key: float(np.mean(values)) for key, values in rmse.items()}}


def markdown(results: dict) -> str:
    sizes, target, jpeg = results["sizes"], results["target"], results["jpeg"]
    lines = ["# Compact documents (engine.io.documents)", "",
             f"Model general, {results['precision']}; input scans JPEG at quality {INPUT_QUALITY}, 300 dpi; PDF pages "
             f"JPEG at quality {PDF_JPEG_QUALITY} (or Flate where smaller) unless lossless. Machine: "
             f"{results['machine']}.", "",
             f"## 1. Bytes per input page, {sizes['scans']} real book scans", "",
             "KiB per input page (the ratio to the input PDF's in brackets); a spread is written as two pages.", "",
             "| mode | input | " + " | ".join(FORMATS) + " |", "| --- | ---: |" + " ---: |" * len(FORMATS)]
    for row in sizes["rows"]:
        lines.append(f"| {row['mode']} | {row['input_per_page'] / 1024:.0f} | " + " | ".join(
            f"{size / 1024:.0f} ({size / row['input_per_page']:.2f}x)" for size in row["formats"].values()) + " |")
    grey, bw = target["runs"]["grey"], target["runs"]["bw"]
    lines += ["", f"## 2. A searchable PDF of {target['pages']} pages at 300 dpi "
              f"({target['input_bytes'] / 2 ** 20:.1f} MiB in)", "",
              "| mode | output (MiB) | x input | target | s per page (cleaning and Tesseract) |",
              "| --- | ---: | ---: | --- | ---: |",
              f"| grey, --pdfa | {grey['bytes'] / 2 ** 20:.1f} | {grey['ratio']:.2f} | <= {TARGET_GREY:g} | "
              f"{grey['seconds_per_page']:.1f} |",
              f"| bw | {bw['bytes'] / 2 ** 20:.1f} | {bw['ratio']:.2f} | < {TARGET_BW:g} | {bw['seconds_per_page']:.1f} |",
              "", f"pikepdf's PDF/A-2b check of the grey document: {grey['pdfa_2b']}.", "",
              f"## 3. What JPEG costs, {jpeg['pages']} held-out NoisyOffice pages", "",
              "| page stored as | RMSE from lossless (0-255) | Tesseract's CER (%) |", "| --- | ---: | ---: |",
              f"| lossless | 0 | {jpeg['cer']['lossless']:.2f} |"]
    lines += [f"| JPEG {quality} | {jpeg['rmse'][str(quality)]:.2f} | {jpeg['cer'][str(quality)]:.2f} |"
              for quality in QUALITIES]
    return "\n".join([*lines, "", f"Whole run: {results['seconds']:.0f} s.", ""])


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    standard_arguments(parser, "a few small pages")
    parser.add_argument("--pages", type=int, default=100, help="pages of section 2's document (default 100)")
    args = parser.parse_args(argv)
    if not ocr.tesseract_available():
        print(ocr.INSTALL_HINT, file=sys.stderr)
        return 1
    out, started = results_folder(args.out, args.smoke), time.perf_counter()
    scans = sorted((args.data / "realscans").glob("set0002-*.jpg"))[:2 if args.smoke else None]
    noisyoffice = args.data / "noisyoffice"
    held_out = [pair.noisy for pair in split_by_document(find_pairs(noisyoffice).pairs, 0.2, seed=0)[1]]
    with tempfile.TemporaryDirectory(prefix="docclean-compact-") as scratch:
        results: dict = {"precision": args.precision,
                         "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                         "sizes": sizes_table(scans, Path(scratch), args.precision)}
        pages = document_pages(scans, held_out, 4 if args.smoke else args.pages, Path(scratch), args.smoke)
        results["target"] = target_table(pages, Path(scratch), args.precision)
        results["jpeg"] = jpeg_table(noisyoffice, Denoiser.from_file("general", precision=args.precision),
                                     2 if args.smoke else None)
    results["seconds"] = time.perf_counter() - started
    save_results("compact", results, markdown(results), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
