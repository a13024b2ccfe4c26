"""Documents out: writing a PDF or multi-page TIFF page by page.

Which pages go into which document is engine.io.planning's; what made each
page, engine.io.provenance's.

A document is written as its pages are cleaned, one at a time: each page is
appended at once to a hidden temporary file beside the output (named like
every unfinished write, ".<name>.partial-<host>-<pid>-<hex>", so the next run
removes what a killed one left), and the file is completed and renamed onto
its name only after its last page.  So one cleaned page at most is in memory
whatever the document's length, and a file under an output's name is whole.

PDFs are written here rather than with a PDF library: each page is one
image filling the page, and only a few objects are needed for that, which
lets the file grow page by page instead of being built in memory.  A
black-and-white page is embedded as the CCITT Group 4 data of libtiff's
encoder or as Flate data, whichever is smaller (both lossless); a grey or colour page
as a JPEG at the quality asked for, or as the Flate data of Pillow's PNG
encoder (with the PNG predictor), its pixels exactly: always when lossless is
asked for, and otherwise where that is the smaller.  The page
is as large as the image at its resolution (a 300 dpi A4 scan makes an A4
page).  Text layers and PDF/A come in one last pass (engine.io.finishing).
What made each page (engine.io.provenance) is recorded in the PDF's document
information under /DocClean, and in each TIFF page's ImageDescription.
"""
from __future__ import annotations

import io
import os
import struct
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator, Optional

import numpy as np
from PIL import Image, TiffImagePlugin

from engine.errors import ConfigurationError, ImageWriteError
# Where these lived before: callers may still import them from here.
from engine.io.planning import OutputFile as OutputFile
from engine.io.planning import check_combine_name as check_combine_name
from engine.io.planning import plan_outputs as plan_outputs
from engine.io.provenance import Provenance, pdf_record
from engine.io.provenance import is_output as is_output
from engine.io.provenance import read_output_provenances as read_output_provenances
from engine.io.provenance import save_options as provenance_options
from engine.io.finishing import finish_pdf
from engine.io.output_folder import make_parent, partial_path, write_reason
from engine.io.ocr import TextReader, write_text
from engine.io.writing import format_options, page_image
from engine.vocabulary import PdfA

# The resolution a page is laid out at when its file did not say (as the PDF
# reader renders a page that is not a scan): a 2480-pixel-wide page is A4 wide.
DEFAULT_DPI = 300.0

_POINTS_PER_INCH = 72.0
# The image is drawn this much (in points) inside the page's edges.  Drawn
# exactly to the edges, float rounding makes PDFium (and so DocClean reading
# the file back) render some page sizes, A4 at 300 dpi among them, one row
# too tall and resampled; a thousandth of a point is far below a pixel at any
# resolution and keeps every page at its own pixels.
_INSET = 0.001


# ---------------------------------------------------------------- writing a document page by page


class PageOfFailedDocument(ImageWriteError):
    """A page that was cleaned but not written: the document it goes into could not be (``document_error`` says why).

    The document's own error is reported once, with its first page; its other
    pages carry this one, which says where they belong instead of repeating why.
    """

    def __init__(self, label: str, document_error: ImageWriteError) -> None:
        super().__init__(document_error.path, f"{label} is not written: it belongs to {document_error.path.name}, "
                                              "which could not be written")
        self.document_error = document_error


