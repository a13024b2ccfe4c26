"""The raster reader: scanned pages of image files (PNG, JPEG, TIFF, BMP, WebP) as grey images.

Every page the engine works on is a 2-D grey array (float32 in [0, 1] or
uint8; 0 = black ink, 1 = white paper) at the file's full resolution.  This
module is the only place that knows about raster formats, colour modes, EXIF
orientation, multi-page TIFFs and DPI; engine.io.pages hands it every file
that is not a PDF.
"""
from __future__ import annotations

import ctypes
import glob
import math
import os
import struct
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, features

from engine.errors import ImageReadError
from engine.io.page_types import (MAX_PAGE_PIXELS, SUPPORTED_SUFFIXES, Damage, Page, PageRef, limit_words,
                                  reading)
from engine.io.pixels import to_uint8

# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that, as a
# possible "decompression bomb"; its default (~89 MP) would stop real
# large-format scans, so pages within the budget must pass it silently.  A
# limit the host application set higher (or disabled) is left alone: the
# budget above is checked in any case.
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < MAX_PAGE_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PAGE_PIXELS

def _silence_libtiff() -> bool:
    """Stop libtiff printing its decoders' complaints ("Fax4Decode: Bad code word ...") on stderr.

    libtiff writes each error and warning to the process's stderr from C, past
    Python; a damaged TIFF is reported to the user once, by name, as an
    ImageReadError (or read as far as it goes).  Its handlers are process-wide
    and set once here (redirecting file descriptor 2 around each decode would
    swallow what other threads print meanwhile).  Finds the libtiff Pillow
    loaded (its wheels bundle one); returns whether it did.
    """
    if not features.check("libtiff"):
        return False
    candidates = []
    try:
        with open("/proc/self/maps") as maps:  # Linux: the very file loaded
            candidates = sorted({line.split()[-1] for line in maps if "libtiff" in line.rsplit("/", 1)[-1]})
    except OSError:
        pass
    pil_folder = os.path.dirname(Image.__file__)
    for pattern in ("../pillow.libs/libtiff*", ".dylibs/libtiff*"):  # Linux and macOS wheels
        candidates += glob.glob(os.path.join(pil_folder, pattern))
    for candidate in candidates:
        try:
            library = ctypes.CDLL(candidate)
            library.TIFFSetErrorHandler.restype = library.TIFFSetWarningHandler.restype = ctypes.c_void_p
            library.TIFFSetErrorHandler.argtypes = library.TIFFSetWarningHandler.argtypes = [ctypes.c_void_p]
            library.TIFFSetErrorHandler(None)
            library.TIFFSetWarningHandler(None)
        except (OSError, AttributeError):
            continue
        return True
    return False


_LIBTIFF_SILENT = sys.platform != "win32" and _silence_libtiff()

# The finest resolution taken as real: drum scanners reach 12,000 dpi.
MAX_DPI = 100_000.0

# EXIF orientations 5..8 turn the picture by 90 degrees, which swaps width and
# height (and the horizontal and vertical DPI).
_EXIF_ORIENTATION_TAG = 0x0112
_TRANSPOSING_ORIENTATIONS = frozenset({5, 6, 7, 8})
# How each EXIF orientation is undone on a (rows, columns) array: flip the
# rows, flip the columns, then transpose (what ImageOps.exif_transpose does,
# done on the grey page so a colour page is never copied whole).
_UPRIGHT = {
    2: (False, True, False), 3: (True, True, False), 4: (True, False, False),
    5: (False, False, True), 6: (True, False, True), 7: (True, True, True), 8: (False, True, True),
}

# Pages are converted to grey a band of rows at a time, so that besides the
# decoded image only the grey result and one band are in memory.
_STRIP_PIXELS = 4_000_000



