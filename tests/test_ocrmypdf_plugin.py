"""The OCRmyPDF plugin end to end: ``ocrmypdf --plugin docclean.ocrmypdf IN.pdf OUT.pdf`` on a real noisy PDF."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from benchmarks import ocr
from engine.io import read_page

OCRMYPDF = Path(sys.executable).with_name("ocrmypdf")


@pytest.fixture(scope="module")
def noisy_pdf(tmp_path_factory, noisyoffice_dir: Path) -> Path:
    if not OCRMYPDF.exists():
        pytest.fail("OCRmyPDF is not installed: pip install -e '.[test]' brings it (docclean[ocrmypdf])")
    folder = tmp_path_factory.mktemp("plugin")
    pages = [Image.open(noisyoffice_dir / "noisy" / f"{name}.png").convert("L") for name in ("5", "12")]
    pages[0].save(folder / "scan.pdf", save_all=True, append_images=pages[1:], resolution=150)
    return folder / "scan.pdf"


def _ocrmypdf(*args: str) -> None:
    done = subprocess.run([str(OCRMYPDF), *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def _pages(pdf: Path) -> tuple[list[str], list[np.ndarray]]:
    document = pdfium.PdfDocument(str(pdf))
    try:
        return ([page.get_textpage().get_text_range() for page in document],
                [np.asarray(page.render(scale=1).to_pil().convert("L")) for page in document])
    finally:
        document.close()


def test_the_plugin_cleans_each_page_and_reads_better_than_ocrmypdf_alone(noisy_pdf, noisyoffice_dir):
    plain, cleaned = noisy_pdf.with_name("plain.pdf"), noisy_pdf.with_name("cleaned.pdf")
    _ocrmypdf("--force-ocr", str(noisy_pdf), str(plain))
    _ocrmypdf("--plugin", "docclean.ocrmypdf", "--docclean-model", "fast", str(noisy_pdf), str(cleaned))
    references = [ocr.read_text(read_page(noisyoffice_dir / "clean" / f"{name}.png").pixels) for name in ("5", "12")]
    plain_text, plain_pixels = _pages(plain)
    cleaned_text, cleaned_pixels = _pages(cleaned)
    plain_cer = np.mean([ocr.cer(reference, text) for reference, text in zip(references, plain_text)])
    cleaned_cer = np.mean([ocr.cer(reference, text) for reference, text in zip(references, cleaned_text)])
    assert cleaned_cer < plain_cer and cleaned_cer < 5.0
    # The pages shown are DocClean's: the coffee-stained paper made white (its median), the page size kept.
    assert len(cleaned_pixels) == 2 and cleaned_pixels[0].shape == plain_pixels[0].shape
    assert np.median(cleaned_pixels[0]) >= 250 > np.median(plain_pixels[0])
