"""PDF/A for archives (``--pdfa``), checked by two validators, and Tesseract reading a document's pages at once."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image
from pikepdf import pdfa

from cli.main import main
from engine.errors import ImageWriteError
from engine.io import open_document, read_output_provenances
from engine.io.finishing import PRODUCER, finish_pdf
from engine.io.ocr import TextReader
from engine.vocabulary import PdfA

# Apache PDFBox's Preflight, as Debian packages it (libpdfbox2-java and the two APIs Java 11 dropped):
# a validator independent of pikepdf, for PDF/A-1b.
PREFLIGHT_JARS = [Path("/usr/share/java") / name for name in (
    "preflight.jar", "pdfbox2.jar", "fontbox2.jar", "xmpbox.jar", "commons-logging.jar", "javax.activation.jar",
    "jaxb-api.jar")]


@pytest.fixture(scope="module")
def preflight() -> list[str]:
    missing = [str(jar) for jar in PREFLIGHT_JARS if not jar.exists()]
    if shutil.which("java") is None or missing:
        pytest.fail("Apache PDFBox Preflight is not installed: .ci/run installs it (apt-get install "
                    "default-jre-headless libpdfbox2-java libactivation-java libjaxb-api-java)")
    return ["java", "-cp", os.pathsep.join(map(str, PREFLIGHT_JARS)), "org.apache.pdfbox.preflight.Validator_A1b"]


@pytest.mark.parametrize("level", ["1b", "2b"])
@pytest.mark.parametrize("mode", ["grey", "bw", "colour"])
def test_a_searchable_pdfa_passes_the_validators(level: str, mode: str, tesseract: None, preflight: list[str],
                                                 noisy_pages: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["-q", "denoise", str(noisy_pages), "-o", str(out), "--combine", "all.pdf", "--ocr", "eng", "--mode", mode,
                 "--pdfa", level, "--model", "fast"]) == 0
    document = out / "all.pdf"
    assert pdfa.validate_written(document, level).passed
    if level == "1b":
        verdict = subprocess.run([*preflight, str(document)], capture_output=True, text=True)
        assert verdict.returncode == 0, verdict.stdout + verdict.stderr
        assert "is a valid PDF/A-1b file" in verdict.stdout
    with pikepdf.open(document) as opened:
        assert opened.docinfo["/Producer"] == PRODUCER
        assert opened.open_metadata()["pdfaid:part"] == level[0]
    # What made each page still travels with the file, so a rerun knows it is done.
    made = read_output_provenances(document)
    assert len(made) == 2 and all(f"pdfa={level}" in page.settings for page in made)
    assert main(["-q", "denoise", str(noisy_pages), "-o", str(out), "--combine", "all.pdf", "--ocr", "eng", "--mode", mode,
                 "--pdfa", level, "--model", "fast"]) == 0
    assert sorted(path.name for path in out.iterdir()) == ["all.pdf"]


def test_pdfa_alone_is_level_2b_and_needs_a_pdf(noisy_pages: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main(["-q", "denoise", str(noisy_pages), "-o", str(out), "--format", "pdf", "--pdfa", "--model", "fast"]) == 0
    for document in out.glob("*.pdf"):
        assert pdfa.validate_written(document, "2b").passed
    assert main(["-q", "denoise", str(noisy_pages), "-o", str(tmp_path / "png"), "--pdfa", "--model", "fast"]) == 1
    assert "PDF/A is a kind of PDF" in capsys.readouterr().err
    assert not (tmp_path / "png").exists()


def test_a_document_that_fails_the_pdfa_check_is_not_written(tmp_path: Path) -> None:
    # A text layer in a font the file does not hold (PDF/A wants every font embedded).
    layer = pikepdf.new()
    page = layer.add_blank_page(page_size=(100, 100))
    font = layer.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                  BaseFont=pikepdf.Name.Helvetica))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = layer.make_stream(b"BT /F1 12 Tf 10 10 Td (words) Tj ET")
    writer = open_document(tmp_path / "plain.pdf")
    writer.add_page(np.full((100, 100), 255, np.uint8), (72.0, 72.0))
    plain = writer.finish()
    with pytest.raises(ImageWriteError, match=r"out\.pdf.*could not be made PDF/A-2b: the check found it breaks"):
        finish_pdf(plain, [layer_bytes(layer)], PdfA.PDFA_2B, tmp_path / "out.pdf", tmp_path / "scratch.pdf")
    assert not (tmp_path / "out.pdf").exists()


def layer_bytes(document: pikepdf.Pdf) -> bytes:
    import io

    saved = io.BytesIO()
    document.save(saved)
    return saved.getvalue()


def test_tesseract_reads_a_documents_pages_at_once_and_in_order(tesseract: None, noisyoffice_dir: Path,
                                                               tmp_path: Path) -> None:
    pages = [np.asarray(Image.open(noisyoffice_dir / "clean" / f"{name}.png").convert("L")) for name in ("5", "12", "7")]
    started = time.perf_counter()
    with TextReader("eng", tmp_path / "doc.pdf", layer=False, text=True, workers=3) as reader:
        for page in pages:
            reader.read(page, (300.0, 300.0))
        started_all = time.perf_counter() - started
        readings = reader.readings()
    # read() only starts Tesseract: three pages are handed over in far less than one page's reading.
    with TextReader("eng", tmp_path / "one.pdf", layer=False, text=True, workers=1) as single:
        one = time.perf_counter()
        single.read(pages[0], (300.0, 300.0))
        [first] = single.readings()
        one = time.perf_counter() - one
    assert started_all < one
    assert first.text == readings[0].text
    for page, reading in zip(pages, readings):
        alone = subprocess.run(["tesseract", "-", "-", "-l", "eng", "--dpi", "300"], input=_png(page),
                               capture_output=True, check=True).stdout.decode()
        assert reading.text.split() == alone.split()


def test_closing_a_reader_stops_its_tesseracts_and_leaves_nothing(tesseract: None, noisyoffice_dir: Path,
                                                                 tmp_path: Path) -> None:
    page = np.asarray(Image.open(noisyoffice_dir / "noisy" / "5.png").convert("L"))
    reader = TextReader("eng", tmp_path / "doc.pdf", workers=2)
    reader.read(np.tile(page, (4, 4)), (300.0, 300.0))
    reader.read(np.tile(page, (4, 4)), (300.0, 300.0))
    processes = [process for process, _ in reader._running]
    scratch = reader._scratch
    reader.close()
    assert all(process.poll() is not None for process in processes) and scratch is not None and not scratch.exists()


def test_a_failed_reading_names_the_document_and_the_page(tesseract: None, tmp_path: Path) -> None:
    with TextReader("no-such-language", tmp_path / "doc.pdf") as reader:
        reader.read(np.full((50, 50), 255, np.uint8), None)
        with pytest.raises(ImageWriteError, match=r"doc\.pdf.*Tesseract could not read page 1 of it"):
            reader.readings()


def _png(pixels: np.ndarray) -> bytes:
    import io

    encoded = io.BytesIO()
    Image.fromarray(pixels).save(encoded, format="PNG", dpi=(300, 300))
    return encoded.getvalue()
