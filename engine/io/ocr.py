"""Searchable pages: Tesseract's reading of a cleaned page, as an invisible text layer and as plain text.

Tesseract 5 is run as its command-line program, a process per page, single-threaded, as
many at once as there are CPUs (as OCRmyPDF runs it: Tesseract's own threads help little),
on the page as cleaned: upright and straight already (engine.geometry), so its own
orientation detection is not asked.  Its PDF renderer, with ``textonly_pdf``, writes each
word where it lies, in a font without glyphs: the invisible text layer a PDF viewer searches
and selects.  The layers are laid over DocClean's own image pages once the document is
complete (engine.io.finishing), so the images stay exactly as written.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

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


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity where the system says, else all of them)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


class TextReader:
    """Tesseract run on a document's pages as they come, one process per CPU at most, while the next pages
    are cleaned; the readings come back in page order.

    read() starts Tesseract on a page and returns at once (when every CPU already
    reads one, once the oldest is done); readings() waits for all.  Each page is
    handed to Tesseract as a PNG in a scratch folder, so no page's pixels stay in
    memory while it is read.  A failure raises ImageWriteError naming ``output``,
    the file the readings go into.  close() stops what is running and removes
    the scratch folder; use the reader in a ``with`` block.
    """

    def __init__(self, languages: str, output: Path, layer: bool = True, text: bool = False,
                 workers: Optional[int] = None) -> None:
        self.languages, self.output, self.layer, self.text = languages, output, layer, text
        self.workers = max(1, workers or available_cpus())
        self._scratch: Optional[Path] = None
        self._running: deque[tuple[subprocess.Popen[bytes], Path]] = deque()  # oldest first
        self._readings: list[Reading] = []

    def __enter__(self) -> TextReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def read(self, pixels: np.ndarray, dpi: Optional[tuple[float, float]]) -> None:
        """Start reading ``pixels`` (a cleaned page: grey, bilevel or RGB) at ``dpi`` (300 when unknown)."""
        while len(self._running) >= self.workers:
            self._collect_oldest()
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="docclean-ocr-"))
        resolution = round(dpi[0]) if dpi else 300
        out = self._scratch / str(len(self._readings) + len(self._running))
        renderers = (["pdf"] if self.layer else []) + (["txt"] if self.text else [])
        try:
            image = write_page(pixels, out.with_suffix(".png"), dpi=(resolution, resolution))
            process = subprocess.Popen([TESSERACT, str(image), str(out), "-l", self.languages, "--dpi",
                                        str(resolution), "-c", "textonly_pdf=1", *renderers],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        except OSError as failure:
            raise ImageWriteError(self.output, f"Tesseract could not be run: {write_reason(failure)}") from None
        self._running.append((process, out))

    def readings(self) -> list[Reading]:
        """Every page's reading, in the order read, once all are done."""
        while self._running:
            self._collect_oldest()
        return list(self._readings)

    def close(self) -> None:
        """Stop every Tesseract still running and remove the scratch folder; never raises."""
        for process, _ in self._running:
            process.kill()
            process.wait()
        self._running.clear()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _collect_oldest(self) -> None:
        process, out = self._running[0]
        status = process.wait()
        self._running.popleft()
        page = len(self._readings) + 1
        if status < 0:  # a signal: Ctrl+C reaches Tesseract too, or something on the system stopped it
            raise ImageWriteError(self.output, f"Tesseract was stopped before it had read page {page} of it")
        if status != 0:
            raise ImageWriteError(self.output, f"Tesseract could not read page {page} of it "
                                               f"(it stopped with status {status})")
        try:
            reading = Reading(out.with_suffix(".pdf").read_bytes() if self.layer else None,
                              out.with_suffix(".txt").read_text(encoding="utf-8") if self.text else "")
        except OSError as failure:
            raise ImageWriteError(self.output, f"Tesseract's reading could not be read back: "
                                               f"{write_reason(failure)}") from None
        for leftover in out.parent.glob(out.name + ".*"):
            leftover.unlink(missing_ok=True)
        self._readings.append(reading)


def read_page_text(pixels: np.ndarray, languages: str, dpi: Optional[tuple[float, float]], output: Path,
                   layer: bool = True, text: bool = False) -> Reading:
    """Tesseract's reading of one page (as TextReader.read takes it), waited for; ImageWriteError naming
    ``output`` when it fails."""
    with TextReader(languages, output, layer, text, workers=1) as reader:
        reader.read(pixels, dpi)
        return reader.readings()[0]


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
    reading = read_page_text(pixels, languages, dpi, path, layer=False, text=True)
    write_text(path.with_suffix(".txt"), reading.text)
    return path