class DocumentWriter:
    """A PDF or multi-page TIFF written page by page, under a temporary name until finish().

    add_page appends a page at once (nothing of it stays in memory);
    finish completes the file and renames it onto ``path``; abort removes
    the temporary file.  A failure raises ImageWriteError naming ``path``
    and removes the temporary file: the document is then lost, never left
    half-written.
    """

    def __init__(self, path: Path, ocr: str = "", text: bool = False, jpeg_quality: Optional[int] = None,
                 pdfa: Optional[PdfA] = None) -> None:
        self.path = path
        self.temporary = partial_path(path)
        self.pages = 0
        self._stream: Optional[BinaryIO] = None
        self._finished: Optional[Path] = None  # the last pass's file (engine.io.finishing), when there is one
        # Tesseract reads each page, in ``ocr``'s languages (engine.io.ocr), while the next is cleaned: for a
        # PDF's text layers, and with ``text`` for the document's text, written beside it.
        self.ocr, self.text = ocr, text
        self._reader = TextReader(ocr, path, layer=isinstance(self, PdfWriter), text=text) if ocr else None
        # A PDF's grey and colour pages as JPEG at this quality (None: lossless), and the PDF/A it is made to.
        self.jpeg_quality, self.pdfa = jpeg_quality, pdfa

    def add_page(self, pixels: np.ndarray, dpi: Optional[tuple[float, float]] = None, bilevel: bool = False,
                 provenance: Optional[Provenance] = None) -> None:
        """Append a grey or colour page (as write_page takes it), black and white with ``bilevel``."""
        try:
            image = page_image(pixels, bilevel)
        except ValueError as exc:  # not a grey page
            self.abort()
            raise ImageWriteError(self.path, str(exc)) from None
        with self._failing():
            if self._stream is None:
                make_parent(self.path)
                self._stream = open(self.temporary, "x+b")
                self._start()
            self._append(image, dpi, provenance)
            if self._reader is not None:
                self._reader.read(pixels, dpi)
        self.pages += 1

    def finish(self) -> Path:
        """Complete the file and rename it onto ``path`` (replacing a file there); returns ``path``."""
        if self._stream is None:
            raise ImageWriteError(self.path, "no page of it could be cleaned, so it was not written")
        with self._failing():
            self._end()
            self._stream.flush()
            os.fsync(self._stream.fileno())
            self._stream.close()
            readings = self._reader.readings() if self._reader is not None else []
            finished = self.temporary
            if isinstance(self, PdfWriter):
                self._finished = partial_path(self.path)
                finished = finish_pdf(self.temporary, [reading.layer for reading in readings], self.pdfa,
                                      self.path, self._finished)
            if self.text:  # a page a form feed, as pdftotext
                write_text(self.path.with_suffix(".txt"), "".join(reading.text + "\f" for reading in readings))
            os.replace(finished, self.path)
            self.abort()  # what is left: the reader's scratch folder, and the first pass when there were two
        return self.path

    def abort(self) -> None:
        """Remove the temporary file, if any; never raises."""
        if self._reader is not None:
            self._reader.close()
        try:
            if self._stream is not None:
                self._stream.close()
            self.temporary.unlink(missing_ok=True)
            if self._finished is not None:
                self._finished.unlink(missing_ok=True)
        except OSError:
            pass  # left for remove_leftovers: the next run removes it

    @contextmanager
    def _failing(self) -> Iterator[None]:
        try:
            yield
        except BaseException as exc:
            # Includes KeyboardInterrupt: the temporary file must never outlive a failed write.
            self.abort()
            if isinstance(exc, ImageWriteError):
                raise
            if isinstance(exc, OSError):
                raise ImageWriteError(self.path, write_reason(exc)) from None
            raise

    @property
    def _out(self) -> BinaryIO:
        """The temporary file, for the writers' _start, _append and _end: open from the first page on."""
        assert self._stream is not None, "a document's file is written from its first page on"
        return self._stream

    def _start(self) -> None:
        """Write what comes before the first page."""

    def _append(self, image: Image.Image, dpi: Optional[tuple[float, float]],
                provenance: Optional[Provenance]) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        """Write what comes after the last page."""


def open_document(path: Path, ocr: str = "", text: bool = False, jpeg_quality: Optional[int] = None,
                  pdfa: Optional[PdfA] = None) -> DocumentWriter:
    """A DocumentWriter for ``path``: a PDF for .pdf, a multi-page TIFF for .tif/.tiff; with ``ocr`` (Tesseract's
    languages) a PDF gets a text layer, and with ``text`` the text goes beside it too.  A PDF's grey and colour
    pages are JPEG at ``jpeg_quality`` (None: lossless); with ``pdfa`` it is made that PDF/A and checked."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return PdfWriter(path, ocr, text, jpeg_quality, pdfa)
    if suffix in (".tif", ".tiff"):
        if pdfa is not None:
            raise ConfigurationError(f"{path.name}: PDF/A is a kind of PDF; a TIFF cannot be one")
        return TiffWriter(path, ocr, text)
    raise ConfigurationError(f"{path.name}: only PDF and TIFF files hold several pages")


class TiffWriter(DocumentWriter):
    """A multi-page TIFF: LZW for grey pages, CCITT G4 for black and white, each page's provenance in its own tags."""

    def _start(self) -> None:
        # Pillow's own writer of multi-page TIFFs: it links each page written into it to the last.
        self._frames = TiffImagePlugin.AppendingTiffWriter(self._out)

    def _append(self, image: Image.Image, dpi: Optional[tuple[float, float]],
                provenance: Optional[Provenance]) -> None:
        options = {**format_options("TIFF", dpi, image.mode == "1"), **provenance_options("TIFF", provenance)}
        image.save(self._frames, format="TIFF", **options)
        self._frames.newFrame()


