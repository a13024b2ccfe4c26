"""Pages of PDF files, rendered as grey pages at the resolution they were scanned at.

A scanned PDF page is usually one embedded image covering the page.  Such a
page is rendered at that image's own resolution (its pixels over the page's
size in inches), so nothing is upsampled or lost; a page that is not a scan
(born-digital text and drawings) is rendered at BORN_DIGITAL_DPI.  Opening a
PDF to list its pages renders nothing, and reading a page renders that page
only.  engine.io.pages hands every ".pdf" here; this module builds on
engine.io.page_types alone, never on the raster reader.
"""
from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from engine.errors import ImageReadError
from engine.io.page_types import MAX_PAGE_PIXELS, Page, PageRef, limit_words, reading
from engine.io.pixels import to_unit

# The resolution of a page that is not a scan: what a 300 dpi scan of the
# printed page would give, the resolution the bundled models were trained at.
BORN_DIGITAL_DPI = 300.0

# A page counts as a scan when its images cover at least this share of it.
# Among images at least this share of the largest one, the finest resolution
# is taken: a scanner's compression (MRC) may lay a fine black-and-white
# layer over a coarse colour one, and some scanners cut a page into strips;
# small pictures on a born-digital page decide nothing.
_SCANNED_SHARE = 0.5

# A page-wide image coarser than this is a background tint, not a scan of
# text: rendering at its resolution would blur the page's text to nothing.
_MIN_SCAN_DPI = 50.0

_POINTS_PER_INCH = 72.0

# PDFium keeps global state and is not thread-safe, while the batch reads pages
# on a reader thread and the app reads thumbnails and previews on pool threads:
# every PDFium call in DocClean goes through this one lock (code writing PDFs
# with pypdfium2 must take it too).  Re-entrant, so helpers may take it again.
PDFIUM_LOCK = threading.RLock()

# Why PDFium could not open a file, by its error code (the other codes mean damage).
_OPEN_FAILURES = {
    pdfium_c.FPDF_ERR_PASSWORD: "the PDF is protected by a password",
    pdfium_c.FPDF_ERR_SECURITY: "the PDF is encrypted in a way DocClean cannot read",
}
_DAMAGED = "damaged PDF"
# PDF readers look for the header and the end marker this far into either end.
_MARKER_REACH = 1024

# Annotations (stamps, filled-in form fields) are part of what the page shows;
# grey output is what the engine works on.
_RENDER_FLAGS = pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_GRAYSCALE
_WHITE = (255, 255, 255, 255)


# ---------------------------------------------------------------- documents and pages


@contextmanager
def _document(path: Path) -> Iterator[pdfium.PdfDocument]:
    """``path`` opened by PDFium; the PDFium lock is held until it is closed."""
    with PDFIUM_LOCK:
        document = _open(path)
        try:
            yield document
        finally:
            # Closed here, under the lock: left to the garbage collector, PDFium
            # would free it on whichever thread collects it.
            document.close()


def _open(path: Path) -> pdfium.PdfDocument:
    with reading(path, _DAMAGED):
        # Opened by Python first, for the system's reason (missing, a folder,
        # no permission) in words: PDFium only says "file access error".
        open(path, "rb").close()
        # Loaded here rather than by PdfDocument(path), which refuses a PDF of
        # no pages with the error code of the last failed load, whatever file that was.
        raw = pdfium_c.FPDF_LoadDocument(os.fsencode(path) + b"\0", None)
        if not raw:
            raise ImageReadError(path, _OPEN_FAILURES.get(pdfium_c.FPDF_GetLastError()) or _damage(path))
        document = pdfium.PdfDocument(raw)
        if len(document) < 1:
            document.close()
            raise ImageReadError(path, "the PDF has no pages")
        return document


def _damage(path: Path) -> str:
    """Why PDFium found ``path`` unreadable, as far as its two ends tell."""
    with open(path, "rb") as file:
        head = file.read(_MARKER_REACH)
        file.seek(max(0, file.seek(0, 2) - _MARKER_REACH))
        tail = file.read()
    if not head:
        return "the file is empty"
    if b"%PDF-" not in head:
        return "not a PDF file"
    if b"%%EOF" not in tail:
        return f"{_DAMAGED} (the file is cut short)"
    return _DAMAGED


def _where(ref: PageRef) -> str:
    return f"cannot read page {ref.index + 1}: " if ref.count > 1 else ""


