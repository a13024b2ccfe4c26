"""Searchable pages: Tesseract's reading of a cleaned page, as an invisible text layer and as plain text.

Tesseract 5 is run as its command-line program, one page at a time and
single-threaded (the model fills the other core), on the page as cleaned: upright and
straight already (engine.geometry), so its own orientation detection is not asked.  Its
PDF renderer, with ``textonly_pdf``, writes each word where it lies, in a font without
glyphs: the invisible text layer a PDF viewer searches and selects.  The layers are laid
over DocClean's own image pages once the document is complete (pikepdf: qpdf's
well-tested object graft, the way OCRmyPDF does it), so the images stay exactly as written.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from engine.errors import ConfigurationError, ImageWriteError
from engine.io.output_folder import partial_path, write_reason
from engine.io.provenance import Provenance
from engine.io.writing import JPEG_QUALITY, write_page

TESSERACT = "tesseract"

#: How to install Tesseract, and a language's data, where DocClean's users are.
INSTALL_TESSERACT = ("install it (Debian and Ubuntu: sudo apt-get install tesseract-ocr; macOS: brew install "
                     "tesseract; Windows: the installer from github.com/UB-Mannheim/tesseract/wiki)")


def _install_language(language: str) -> str:
    return (f"install its data (Debian and Ubuntu: sudo apt-get install tesseract-ocr-{language}; macOS: "
            f"brew install tesseract-lang; Windows: tick it in Tesseract's installer)")


@dataclass(frozen=True)
class Reading:
    """Tesseract's reading of one page: ``layer``, a one-page PDF of the invisible words (None when not
    asked for), and ``text``, its plain text (empty when not asked for)."""

    layer: Optional[bytes]
    text: str


def tesseract_installed() -> bool:
    return shutil.which(TESSERACT) is not None


def installed_languages() -> list[str]:
    """The languages Tesseract has data for (``eng``, ``deu``, ...; ``osd`` left out); none without Tesseract."""
    if not tesseract_installed():
        return []
    try:
        listed = subprocess.run([TESSERACT, "--list-langs"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    # The first line says where the data lies; the rest are the languages, one a line.
    return sorted(line.strip() for line in listed.splitlines()[1:] if line.strip() not in ("", "osd"))


def check_languages(languages: str) -> None:
    """ConfigurationError, in one sentence saying how to install what is missing, unless Tesseract is
    installed with data for every one of ``languages`` (``eng`` or ``eng+deu``)."""
    wanted = [language for language in languages.split("+") if language]
    if not wanted:
        raise ConfigurationError("--ocr needs a language, such as eng or eng+deu")
    if not tesseract_installed():
        raise ConfigurationError(f"making searchable pages needs Tesseract, which is not installed: "
                                 f"{INSTALL_TESSERACT}")
    known = set(installed_languages())
    missing = [language for language in wanted if language not in known]
    if missing:
        have = ", ".join(sorted(known)) or "none"
        raise ConfigurationError(f"Tesseract has no data for {', '.join(missing)} (it has: {have}): "
                                 f"{_install_language(missing[0])}")


def read_page_text(pixels: np.ndarray, languages: str, dpi: Optional[tuple[float, float]],
                   layer: bool = True, text: bool = False) -> Reading:
    """Tesseract's reading of ``pixels`` (a cleaned page: grey, bilevel or RGB) in ``languages``, at
    ``dpi`` (300 when unknown): the invisible text layer with ``layer``, the plain text with ``text``.
    OSError or subprocess.CalledProcessError when Tesseract fails."""
    resolution = round(dpi[0]) if dpi else 300
    with tempfile.TemporaryDirectory(prefix="docclean-ocr-") as scratch:
        image = write_page(pixels, Path(scratch) / "page.png", dpi=(resolution, resolution))
        out = Path(scratch) / "read"
        renderers = (["pdf"] if layer else []) + (["txt"] if text else [])
        subprocess.run([TESSERACT, str(image), str(out), "-l", languages, "--dpi", str(resolution),
                        "-c", "textonly_pdf=1", *renderers], capture_output=True, check=True,
                       env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        return Reading(out.with_suffix(".pdf").read_bytes() if layer else None,
                       out.with_suffix(".txt").read_text(encoding="utf-8") if text else "")


def add_text_layers(path: Path, layers: Sequence[Optional[bytes]]) -> None:
    """Lay each of ``layers`` (one-page PDFs of invisible words, None for a page without) over the page of
    the PDF at ``path`` it belongs to, in place, stretched to the page's own box."""
    import io

    import pikepdf

    sources: list[pikepdf.Pdf] = []  # open until the document is saved: their objects are copied then
    try:
        with pikepdf.open(path, allow_overwriting_input=True) as document:
            for page, layer in zip(document.pages, layers):
                if layer is None:
                    continue
                sources.append(pikepdf.open(io.BytesIO(layer)))
                page.add_overlay(sources[-1].pages[0], pikepdf.Rectangle(*page.mediabox))
            document.save(path)
    finally:
        for source in sources:
            source.close()


def read_or_fail(pixels: np.ndarray, languages: str, dpi: Optional[tuple[float, float]], layer: bool, text: bool,
                 output: Path) -> Reading:
    """read_page_text, its failure an ImageWriteError naming ``output`` (the file the reading goes into)."""
    try:
        return read_page_text(pixels, languages, dpi, layer, text)
    except subprocess.CalledProcessError as failure:
        raise ImageWriteError(output, f"Tesseract could not read a page of it (it stopped with status "
                                      f"{failure.returncode})") from None
    except OSError as failure:
        raise ImageWriteError(output, f"Tesseract could not be run: {write_reason(failure)}") from None


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all, as every output is written."""
    temporary = partial_path(path)
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as failure:
        temporary.unlink(missing_ok=True)
        raise ImageWriteError(path, write_reason(failure)) from None
    return path


def write_page_and_text(pixels: np.ndarray, path: Path, languages: str, dpi: Optional[tuple[float, float]] = None,
                        bilevel: bool = False, provenance: Optional[Provenance] = None,
                        jpeg_quality: int = JPEG_QUALITY) -> Path:
    """write_page, and beside the page a .txt of what Tesseract reads of it in ``languages``."""
    write_page(pixels, path, dpi=dpi, bilevel=bilevel, provenance=provenance, jpeg_quality=jpeg_quality)
    reading = read_or_fail(pixels, languages, dpi, False, True, path)
    write_text(path.with_suffix(".txt"), reading.text)
    return path