class PdfWriter(DocumentWriter):
    """A PDF of image pages, written object by object; the page tree and cross-reference table come last."""

    # Objects 1 to 3 are written last, when every page is known.
    _CATALOG, _PAGES, _INFO = 1, 2, 3

    def _start(self) -> None:
        self._offsets: dict[int, int] = {}
        self._kids: list[int] = []
        self._provenances: list[Optional[Provenance]] = []
        # The binary comment tells file transfer tools the file is not text.
        self._out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _append(self, image: Image.Image, dpi: Optional[tuple[float, float]],
                provenance: Optional[Provenance]) -> None:
        entries, data = _pdf_image(image, self.jpeg_quality)
        width, height = page_size(image.size, dpi)
        space = b"/DeviceRGB" if image.mode == "RGB" else b"/DeviceGray"
        picture = self._object(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s %s >>"
                               % (image.width, image.height, space, entries), data)
        drawing = b"q %s 0 0 %s 0 0 cm /Im0 Do Q" % (_number(width - _INSET), _number(height - _INSET))
        contents = self._object(b"<< >>", drawing)
        self._kids.append(self._object(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << /XObject << /Im0 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (self._PAGES, _number(width), _number(height), picture, contents)))
        self._provenances.append(provenance)

    def _end(self) -> None:
        kids = b" ".join(b"%d 0 R" % kid for kid in self._kids)
        self._object(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self._kids)), number=self._PAGES)
        self._object(b"<< /Type /Catalog /Pages %d 0 R >>" % self._PAGES, number=self._CATALOG)
        info = b"/Producer %s" % _pdf_text("DocClean")
        recorded = [provenance for provenance in self._provenances if provenance is not None]
        if recorded and len(recorded) == len(self._provenances):  # every page says what made it
            info += b" /DocClean %s" % _pdf_text(pdf_record(recorded))
        self._object(b"<< %s >>" % info, number=self._INFO)
        self._cross_references()

    def _object(self, dictionary: bytes, stream: Optional[bytes] = None, number: Optional[int] = None) -> int:
        """Write an object (a stream when ``stream`` is given); returns its number."""
        if number is None:
            number = max(self._offsets.keys() | {self._INFO}) + 1
        self._offsets[number] = self._out.tell()
        self._out.write(b"%d 0 obj\n" % number)
        if stream is None:
            self._out.write(dictionary + b"\nendobj\n")
        else:
            self._out.write(dictionary[:-2] + b"/Length %d >>\nstream\n" % len(stream))
            self._out.write(stream)
            self._out.write(b"\nendstream\nendobj\n")
        return number

    def _cross_references(self) -> None:
        size = max(self._offsets) + 1
        start = self._out.tell()
        # Every entry is 20 bytes: 10-digit offset, 5-digit generation, n (in use) or f (free).
        lines = [b"xref\n0 %d\n0000000000 65535 f\r\n" % size]
        lines += [b"%010d 00000 n\r\n" % self._offsets[number] for number in range(1, size)]
        self._out.write(b"".join(lines))
        self._out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                        % (size, self._CATALOG, self._INFO, start))


# The largest paper size in use, A0 (841 x 1189 mm), in inches: a page larger at the resolution its
# file claims has a wrong one (1-bit TIFFs often say 72 dpi: a 300 dpi A4 scan would be 0.9 x 1.2 m).
_A0_INCHES = (841 / 25.4, 1189 / 25.4)


def page_dpi(dpi: Optional[tuple[float, float]], shape: tuple[int, int],
             override: Optional[float] = None) -> tuple[Optional[tuple[float, float]], Optional[str]]:
    """The resolution to write a page of ``shape`` (height, width) at, and a note when it is not its file's ``dpi``.

    ``override`` (a user's choice) wins.  A page larger than A0 at the
    resolution its file claims, below DEFAULT_DPI, is written at DEFAULT_DPI,
    with a note saying so: otherwise a PDF page a metre and a half tall.
    """
    if override is not None:
        return (float(override), float(override)), None
    if dpi is None:
        return None, None
    height, width = shape
    across, down = width / dpi[0], height / dpi[1]
    short, long = sorted((across, down))
    if (short <= _A0_INCHES[0] and long <= _A0_INCHES[1]) or min(dpi) >= DEFAULT_DPI:
        return dpi, None
    claimed = f"{dpi[0]:g} dpi" if dpi[0] == dpi[1] else f"{dpi[0]:g} x {dpi[1]:g} dpi"
    return (DEFAULT_DPI, DEFAULT_DPI), (
        f"its file says {claimed}, which would make the page {across * 0.0254:.2f} x {down * 0.0254:.2f} m, "
        f"larger than A0: written at {DEFAULT_DPI:g} dpi")