def _open(path: Path) -> ImageFile.ImageFile:
    """Open ``path`` lazily (header only), turning every failure into ImageReadError."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        if not os.path.lexists(path):
            raise ImageReadError(path, "no such file or folder")
        shown = suffix or "(no extension)"
        raise ImageReadError(path, f"unsupported format {shown}")
    with reading(path, "corrupt image header"):
        return Image.open(path)


def _check_size(image: Image.Image, path: Path) -> None:
    """Refuse, from the header alone, a page with no pixels or over MAX_PAGE_PIXELS."""
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageReadError(path, f"the page has no pixels ({width} x {height})")
    if width * height > MAX_PAGE_PIXELS:
        megapixels = math.ceil(width * height / 1e6)
        raise ImageReadError(path, f"{megapixels:,} megapixels ({width} x {height}) is over {limit_words()}")


def _frame_count(image: Image.Image) -> int:
    # Only TIFF frames are pages; animated PNG/WebP frames are not pages of a
    # document, so those files are read as their first frame.
    if image.format != "TIFF":
        return 1
    try:
        return max(1, int(getattr(image, "n_frames", 1)))
    except Exception:  # noqa: BLE001 - any damage to the chain of pages
        # A damaged link to a next page: the pages before it are read, and one
        # more page is listed so that reading it reports the damage by name.
        # The failed count leaves Pillow on a phantom frame holding page 1's
        # pixels, so each probe starts again from page 1.
        image.seek(0)
        readable = 1
        while True:
            try:
                image.seek(readable)
            except Exception:  # noqa: BLE001 - as above
                image.seek(0)
                return readable + 1
            readable += 1


def list_pages(path: str | os.PathLike[str]) -> list[PageRef]:
    """Return one PageRef per page of ``path`` (one per TIFF frame or PDF page) without decoding pixels.

    Raises ImageReadError naming the file if it is missing, not a readable
    image, or a single page over MAX_PAGE_PIXELS (a page of a multi-page file
    over the limit is refused when it is read, so the other pages are kept).
    """
    path = Path(path)
    with _open(path) as image:
        count = _page_count(image, path)
        if count == 1:
            _check_size(image, path)
    return [PageRef(path, i, count) for i in range(count)]


def _orientation(image: Image.Image, header_only: bool = False) -> int:
    """EXIF orientation 1..8 (1 = upright).

    With ``header_only``, a PNG whose EXIF block was not seen before the
    pixel data counts as upright: looking further would decode the whole image.
    """
    if header_only and image.format == "PNG" and "exif" not in image.info:
        return 1
    try:
        orientation = int(image.getexif().get(_EXIF_ORIENTATION_TAG, 1))
    except Exception:  # noqa: BLE001 - a damaged EXIF block should not make the page unreadable
        return 1
    return orientation if orientation in _UPRIGHT else 1


def image_size(path: str | os.PathLike[str], index: int = 0) -> tuple[int, int]:
    """Return (height, width) in pixels of page ``index`` as read_page would return it.

    Cheap: reads the header only.  EXIF rotations by 90 degrees are taken
    into account (for PNG only when the EXIF block precedes the pixel data,
    as it does in practice).  Raises ImageReadError naming the file, also
    for a page over MAX_PAGE_PIXELS.
    """
    path = Path(path)
    with _open(path) as image:
        _seek(image, path, index, _page_count(image, path))
        width, height = image.size
        if _orientation(image, header_only=True) in _TRANSPOSING_ORIENTATIONS:
            width, height = height, width
    return height, width


def _page_count(image: Image.Image, path: Path) -> int:
    with reading(path, "corrupt multi-page file"):
        return _frame_count(image)


def _seek(image: Image.Image, path: Path, index: int, count: int) -> None:
    """Go to page ``index`` of ``count`` and check its size against the budget."""
    if not 0 <= index < count:
        raise ImageReadError(path, f"has no page {index + 1} (it has {count})")
    if index:
        with reading(path, "the file is damaged", where=f"cannot read page {index + 1}: "):
            image.seek(index)
    _check_size(image, path)


def _read_dpi(image: Image.Image) -> tuple[float, float] | None:
    dpi = image.info.get("dpi")
    if dpi is None:
        return None
    try:
        x, y = (float(v) for v in dpi)
    except (TypeError, ValueError, ArithmeticError):
        return None
    # Files without resolution often store 0 or 1; those are not real DPI,
    # nor is anything past MAX_DPI (a damaged tag, which PNG could not even store).
    if not (1 < x <= MAX_DPI and 1 < y <= MAX_DPI):
        return None
    return (x, y)


def _check_coverage(image: ImageFile.ImageFile) -> None:
    """Refuse a page whose pixel data, as its header lays it out, covers only part of it.

    A damaged height in a TIFF header otherwise decodes into the few real rows
    and a page of black below them, without any error from Pillow.
    """
    if not image.tile:  # decoded without tiles (WebP)
        return
    width, height = image.size
    whole = (0, 0, width, height)  # a tile without extents is decoded into the whole page
    covered = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in (tile[1] or whole for tile in image.tile))
    if covered < width * height:
        raise Damage("the pixel data covers only part of the page")


def _check_png_checksums(image: ImageFile.ImageFile, path: Path) -> None:
    """Refuse a PNG whose pixel data (IDAT chunks) fails its CRC.

    Pillow skips these checksums when decoding, so a damaged chunk that still
    inflates becomes a page of wrong pixels.  Only a mismatch is reported
    here: a file cut short is left to the decoder, which says "truncated".
    """
    if not image.tile:
        return
    with open(path, "rb") as file:
        file.seek(image.tile[0][2] - 8)  # the length and type of the first IDAT chunk
        while True:
            header = file.read(8)
            if len(header) < 8 or header[4:] != b"IDAT":
                return  # the pixel data ends at the first other chunk
            crc = _crc32_of_next(file, struct.unpack(">I", header[:4])[0], zlib.crc32(b"IDAT"))
            stored = file.read(4)
            if crc is None or len(stored) < 4:
                return
            if struct.unpack(">I", stored)[0] != crc:
                raise Damage("the pixel data fails its checksum")


def _crc32_of_next(file: BinaryIO, length: int, crc: int) -> int | None:
    """CRC-32 continued over the next ``length`` bytes, read in blocks; None if the file ends first."""
    while length:
        block = file.read(min(length, 1 << 20))
        if not block:
            return None
        crc = zlib.crc32(block, crc)
        length -= len(block)
    return crc


def _white_background(image: Image.Image) -> Image.Image:
    """Composite an image with transparency onto white paper and return it as RGB."""
    rgba = image.convert("RGBA")
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(paper, rgba).convert("RGB")


def _strips(image: Image.Image) -> Iterator[tuple[slice, Image.Image]]:
    """The image in bands of rows: (rows, band) with the band a small Pillow image."""
    width, height = image.size
    rows = max(1, _STRIP_PIXELS // width)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        yield slice(top, bottom), image.crop((0, top, width, bottom))


_WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")

# How far above white (as a factor) the largest value of a float image may be.
_RANGE_TOLERANCE = 1.5


def _float_scale(image: Image.Image) -> float:
    """What white is in a float ("F") image: 1, 255 or 65535, judged from its largest value.

    Float TIFFs come from tools that keep [0, 1] and from tools that keep the
    0..255 or 0..65535 of the scan; a maximum a little above a range's white
    (overshoot from sharpening, rounding) still counts as that range.
    """
    largest = 0.0
    for _, strip in _strips(image):
        values = np.asarray(strip, dtype=np.float32)
        largest = max(largest, float(np.max(values, where=np.isfinite(values), initial=0.0)))
    for white in (1.0, 255.0):
        if largest <= white * _RANGE_TOLERANCE:
            return white
    return 65535.0


def _grey_values(strip: Image.Image, float_white: float) -> np.ndarray:
    """float32 grey in [0, 1] of a band in any supported mode."""
    if strip.mode == "F":
        values = np.array(strip, dtype=np.float32)
        np.divide(values, np.float32(float_white), out=values)
        np.nan_to_num(values, copy=False, nan=1.0)  # no value: paper
        return np.clip(values, 0.0, 1.0, out=values)
    if strip.mode in _WIDE_MODES:
        # 16-bit grey (PNG/TIFF); mode "I" is how Pillow widens 16-bit data.
        values = np.asarray(strip).astype(np.float32)
        np.divide(values, 65535.0, out=values)
        return np.clip(values, 0.0, 1.0, out=values)
    values = np.asarray(_to_grey_8bit(strip)).astype(np.float32)
    np.divide(values, 255.0, out=values)
    return values


def _to_grey(image: Image.Image, dtype: type = np.float32) -> np.ndarray:
    """Convert a decoded Pillow image of any supported mode to grey:
    float32 in [0, 1], or uint8 when ``dtype`` is np.uint8 (a quarter of the
    memory, for huge scans).  Done a band of rows at a time, so a colour page
    never has a second full-size copy."""
    width, height = image.size
    grey = np.empty((height, width), np.dtype(dtype))
    float_white = _float_scale(image) if image.mode == "F" else 1.0
    for rows, strip in _strips(image):
        if grey.dtype == np.uint8 and strip.mode not in _WIDE_MODES:
            grey[rows] = np.asarray(_to_grey_8bit(strip))
        elif grey.dtype == np.uint8:
            grey[rows] = to_uint8(_grey_values(strip, float_white))
        else:
            grey[rows] = _grey_values(strip, float_white)
    return grey


def _to_grey_8bit(image: Image.Image) -> Image.Image:
    """An 8-bit grey ("L") version of an image in any 8-bit mode."""
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        image = _white_background(image)
    elif mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        image = _white_background(image)
    if image.mode != "L":
        # Pillow's own conversion (ITU-R 601 luma) works in 8 bits in C.
        try:
            image = image.convert("L")
        except ValueError:
            # Modes such as LAB or HSV have no direct route to grey.
            image = image.convert("RGB").convert("L")
    return image


def _upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The page turned and flipped as its EXIF orientation says it should be shown."""
    if orientation not in _UPRIGHT:
        return pixels
    flip_rows, flip_columns, transpose = _UPRIGHT[orientation]
    turned = pixels[::-1 if flip_rows else 1, ::-1 if flip_columns else 1]
    return np.ascontiguousarray(turned.T if transpose else turned)


