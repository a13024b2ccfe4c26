"""Writing a cleaned page safely, as a PNG, TIFF or JPEG file of its own.

Writes never leave a half-written file under the final name: the image is
written to a hidden temporary file in the same folder (engine.io.output_folder)
and renamed onto the final name only once it is complete.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from engine.errors import ConfigurationError, ImageWriteError
# Where these lived before: callers may still import them from here.
from engine.io.naming import DEFAULT_NAME as DEFAULT_NAME
from engine.io.naming import NAME_FIELDS as NAME_FIELDS
from engine.io.naming import check_name_template as check_name_template
from engine.io.naming import earlier_outputs as earlier_outputs
from engine.io.naming import fill_name as fill_name
from engine.io.naming import free_output_path as free_output_path
from engine.io.output_folder import LEFTOVER_AGE as LEFTOVER_AGE
from engine.io.output_folder import check_output_folder as check_output_folder
from engine.io.output_folder import make_parent, partial_path, write_reason
from engine.io.output_folder import remove_leftovers as remove_leftovers
from engine.io.pixels import to_uint8
from engine.io.provenance import Provenance
from engine.io.provenance import save_options as provenance_options

_WRITERS_BY_SUFFIX = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG"}
JPEG_QUALITY = 95
# A PDF's grey and colour pages are JPEG at this quality unless asked otherwise: on cleaned 300 dpi book
# scans it makes them 0.62 of their lossless size, 3.4 grey levels off them (RMSE), and Tesseract reads
# them as well as the lossless pages (benchmarks/compact.py).
PDF_JPEG_QUALITY = 85
JPEG_QUALITY_RANGE = (1, 100)
# zlib level 1 writes a cleaned A4 page in half the time of the default
# level 6, for files about 7% larger.
PNG_COMPRESS_LEVEL = 1

# JPEG stores width and height in 16 bits, and libjpeg stops at 65,500.
JPEG_MAX_SIDE = 65_500


def _remove(temporary: Path) -> None:
    """Remove a temporary file if it is there; never raises (what cannot be removed, remove_leftovers removes)."""
    try:
        temporary.unlink(missing_ok=True)
    except OSError:
        pass


def _page_pixels(pixels: np.ndarray) -> np.ndarray:
    """``pixels`` as a grey (height, width) or RGB (height, width, 3) page; ValueError otherwise."""
    pixels = np.asarray(pixels)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[-1] == 3)) or 0 in pixels.shape:
        raise ValueError(f"expected a grey page of shape (height, width) or a colour one of shape "
                         f"(height, width, 3), got shape {pixels.shape}")
    return pixels


def check_jpeg_quality(quality: object) -> int:
    """``quality`` as a whole number in JPEG_QUALITY_RANGE; ValueError in words otherwise."""
    low, high = JPEG_QUALITY_RANGE
    if isinstance(quality, bool) or not isinstance(quality, int) or not low <= quality <= high:
        raise ConfigurationError(f"the JPEG quality must be a whole number from {low} to {high}, not {quality}")
    return quality


def page_image(pixels: np.ndarray, bilevel: bool = False, one_bit: bool = True) -> Image.Image:
    """A page as a Pillow image: 8-bit grey, 8-bit RGB for a colour page, or with ``bilevel`` black and white.

    A bilevel page is 1 bit per pixel ("1") unless ``one_bit`` is false
    (JPEG has no 1-bit form): then 8-bit holding only 0 and 255.  Raises
    ValueError for a page of the wrong shape or with NaN values.
    """
    pixels = _page_pixels(pixels)
    if pixels.ndim == 3:
        return Image.fromarray(to_uint8(pixels), mode="RGB")
    image = Image.fromarray(to_uint8(pixels), mode="L")
    if bilevel:
        image = image.point(lambda v: 255 if v >= 128 else 0)
        if one_bit:
            image = image.convert("1", dither=Image.Dither.NONE)
    return image


def format_options(writer: str, dpi: tuple[float, float] | None, bilevel: bool = False,
                   jpeg_quality: int = JPEG_QUALITY) -> dict[str, object]:
    """Pillow save() options for a page in format ``writer`` ("PNG", "TIFF" or "JPEG")."""
    options: dict[str, object] = {}
    if dpi is not None:
        options["dpi"] = (float(dpi[0]), float(dpi[1]))
    if writer == "PNG":
        options["compress_level"] = PNG_COMPRESS_LEVEL
    elif writer == "JPEG":
        options["quality"] = jpeg_quality
    elif writer == "TIFF":
        # Lossless and much smaller than raw for text pages; CCITT G4 is the
        # archive standard for black-and-white pages.
        options["compression"] = "group4" if bilevel else "tiff_lzw"
    return options


def write_page(
    pixels: np.ndarray, path: str | os.PathLike[str], dpi: tuple[float, float] | None = None,
    bilevel: bool = False, provenance: Optional[Provenance] = None, jpeg_quality: int = JPEG_QUALITY,
) -> Path:
    """Write a grey page (float [0, 1] or uint8, shape (H, W) or (H, W, 1)) as 8-bit grey, or a colour one
    (H, W, 3) as 8-bit RGB.

    The format follows the suffix: .png, .tif/.tiff (LZW) or .jpg/.jpeg
    (``jpeg_quality``, 95 by default).  With ``bilevel`` the page is written black and white,
    1 bit per pixel (values below 0.5 are black; TIFF uses CCITT Group 4;
    JPEG has no 1-bit form and stays 8-bit).  ``dpi`` is stored when given.
    Missing parent folders are created.  The data goes to a hidden temporary file in the same folder
    that is renamed onto ``path`` only when complete, so ``path`` is either
    untouched or the whole new image, even if interrupted.  ``provenance``
    is stored inside the file (engine.io.provenance).  Returns ``path``.
    Raises ImageWriteError naming the file.
    """
    path = Path(path)
    writer = _WRITERS_BY_SUFFIX.get(path.suffix.lower())
    if writer is None:
        raise ImageWriteError(
            path, f"unsupported output format {path.suffix or '(no extension)'}; use .png, .tif or .jpg"
        )
    try:
        pixels = _page_pixels(pixels)
        if writer == "JPEG" and max(pixels.shape) > JPEG_MAX_SIDE:
            raise ConfigurationError(f"JPEG cannot hold a page over {JPEG_MAX_SIDE:,} pixels wide or high "
                             f"(this one is {pixels.shape[1]:,} x {pixels.shape[0]:,}); write PNG or TIFF")
        image = page_image(pixels, bilevel, one_bit=writer != "JPEG")
    except ValueError as exc:
        raise ImageWriteError(path, str(exc)) from None
    make_parent(path)
    temporary = partial_path(path)
    options = {**format_options(writer, dpi, bilevel, jpeg_quality), **provenance_options(writer, provenance)}
    try:
        with open(temporary, "xb") as stream:
            image.save(stream, format=writer, **options)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        # Includes KeyboardInterrupt: the temporary file must never outlive a failed write.
        _remove(temporary)
        if isinstance(exc, OSError):
            raise ImageWriteError(path, write_reason(exc)) from None
        raise
    return path


# ---------------------------------------------------------------- naming

