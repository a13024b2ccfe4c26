"""Searchable pages: an invisible text layer over each word of the cleaned page, and its text beside it."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from cli.main import main
from engine.errors import ConfigurationError
from engine.io.ocr import check_languages
from engine.io.provenance import read_output_provenances
from engine.options import BatchOptions


def _tesseract_words(image: Path) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Tesseract's confident words of ``image`` with their boxes (left, top, right, bottom; pixels)."""
    rows = subprocess.run(["tesseract", str(image), "-", "tsv"], capture_output=True, text=True,
                          check=True).stdout.splitlines()[1:]
    words = []
    for row in (line.split("\t") for line in rows):
        if len(row) == 12 and float(row[10]) > 85 and re.fullmatch(r"[A-Za-z]{4,}", row[11]):
            left, top, width, height = map(int, row[6:10])
            words.append((row[11], (left, top, left + width, top + height)))
    return words


def test_each_word_of_the_pdf_is_searchable_over_its_place_on_the_page(tesseract, noisy_pages, tmp_path):
    out = tmp_path / "out"
    assert main(["denoise", str(noisy_pages), "-o", str(out), "--format", "pdf", "--ocr", "eng",
                 "--model", "fast"]) == 0
    assert main(["denoise", str(noisy_pages), "-o", str(tmp_path / "png"), "--model", "fast"]) == 0
    for name in ("page5", "page12"):
        pdf = out / f"{name}_clean.pdf"
        assert "ocr=eng" in read_output_provenances(pdf)[0].settings
        document = pdfium.PdfDocument(str(pdf))
        page = document[0]
        text = page.get_textpage()
        width_points, height_points = page.get_size()
        image = tmp_path / "png" / f"{name}_clean.png"  # the same cleaned page, as an image
        pixels_wide, pixels_high = Image.open(image).size
        words = _tesseract_words(image)
        assert len(words) >= 10
        placed = 0
        for word, (left, top, right, bottom) in words:
            searcher = text.search(word, match_case=True)
            # The middle of the first letter of each place the viewer finds it (PDF points grow upwards), in
            # the image's pixels: one of them within the word's box.
            while (found := searcher.get_next()) is not None:
                box = text.get_charbox(found[0])
                x = (box[0] + box[2]) / 2 / width_points * pixels_wide
                y = (height_points - (box[1] + box[3]) / 2) / height_points * pixels_high
                if left - 2 <= x <= right and top - 2 <= y <= bottom + 2:
                    placed += 1
                    break
        assert placed >= 0.9 * len(words)
        document.close()


def test_text_beside_each_page_and_the_document(tesseract, noisy_pages, tmp_path):
    assert main(["denoise", str(noisy_pages), "-o", str(tmp_path / "a"), "--ocr", "eng", "--text",
                 "--model", "fast"]) == 0
    text = (tmp_path / "a" / "page5_clean.txt").read_text(encoding="utf-8")
    assert "Spanish" in text or len(text.split()) > 30
    assert main(["denoise", str(noisy_pages), "-o", str(tmp_path / "b"), "--ocr", "eng", "--text",
                 "--combine", "all.pdf", "--model", "fast"]) == 0
    both = (tmp_path / "b" / "all.txt").read_text(encoding="utf-8")
    assert both.count("\f") == 2  # Tesseract ends each page with a form feed


def test_a_missing_language_is_refused_before_any_page_is_cleaned(noisy_pages, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["denoise", str(noisy_pages), "-o", str(out), "--format", "pdf", "--ocr", "eng+qqq"]) == 1
    message = capsys.readouterr().err
    assert "no data for qqq" in message and "apt-get install tesseract-ocr-qqq" in message
    assert "Traceback" not in message and not out.exists()
    with pytest.raises(ConfigurationError, match="needs a language"):
        check_languages("")


def test_a_text_layer_needs_a_pdf_or_a_text_file():
    with pytest.raises(ConfigurationError, match="goes into PDFs"):
        BatchOptions.build(fmt="png", ocr="eng")
    with pytest.raises(ConfigurationError, match="in which language"):
        BatchOptions.build(fmt="pdf", text=True)
    assert BatchOptions.build(fmt="png", ocr="eng", text=True).settings_text().endswith("ocr=eng text=on")
