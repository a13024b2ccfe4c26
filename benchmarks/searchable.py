"""Searchable PDFs (``--ocr``, engine.io.ocr): the text layer's character error rate, its words findable, its time.

    python benchmarks/searchable.py [--data DIR] [--out DIR] [--precision float32|native] [--smoke]

1. The held-out NoisyOffice pages (split by document, seed 0, as every NoisyOffice figure here): each
noisy page cleaned by the general model and written as a one-page PDF with ``--ocr eng``'s text layer,
exactly as the batch writes it; the layer's text, as a PDF viewer extracts it (pypdfium2), scored by
character error rate against Tesseract's reading of the clean ground truth (benchmarks/ocr.py: mode 6,
whitespace normalised).  Beside it, Tesseract's reading of the noisy page the same way (no cleaning).
Target: CER <= 1.5 %.  2. Every word of the layer (two letters or more) searched for on its page with
the viewer's search (pypdfium2): the share found.  3. Time: Tesseract on an A4 page at 300 dpi (a mosaic
of held-out pages) beside the model's cleaning of it.  4. The OCRmyPDF plugin: PLUGIN_PAGES held-out noisy
pages as one PDF at 150 dpi, through ``ocrmypdf --force-ocr`` and through ``ocrmypdf --plugin
docclean.ocrmypdf`` (same languages and settings otherwise); each output's text layer scored as in 1.  Writes benchmarks/results/searchable.md and
.json (or into ``--out``); ``--smoke`` runs on two pages and a small mosaic.
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
from pathlib import Path
from typing import Optional

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

import numpy as np  # noqa: E402
import pypdfium2 as pdfium  # noqa: E402

from benchmarks import ocr  # noqa: E402
from benchmarks.results_files import results_folder, save_results, standard_arguments  # noqa: E402
from benchmarks.speed import A4_AT_300_DPI, SMOKE_PAGE, make_a4_pages  # noqa: E402
from engine.cleaning.denoiser import Denoiser  # noqa: E402
from engine.cleaning.page import clean_page  # noqa: E402
from engine.data.pairs import find_pairs, load_pair, split_by_document  # noqa: E402
from engine.io import PDF_JPEG_QUALITY, read_page  # noqa: E402
from engine.io.documents import open_document  # noqa: E402
from engine.io.ocr import read_page_text  # noqa: E402

TARGET_CER = 1.5
LANGUAGES = "eng"
PLUGIN_PAGES = 8
OCRMYPDF = Path(sys.executable).with_name("ocrmypdf")


def layer_text(pdf: Path) -> list[str]:
    """The text of each page of ``pdf`` as a viewer extracts it."""
    document = pdfium.PdfDocument(str(pdf))
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def findable(pdf: Path, words: list[str]) -> float:
    """Share of ``words`` that the viewer's search finds on the PDF's first page."""
    document = pdfium.PdfDocument(str(pdf))
    try:
        text = document[0].get_textpage()
        found = sum(text.search(word, match_case=True).get_next() is not None for word in words)
    finally:
        document.close()
    return found / len(words) if words else 1.0


def pages_table(folder: Path, denoiser: Denoiser, limit: Optional[int], scratch: Path) -> dict:
    pairs = find_pairs(folder).pairs
    test = split_by_document(pairs, 0.2, seed=0)[1][:limit]
    rows = []
    for pair in test:
        noisy, clean = load_pair(pair)
        reference = ocr.read_text(clean)
        cleaned = clean_page(denoiser, noisy).pixels
        writer = open_document(scratch / f"{pair.name}.pdf", LANGUAGES, jpeg_quality=PDF_JPEG_QUALITY)
        writer.add_page(cleaned)
        pdf = writer.finish()
        layer = layer_text(pdf)[0]
        words = sorted({word for word in re.findall(r"\w{2,}", layer)})
        rows.append({"page": pair.name, "cer_layer": ocr.cer(reference, layer),
                     "cer_noisy": ocr.cer(reference, ocr.read_text(noisy)), "words": len(words),
                     "findable": findable(pdf, words)})
        print(f"{pair.name}: layer CER {rows[-1]['cer_layer']:.2f} %, noisy {rows[-1]['cer_noisy']:.2f} %, "
              f"findable {rows[-1]['findable']:.3f}", flush=True)
    return {"rows": rows, "cer_layer": float(np.mean([r["cer_layer"] for r in rows])),
            "cer_noisy": float(np.mean([r["cer_noisy"] for r in rows])),
            "findable": float(np.mean([r["findable"] for r in rows]))}


def plugin_table(folder: Path, limit: int, scratch: Path) -> Optional[dict]:
    """Plain OCRmyPDF against OCRmyPDF with DocClean's plugin, on one PDF of held-out noisy pages."""
    if not OCRMYPDF.exists():
        return None
    from PIL import Image

    pairs = split_by_document(find_pairs(folder).pairs, 0.2, seed=0)[1][:limit]
    pages = [Image.open(pair.noisy).convert("L") for pair in pairs]
    scan = scratch / "scan.pdf"
    pages[0].save(scan, save_all=True, append_images=pages[1:], resolution=150)
    references = [ocr.read_text(load_pair(pair)[1]) for pair in pairs]
    results = {}
    for name, extra in (("ocrmypdf", ["--force-ocr"]), ("ocrmypdf + docclean", ["--plugin", "docclean.ocrmypdf"])):
        out = scratch / f"{name.replace(' ', '')}.pdf"
        started = time.perf_counter()
        subprocess.run([str(OCRMYPDF), "-l", LANGUAGES, *extra, str(scan), str(out)], check=True,
                       capture_output=True)
        seconds = time.perf_counter() - started
        texts = layer_text(out)
        results[name] = {"cer": float(np.mean([ocr.cer(ref, text) for ref, text in zip(references, texts)])),
                         "seconds_per_page": seconds / len(pairs), "bytes": out.stat().st_size}
        print(f"{name}: CER {results[name]['cer']:.2f} %", flush=True)
    return {"pages": len(pairs), "input_bytes": scan.stat().st_size, "runs": results}