def _decode_frame(image: ImageFile.ImageFile, ref: PageRef, dtype: type = np.float32) -> Page:
    """Decode the frame ``image`` is positioned on into an upright grey Page."""
    dpi = _read_dpi(image)
    with reading(ref.path, where=f"cannot read page {ref.index + 1}: " if ref.count > 1 else ""):
        _check_coverage(image)
        if image.format == "PNG":
            _check_png_checksums(image, ref.path)
        # Decode before anything else looks at the file: reading the EXIF of a
        # PNG decodes the pixels too, and a failure there must not be lost.
        image.load()
        orientation = _orientation(image)
        pixels = _upright(_to_grey(image, dtype), orientation)
    if dpi is not None and orientation in _TRANSPOSING_ORIENTATIONS:
        dpi = (dpi[1], dpi[0])
    return Page(pixels=pixels, ref=ref, dpi=dpi)


def read_page(path: Path, index: int = 0, dtype: type = np.float32) -> Page:
    """Decode page ``index`` of the image file ``path`` as grey of ``dtype``, upright (see engine.io.pages.read_page)."""
    with _open(path) as image:
        count = _page_count(image, path)
        _seek(image, path, index, count)
        return _decode_frame(image, PageRef(path, index, count), dtype)


def read_pages(path: str | os.PathLike[str]) -> list[Page]:
    """Read every page of ``path`` (all TIFF frames or PDF pages) as float32 grey pages in [0, 1]."""
    path = Path(path)
    pages = []
    with _open(path) as image:
        count = _page_count(image, path)
        for index in range(count):
            _seek(image, path, index, count)
            pages.append(_decode_frame(image, PageRef(path, index, count)))
    return pages