@contextmanager
def _page(document: pdfium.PdfDocument, ref: PageRef) -> Iterator[pdfium.PdfPage]:
    """Page ``ref.index`` of ``document``; whatever fails while it is used fails that page alone."""
    if not 0 <= ref.index < ref.count:
        raise ImageReadError(ref.path, f"has no page {ref.index + 1} (it has {ref.count})")
    with reading(ref.path, "damaged page", where=_where(ref)):
        page = document.get_page(ref.index)
        try:
            yield page
        finally:
            page.close()


def _refs(document: pdfium.PdfDocument, path: Path) -> list[PageRef]:
    count = len(document)
    return [PageRef(path, index, count) for index in range(count)]


# ---------------------------------------------------------------- resolution


def _placement(image: pdfium.PdfImage) -> tuple[float, float]:
    """(area on the page in square points, resolution in dpi) of an image object.

    The image's matrix maps its unit square onto the page; inside a form
    (an XObject drawn by the page) the form's own matrix comes on top.
    """
    matrix = image.get_matrix()
    container = image.container
    while container is not None:
        matrix = matrix.multiply(container.get_matrix())
        container = container.container
    a, b, c, d = matrix.a, matrix.b, matrix.c, matrix.d
    width_in, height_in = math.hypot(a, b) / _POINTS_PER_INCH, math.hypot(c, d) / _POINTS_PER_INCH
    if width_in <= 0 or height_in <= 0:
        return 0.0, 0.0
    pixels_wide, pixels_high = image.get_px_size()
    # The finer direction, so that neither loses detail (scans are square in practice).
    return abs(a * d - b * c), max(pixels_wide / width_in, pixels_high / height_in)


def _scan_dpi(page: pdfium.PdfPage) -> float | None:
    """The resolution of the scan ``page`` is made of, or None if it is not a scan.

    Looks at the page's image objects (their pixel size and placement) only:
    no image is decoded.
    """
    page_width, page_height = page.get_size()
    images = [_placement(image) for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])]
    images = [(area, dpi) for area, dpi in images if area > 0]
    if not images or sum(area for area, _ in images) < _SCANNED_SHARE * page_width * page_height:
        return None
    largest = max(area for area, _ in images)
    dpi = max(dpi for area, dpi in images if area >= _SCANNED_SHARE * largest)
    return dpi if dpi >= _MIN_SCAN_DPI else None


def _check_images(page: pdfium.PdfPage, ref: PageRef) -> None:
    """Refuse, before anything is rendered, a page holding an image over MAX_PAGE_PIXELS.

    PDFium decodes an image whole, at its own size, whatever size the page is
    rendered at: a 30,000 x 30,000 scan costs gigabytes however small the
    output.  So the pixel budget holds for a PDF's images as for image files.
    """
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        width, height = image.get_px_size()
        if width * height > MAX_PAGE_PIXELS:
            megapixels = math.ceil(width * height / 1e6)
            raise ImageReadError(ref.path, f"{_where(ref)}the page holds an image of {megapixels:,} megapixels "
                                           f"({width} x {height}), over {limit_words()}")


def _render_size(page: pdfium.PdfPage, ref: PageRef) -> tuple[int, int, Optional[str]]:
    """(width, height) in pixels to render ``page`` at, within MAX_PAGE_PIXELS, and a note if it had to be less.

    The resolution is the page's scan's, or BORN_DIGITAL_DPI for a page that
    is no scan.  A page holding an image over the budget is refused
    (_check_images).  A page over the budget at that resolution (a poster
    drawn at 300 dpi) is rendered at the finest resolution within it, rather
    than refused as an image file would be: a PDF page has no pixel size of
    its own, so the budget can always be kept, and 400 megapixels is still
    ~1,900 dpi on A4 or ~560 dpi on A0.  The note says so, and the
    resolution used is told in Page.dpi.
    """
    width_pt, height_pt = page.get_size()  # with the page's /Rotate applied
    if not (width_pt > 0 and height_pt > 0):
        raise ImageReadError(ref.path, f"{_where(ref)}the page has no size")
    _check_images(page, ref)
    wanted = (_scan_dpi(page) or BORN_DIGITAL_DPI) / _POINTS_PER_INCH
    scale = min(wanted, math.sqrt(MAX_PAGE_PIXELS / (width_pt * height_pt)))
    # Rounded, not ceiled as pypdfium2 does: page sizes are stored as floats,
    # and 420 pixels at 150 dpi must not become 421.
    width, height = max(1, round(width_pt * scale)), max(1, round(height_pt * scale))
    while width * height > MAX_PAGE_PIXELS:  # rounding up past the budget
        width, height = max(1, width - 1), max(1, height - 1)
    note = None
    if scale < wanted:
        note = (f"{_where(ref)}read at {scale * _POINTS_PER_INCH:.0f} dpi instead of {wanted * _POINTS_PER_INCH:.0f}: "
                f"at {wanted * _POINTS_PER_INCH:.0f} dpi the page would be over the "
                f"{MAX_PAGE_PIXELS / 1e6:,.0f}-megapixel limit for one page")
    return width, height, note


