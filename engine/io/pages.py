"""Reading scanned pages as grey images.

Every page the engine works on is a 2-D grey array (float32 in [0, 1] or
uint8; 0 = black ink, 1 = white paper) at the file's full resolution.  This
module is the only place that knows about input formats, colour modes, EXIF
orientation, multi-page TIFFs and DPI.
"""
from __future__ import annotations

import errno
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.io.pixels import to_uint8

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
)

# Pillow refuses images above ~179 megapixels as possible "decompression
# bombs".  A 600 dpi A3 scan is ~70 MP and large-format scans reach 400 MP
# (20000 x 20000), so allow up to 1 gigapixel (Pillow errors only at twice the
# limit).  Never lower a limit the host application set higher or disabled.
_MAX_PIXELS = 1_000_000_000
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < _MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = _MAX_PIXELS

# The finest resolution taken as real: drum scanners reach 12,000 dpi.
MAX_DPI = 100_000.0

# EXIF orientations 5..8 turn the picture by 90 degrees, which swaps width and
# height (and the horizontal and vertical DPI).
_EXIF_ORIENTATION_TAG = 0x0112
_TRANSPOSING_ORIENTATIONS = frozenset({5, 6, 7, 8})


class ImageReadError(Exception):
    """A page could not be read; ``str()`` is "<path>: <reason>"."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class PageRef:
    """One page of an image file: frame ``index`` (0-based) of ``count`` frames."""

    path: Path
    index: int = 0
    count: int = 1

    @property
    def label(self) -> str:
        """Name to show the user: "scan.tif" or "scan.tif [page 2/5]"."""
        if self.count > 1:
            return f"{self.path.name} [page {self.index + 1}/{self.count}]"
        return self.path.name

    @property
    def stem(self) -> str:
        """Base for output names: "scan", or "scan_p2" for page 2 of a multi-page file."""
        if self.count > 1:
            return f"{self.path.stem}_p{self.index + 1}"
        return self.path.stem


@dataclass
class Page:
    """A decoded page.

    ``pixels`` is float32, shape (height, width), grey values in [0, 1]
    (0 black, 1 white), upright (EXIF orientation applied), full resolution.
    ``dpi`` is (horizontal, vertical) dots per inch, or None if the file did
    not say.
    """

    pixels: np.ndarray
    ref: PageRef
    dpi: tuple[float, float] | None = None


# ---------------------------------------------------------------- reading


# Why the file system refused a file, in words (errno -> reason).
_OS_REASONS = {
    errno.ELOOP: "a symbolic link that points back to itself",
    errno.ENAMETOOLONG: "file name too long",
    errno.EIO: "the disk could not read it",
    errno.ENOTDIR: "a folder on its path is a file",
}


def _open(path: Path) -> Image.Image:
    """Open ``path`` lazily (header only), turning every failure into ImageReadError."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "(no extension)"
        raise ImageReadError(path, f"unsupported format {shown}")
    try:
        return Image.open(path)
    except FileNotFoundError:
        raise ImageReadError(path, "file not found") from None
    except IsADirectoryError:
        raise ImageReadError(path, "is a folder, not an image") from None
    except PermissionError:
        raise ImageReadError(path, "permission denied") from None
    except UnidentifiedImageError:
        raise ImageReadError(path, "not an image (or a format Pillow cannot read)") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(path, f"image too large to load safely ({exc})") from None
    except OSError as exc:
        if exc.errno is not None:  # the file system's refusal, not the image's content
            raise ImageReadError(path, _OS_REASONS.get(exc.errno, "cannot be opened")) from None
        raise ImageReadError(path, f"corrupt image header ({exc})") from None
    except (SyntaxError, ValueError, EOFError) as exc:
        raise ImageReadError(path, f"corrupt image header ({exc})") from None


# What Pillow raises for a damaged chain of TIFF pages (TypeError: "Missing dimensions").
_FRAME_ERRORS = (OSError, EOFError, ValueError, TypeError, SyntaxError, struct.error)


def _frame_count(image: Image.Image) -> int:
    # Only TIFF frames are pages; animated PNG/WebP frames are not pages of a
    # document, so those files are read as their first frame.
    if image.format != "TIFF":
        return 1
    try:
        return max(1, int(getattr(image, "n_frames", 1)))
    except _FRAME_ERRORS:
        # A damaged link to a next page: the pages before it are read, and one
        # more page is listed so that reading it reports the damage by name.
        readable = 1
        while True:
            try:
                image.seek(readable)
            except _FRAME_ERRORS:
                return readable + 1
            readable += 1


def list_pages(path: str | os.PathLike) -> list[PageRef]:
    """Return one PageRef per page of ``path`` (one per TIFF frame) without decoding pixels.

    Raises ImageReadError naming the file if it is missing or not a readable image.
    """
    path = Path(path)
    with _open(path) as image:
        try:
            count = _frame_count(image)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageReadError(path, f"corrupt multi-page file ({exc})") from None
    return [PageRef(path, i, count) for i in range(count)]


def _orientation(image: Image.Image, header_only: bool = False) -> int:
    """EXIF orientation 1..8 (1 = upright).

    With ``header_only``, a PNG whose EXIF block was not seen before the
    pixel data counts as upright: looking further would decode the whole image.
    """
    if header_only and image.format == "PNG" and "exif" not in image.info:
        return 1
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION_TAG, 1))
    except (OSError, SyntaxError, ValueError, TypeError):
        # A damaged EXIF block should not make the page unreadable.
        return 1


