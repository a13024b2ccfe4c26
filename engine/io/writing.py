"""Writing cleaned pages safely, and naming them.

Writes never leave a half-written file under the final name: the image is
written to a hidden temporary file in the same folder and renamed onto the
final name only once it is complete.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Collection
from pathlib import Path

import numpy as np
from PIL import Image

from engine.io.discovery import real_path
from engine.io.pages import PageRef
from engine.io.pixels import to_uint8

OUTPUT_FORMATS = ("png", "tiff", "jpeg")
# What a cleaned page is written as: the clean grey page, or black and white
# (1 bit per pixel) for OCR and archives.
OUTPUT_MODES = ("grey", "bw")
OUTPUT_MODE_LABELS = {"grey": "Grey (clean page)", "bw": "Black and white (1 bit)"}

# Output format -> (file extension, Pillow format name).
_OUTPUT_EXTENSIONS = {"png": "png", "tiff": "tif", "jpeg": "jpg"}
_WRITERS_BY_SUFFIX = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG"}
JPEG_QUALITY = 95

# Temporary files from write_page look like ".<name>.partial-<hex>": hidden,
# so find_images skips them and an interrupted batch is never fed back in.
_PARTIAL_MARKER = ".partial-"


class ImageWriteError(Exception):
    """A page could not be written; ``str()`` is "<path>: <reason>"."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def _grey_2d(pixels: np.ndarray) -> np.ndarray:
    pixels = np.asarray(pixels)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if pixels.ndim != 2 or 0 in pixels.shape:
        raise ValueError(f"expected a grey page of shape (height, width), got shape {pixels.shape}")
    return pixels


def _save_options(writer: str, dpi: tuple[float, float] | None, bilevel: bool = False) -> dict:
    options: dict = {}
    if dpi is not None:
        options["dpi"] = (float(dpi[0]), float(dpi[1]))
    if writer == "PNG":
        # zlib level 1 writes a cleaned A4 page in half the time of the
        # default level 6, for files about 7% larger.
        options["compress_level"] = 1
    elif writer == "JPEG":
        options["quality"] = JPEG_QUALITY
    elif writer == "TIFF":
        # Lossless and much smaller than raw for text pages; CCITT G4 is the
        # archive standard for black-and-white pages.
        options["compression"] = "group4" if bilevel else "tiff_lzw"
    return options


def write_page(
    pixels: np.ndarray, path: str | os.PathLike, dpi: tuple[float, float] | None = None,
    bilevel: bool = False,
) -> Path:
    """Write a grey page (float [0, 1] or uint8, shape (H, W) or (H, W, 1)) as 8-bit grey.

    The format follows the suffix: .png, .tif/.tiff (LZW) or .jpg/.jpeg
    (quality 95).  With ``bilevel`` the page is written black and white,
    1 bit per pixel (values below 0.5 are black; TIFF uses CCITT Group 4;
    JPEG has no 1-bit form and stays 8-bit).  ``dpi`` is stored when given.
    Missing parent folders are created.  The data goes to a hidden temporary file in the same folder
    that is renamed onto ``path`` only when complete, so ``path`` is either
    untouched or the whole new image, even if interrupted.  Returns ``path``.
    Raises ImageWriteError naming the file.
    """
    path = Path(path)
    writer = _WRITERS_BY_SUFFIX.get(path.suffix.lower())
    if writer is None:
        raise ImageWriteError(
            path, f"unsupported output format {path.suffix or '(no extension)'}; use .png, .tif or .jpg"
        )
    try:
        image = Image.fromarray(to_uint8(_grey_2d(pixels)), mode="L")
        if bilevel:
            image = image.point(lambda v: 255 if v >= 128 else 0)
            if writer != "JPEG":
                image = image.convert("1", dither=Image.Dither.NONE)
    except ValueError as exc:
        raise ImageWriteError(path, str(exc)) from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageWriteError(path, f"cannot create folder {path.parent} ({exc.strerror or exc})") from None
    temporary = path.with_name(f".{path.name}{_PARTIAL_MARKER}{secrets.token_hex(4)}")
    try:
        with open(temporary, "xb") as stream:
            image.save(stream, format=writer, **_save_options(writer, dpi, bilevel))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        # Includes KeyboardInterrupt: the temporary file must never outlive a failed write.
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ImageWriteError(path, exc.strerror or str(exc)) from exc
        raise
    return path


def output_path(
    ref: PageRef,
    out_dir: str | os.PathLike,
    fmt: str = "png",
    suffix: str = "_clean",
    overwrite: bool = False,
    protected: Collection[str | os.PathLike] = (),
) -> Path:
    """Choose where the cleaned version of ``ref`` goes: "<stem><suffix>.<ext>" in ``out_dir``.

    ``fmt`` is one of OUTPUT_FORMATS (extension png, tif or jpg).  The result
    is never one of ``protected`` (pass the input files, and any outputs
    already chosen in this batch) and, unless ``overwrite``, never an
    existing file: then "-1", "-2", ... is added before the extension.
    """
    if fmt not in _OUTPUT_EXTENSIONS:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    out_dir = Path(out_dir)
    extension = _OUTPUT_EXTENSIONS[fmt]
    blocked = {real_path(p) for p in protected}
    base = f"{ref.stem}{suffix}"
    attempt = 0
    while True:
        name = f"{base}.{extension}" if attempt == 0 else f"{base}-{attempt}.{extension}"
        candidate = out_dir / name
        resolved = real_path(candidate)
        if resolved not in blocked and (overwrite or not os.path.lexists(candidate)):
            return candidate
        attempt += 1