def page_size(pixels: tuple[int, int], dpi: Optional[tuple[float, float]]) -> tuple[float, float]:
    """(width, height) in points of a page of ``pixels`` (width, height) at ``dpi`` (DEFAULT_DPI if None)."""
    across, down = dpi or (DEFAULT_DPI, DEFAULT_DPI)
    return pixels[0] * _POINTS_PER_INCH / across, pixels[1] * _POINTS_PER_INCH / down


def _number(value: float) -> bytes:
    return (b"%.4f" % value).rstrip(b"0").rstrip(b".")


def _pdf_text(text: str) -> bytes:
    """A PDF text string: hex, so no character needs escaping (UTF-16 when not ASCII)."""
    data = text.encode("ascii") if text.isascii() else b"\xfe\xff" + text.encode("utf-16-be")
    return b"<" + data.hex().encode() + b">"


def _pdf_image(image: Image.Image, jpeg_quality: Optional[int] = None) -> tuple[bytes, bytes]:
    """The image dictionary's encoding entries and the data of ``image``, the smallest of the codings it may
    have: a grey or colour page as a JPEG at ``jpeg_quality`` unless its pixels exactly (Flate) are smaller,
    as they are for a clean page of text, whose sharp edges JPEG spends the most on; a black-and-white page
    in Group 4 or Flate, both exact: Group 4 is a half to a third of Flate on text, but twice it and more
    on the dither of a picture."""
    bits = 1 if image.mode == "1" else 8
    colours = 3 if image.mode == "RGB" else 1
    entries, data = (b"/BitsPerComponent %d /Filter /FlateDecode "
                     b"/DecodeParms << /Predictor 15 /Colors %d /BitsPerComponent %d /Columns %d >>"
                     % (bits, colours, bits, image.width)), _png_data(image)
    if image.mode == "1":
        strip = _group4_data(image)
        if strip is not None and len(strip) < len(data):
            return (b"/BitsPerComponent 1 /Filter /CCITTFaxDecode "
                    b"/DecodeParms << /K -1 /Columns %d /Rows %d /BlackIs1 true >>" % image.size), strip
    elif jpeg_quality is not None:
        jpeg = _jpeg_data(image, jpeg_quality)
        if len(jpeg) < len(data):
            return b"/BitsPerComponent 8 /Filter /DCTDecode", jpeg
    return entries, data


def _png_data(image: Image.Image) -> bytes:
    """The compressed pixel data of ``image`` as a PNG: what PDF's Flate filter with the PNG predictor reads."""
    encoded = io.BytesIO()
    image.save(encoded, format="PNG", **format_options("PNG", None))
    png, chunks, position = encoded.getbuffer(), [], 8  # after the PNG signature
    while position < len(png):
        length, kind = struct.unpack_from(">I4s", png, position)
        if kind == b"IDAT":
            chunks.append(bytes(png[position + 8:position + 8 + length]))
        position += 12 + length  # length, type, data, CRC
    return b"".join(chunks)


def _jpeg_data(image: Image.Image, quality: int) -> bytes:
    """``image`` as a baseline JPEG at ``quality``, with Huffman tables fitted to it (some 5 % smaller)."""
    encoded = io.BytesIO()
    image.save(encoded, format="JPEG", quality=quality, optimize=True)
    return encoded.getvalue()


def _group4_data(image: Image.Image) -> Optional[bytes]:
    """``image`` (mode "1") coded in CCITT Group 4 by libtiff, or None if it did not come out as one strip."""
    encoded = io.BytesIO()
    # One strip: PDF takes a single Group 4 stream (older Pillow ignores strip_size and makes several).
    image.save(encoded, format="TIFF", compression="group4", strip_size=2 ** 31 - 1)
    with Image.open(encoded) as tiff:
        assert isinstance(tiff, TiffImagePlugin.TiffImageFile)  # written as a TIFF just above
        offsets, counts = tiff.tag_v2.get(273), tiff.tag_v2.get(279)
        photometric = tiff.tag_v2.get(262)
    if offsets is None or counts is None or len(offsets) != 1 or photometric != 1:
        return None
    return encoded.getvalue()[offsets[0]:offsets[0] + counts[0]]