def timing(folder: Path, denoiser: Denoiser, smoke: bool, scratch: Path) -> dict:
    pairs = find_pairs(folder).pairs
    held_out = [pair.noisy for pair in split_by_document(pairs, 0.2, seed=0)[1]]
    (path,) = make_a4_pages(held_out, scratch, count=1, size=SMOKE_PAGE if smoke else A4_AT_300_DPI)
    page = read_page(path).pixels
    started = time.perf_counter()
    cleaned = clean_page(denoiser, page).pixels
    cleaning = time.perf_counter() - started
    started = time.perf_counter()
    read_page_text(cleaned, LANGUAGES, (300.0, 300.0), scratch / "timed.pdf", layer=True)
    reading = time.perf_counter() - started
    return {"size": list(page.shape[::-1]), "clean_seconds": cleaning, "ocr_seconds": reading}


def markdown(results: dict) -> str:
    pages, speed = results["pages"], results["time"]
    return "\n".join([
        "# Searchable PDFs (--ocr, engine.io.ocr)", "",
        f"Tesseract {results['tesseract']}, languages {LANGUAGES}; model general, {results['precision']}. Machine: "
        f"{results['machine']}.", "",
        f"## 1. The text layer on {len(pages['rows'])} held-out NoisyOffice pages", "",
        "Character error rate (%) against Tesseract's reading of the clean ground truth (mode 6).", "",
        f"| text | CER (target <= {TARGET_CER}) |", "| --- | ---: |",
        f"| the searchable PDF's text layer, as a viewer extracts it | {pages['cer_layer']:.2f} |",
        f"| Tesseract on the noisy page, not cleaned | {pages['cer_noisy']:.2f} |", "",
        "## 2. Words findable", "",
        f"The viewer's search finds {100 * pages['findable']:.1f} % of the layer's words (two letters or more) on "
        "their page.", "",
        f"## 3. Time, an A4 page at 300 dpi ({speed['size'][0]} x {speed['size'][1]})", "",
        "| cleaning (s) | Tesseract's text layer (s) |", "| ---: | ---: |",
        f"| {speed['clean_seconds']:.2f} | {speed['ocr_seconds']:.2f} |", "",
        *_plugin_lines(results.get("plugin")),
        f"Whole run: {results['seconds']:.0f} s.", ""])


def _plugin_lines(plugin: Optional[dict]) -> list[str]:
    if plugin is None:
        return ["## 4. The OCRmyPDF plugin: not measured (OCRmyPDF is not installed: pip install -e '.[ocrmypdf]')", ""]
    lines = [f"## 4. The OCRmyPDF plugin, {plugin['pages']} held-out noisy pages in one PDF at 150 dpi "
             f"({plugin['input_bytes']:,} bytes)", "",
             "| run | CER (%) | s per page | output bytes |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {name} | {run['cer']:.2f} | {run['seconds_per_page']:.1f} | {run['bytes']:,} |"
              for name, run in plugin["runs"].items()]
    return lines + [""]


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    standard_arguments(parser, "two pages and a small mosaic")
    args = parser.parse_args(argv)
    if not ocr.tesseract_available():
        print(ocr.INSTALL_HINT, file=sys.stderr)
        return 1
    out, started = results_folder(args.out, args.smoke), time.perf_counter()
    denoiser = Denoiser.from_file("general", precision=args.precision)
    folder = args.data / "noisyoffice"
    with tempfile.TemporaryDirectory(prefix="docclean-searchable-") as scratch:
        results: dict = {"precision": args.precision,
                         "tesseract": os.popen(f"{shutil.which('tesseract')} --version").readline().strip(),
                         "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                         "pages": pages_table(folder, denoiser, 2 if args.smoke else None, Path(scratch)),
                         "time": timing(folder, denoiser, args.smoke, Path(scratch)),
                         "plugin": plugin_table(folder, 2 if args.smoke else PLUGIN_PAGES, Path(scratch))}
    results["seconds"] = time.perf_counter() - started
    save_results("searchable", results, markdown(results), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