def image_size(path: str | os.PathLike, index: int = 0) -> tuple[int, int]:
    """Return (height, width) in pixels of page ``index`` as read_page would return it.

    Cheap: reads the header only.  EXIF rotations by 90 degrees are taken
    into account (for PNG only when the EXIF block precedes the pixel data,
    as it does in practice).  Raises ImageReadError naming the file.
    """
    path = Path(path)
    with _open(path) as image:
        _seek(image, path, index)
        width, height = image.size
        if _orientation(image, header_only=True) in _TRANSPOSING_ORIENTATIONS:
            width, height = height, width
    return height, width


def _seek(image: Image.Image, path: Path, index: int) -> None:
    count = _frame_count(image)
    if not 0 <= index < count:
        raise ImageReadError(path, f"has no page {index + 1} (it has {count})")
    if index:
        try:
            image.seek(index)
        except _FRAME_ERRORS as exc:
            raise ImageReadError(path, f"cannot read page {index + 1}: the file is damaged ({exc})") from None


def _read_dpi(image: Image.Image) -> tuple[float, float] | None:
    dpi = image.info.get("dpi")
    try:
        x, y = (float(v) for v in dpi)
    except (TypeError, ValueError):
        return None
    # Files without resolution often store 0 or 1; those are not real DPI,
    # nor is anything past MAX_DPI (a damaged tag, which PNG could not even store).
    if not (1 < x <= MAX_DPI and 1 < y <= MAX_DPI):
        return None
    return (x, y)


def _white_background(image: Image.Image) -> Image.Image:
    """Composite an image with transparency onto white paper and return it as RGB."""
    rgba = image.convert("RGBA")
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(paper, rgba).convert("RGB")


def _to_grey(image: Image.Image, dtype: type = np.float32) -> np.ndarray:
    """Convert a decoded Pillow image of any supported mode to grey:
    float32 in [0, 1], or uint8 when ``dtype`` is np.uint8 (a quarter of the
    memory, for huge scans)."""
    if np.dtype(dtype) == np.uint8:
        if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
            return to_uint8(_to_grey(image))
        return np.asarray(_to_grey_8bit(image))
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grey (PNG/TIFF); mode "I" is how Pillow widens 16-bit data.
        values = np.asarray(image).astype(np.float32)
        np.divide(values, 65535.0, out=values)
        return np.clip(values, 0.0, 1.0, out=values)
    if mode == "F":
        # Float images are taken to be in [0, 1] already; anything outside is clipped.
        values = np.array(image, dtype=np.float32)
        np.nan_to_num(values, copy=False, nan=1.0)
        return np.clip(values, 0.0, 1.0, out=values)
    values = np.asarray(_to_grey_8bit(image)).astype(np.float32)
    np.divide(values, 255.0, out=values)
    return values


def _to_grey_8bit(image: Image.Image) -> Image.Image:
    """An 8-bit grey ("L") version of an image in any 8-bit mode."""
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        image = _white_background(image)
    elif mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        image = _white_background(image)
    if image.mode != "L":
        # Pillow's own conversion (ITU-R 601 luma) works in 8 bits in C, which
        # keeps memory at one byte per pixel for huge colour scans.
        try:
            image = image.convert("L")
        except ValueError:
            # Modes such as LAB or HSV have no direct route to grey.
            image = image.convert("RGB").convert("L")
    return image


def _decode_frame(image: Image.Image, ref: PageRef, dtype: type = np.float32) -> Page:
    """Decode the frame ``image`` is positioned on into an upright grey Page."""
    dpi = _read_dpi(image)
    try:
        orientation = _orientation(image)
        image.load()
        upright = ImageOps.exif_transpose(image) if orientation != 1 else image
        pixels = _to_grey(upright, dtype)
    except Image.DecompressionBombError as exc:
        raise ImageReadError(ref.path, f"image too large to load safely ({exc})") from None
    except MemoryError:
        raise ImageReadError(ref.path, "not enough memory to decode this page") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        message = str(exc)
        kind = "truncated file" if "truncat" in message.lower() else "corrupt image data"
        raise ImageReadError(ref.path, f"{kind} ({message})") from None
    if dpi is not None and orientation in _TRANSPOSING_ORIENTATIONS:
        dpi = (dpi[1], dpi[0])
    return Page(pixels=pixels, ref=ref, dpi=dpi)


def read_page(ref_or_path: PageRef | str | os.PathLike, index: int = 0, dtype: type = np.float32) -> Page:
    """Read one page as float32 grey in [0, 1], shape (height, width), upright.

    With ``dtype=np.uint8`` the pixels are 0..255 instead (for huge pages).
    ``ref_or_path`` is a PageRef (its own index is used) or a file path with
    a 0-based page ``index``.  Raises ImageReadError naming the file.
    """
    if isinstance(ref_or_path, PageRef):
        path, index = ref_or_path.path, ref_or_path.index
    else:
        path = Path(ref_or_path)
    with _open(path) as image:
        _seek(image, path, index)
        return _decode_frame(image, PageRef(path, index, _frame_count(image)), dtype)


def read_pages(path: str | os.PathLike) -> list[Page]:
    """Read every page of ``path`` (all TIFF frames) as float32 grey pages in [0, 1]."""
    path = Path(path)
    pages = []
    with _open(path) as image:
        count = _frame_count(image)
        for index in range(count):
            _seek(image, path, index)
            pages.append(_decode_frame(image, PageRef(path, index, count)))
    return pages