def _dpi(page: pdfium.PdfPage, width: int, height: int) -> tuple[float, float]:
    width_pt, height_pt = page.get_size()
    return (round(width * _POINTS_PER_INCH / width_pt, 2), round(height * _POINTS_PER_INCH / height_pt, 2))


def _render(page: pdfium.PdfPage, width: int, height: int, colour: bool = False) -> np.ndarray:
    """The page as uint8 grey (height, width), or RGB (height, width, 3), upright as its /Rotate says."""
    channels = 3 if colour else 1
    # PDFium draws straight into the array's memory: no copy of the page.
    pixels = np.empty(width * height * channels, np.uint8)
    bitmap = pdfium.PdfBitmap.new_native(
        width, height, pdfium_c.FPDFBitmap_BGR if colour else pdfium_c.FPDFBitmap_Gray,
        buffer=np.ctypeslib.as_ctypes(pixels), stride=width * channels,
    )
    try:
        bitmap.fill_rect(_WHITE, 0, 0, width, height)
        # Rotation 0 means "as the page says": PDFium applies /Rotate itself.
        flags = _RENDER_FLAGS & ~pdfium_c.FPDF_GRAYSCALE if colour else _RENDER_FLAGS
        pdfium_c.FPDF_RenderPageBitmap(bitmap, page, 0, 0, width, height, 0, flags)
    finally:
        bitmap.close()
    if colour:
        return np.ascontiguousarray(pixels.reshape(height, width, 3)[..., ::-1])  # PDFium's BGR as RGB
    return pixels.reshape(height, width)


def _render_page(document: pdfium.PdfDocument, ref: PageRef) -> Page:
    """Page ``ref`` as uint8 grey: what needs PDFium (and its lock) to read a page."""
    with _page(document, ref) as page:
        width, height, note = _render_size(page, ref)
        return Page(pixels=_render(page, width, height), ref=ref, dpi=_dpi(page, width, height), note=note)


def _with_dtype(page: Page, dtype: type) -> Page:
    """``page`` with pixels of ``dtype`` (uint8 as rendered, or float32 in [0, 1])."""
    if np.dtype(dtype) != np.uint8:
        page.pixels = to_unit(page.pixels)
    return page


# ---------------------------------------------------------------- the readers' interface (see engine.io.pages)


def list_pages(path: Path) -> list[PageRef]:
    """One PageRef per page of the PDF ``path``; renders nothing and loads no page."""
    with _document(path) as document:
        return _refs(document, path)


def image_size(path: Path, index: int = 0) -> tuple[int, int]:
    """(height, width) in pixels page ``index`` renders at; reads the page's objects, renders nothing."""
    with _document(path) as document:
        ref = PageRef(path, index, len(document))
        with _page(document, ref) as page:
            width, height, _ = _render_size(page, ref)
    return height, width


def read_page(path: Path, index: int = 0, dtype: type = np.float32) -> Page:
    """Render page ``index`` of the PDF ``path`` (that page only) as a grey Page."""
    with _document(path) as document:
        page = _render_page(document, PageRef(path, index, len(document)))
    return _with_dtype(page, dtype)  # outside the lock: other threads' PDFs need not wait for it


def read_colour_pixels(path: Path, index: int = 0) -> np.ndarray:
    """Page ``index`` of the PDF ``path`` in colour, uint8 RGB (height, width, 3), at the size read_page renders it."""
    with _document(path) as document:
        ref = PageRef(path, index, len(document))
        with _page(document, ref) as page:
            width, height, _ = _render_size(page, ref)
            return _render(page, width, height, colour=True)


def read_pages(path: Path) -> list[Page]:
    """Render every page of the PDF ``path`` as float32 grey Pages."""
    with _document(path) as document:
        pages = [_render_page(document, ref) for ref in _refs(document, path)]
    return [_with_dtype(page, np.float32) for page in pages]
