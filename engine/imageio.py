"""Reading scanned pages as grey float images and writing cleaned pages safely.

Every page the engine works on is a 2-D float32 array of grey values in
[0, 1] (0 = black ink, 1 = white paper) at the file's full resolution.  This
module is the only place that knows about file formats, colour modes, EXIF
orientation, multi-page TIFFs and DPI.

Writes never leave a half-written file under the final name: the image is
written to a hidden temporary file in the same folder and renamed onto the
final name only once it is complete.
"""
from __future__ import annotations

import os
import re
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
)
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

# Pillow refuses images above ~179 megapixels as possible "decompression
# bombs".  A 600 dpi A3 scan is ~70 MP and large-format scans reach 400 MP
# (20000 x 20000), so allow up to 1 gigapixel (Pillow errors only at twice the
# limit).  Never lower a limit the host application set higher or disabled.
_MAX_PIXELS = 1_000_000_000
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < _MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = _MAX_PIXELS

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


class ImageWriteError(Exception):
    """A page could not be written; ``str()`` is "<path>: <reason>"."""

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
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageReadError(path, f"corrupt image header ({exc})") from None


def _frame_count(image: Image.Image) -> int:
    # Only TIFF frames are pages; animated PNG/WebP frames are not pages of a
    # document, so those files are read as their first frame.
    if image.format == "TIFF":
        return max(1, int(getattr(image, "n_frames", 1)))
    return 1


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
        except (OSError, EOFError, ValueError) as exc:
            raise ImageReadError(path, f"cannot read page {index + 1} ({exc})") from None


def _read_dpi(image: Image.Image) -> tuple[float, float] | None:
    dpi = image.info.get("dpi")
    try:
        x, y = (float(v) for v in dpi)
    except (TypeError, ValueError):
        return None
    # Files without resolution often store 0 or 1; those are not real DPI.
    if not (x > 1 and y > 1 and np.isfinite(x) and np.isfinite(y)):
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


# ---------------------------------------------------------------- writing


def to_unit(pixels: np.ndarray) -> np.ndarray:
    """A new float32 copy of grey values in [0, 1]; uint8 (0..255) is divided by 255."""
    values = np.asarray(pixels).astype(np.float32)
    if pixels.dtype == np.uint8:
        np.divide(values, np.float32(255.0), out=values)
    return values


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Convert grey values in [0, 1] to uint8 0..255 (rounded, clipped).

    uint8 input is returned unchanged.  Raises ValueError on NaN values,
    which would otherwise turn into arbitrary grey levels.
    """
    pixels = np.asarray(pixels)
    if pixels.dtype == np.uint8:
        return pixels
    values = pixels.astype(np.float32) * np.float32(255.0)
    if np.isnan(values).any():
        raise ValueError("pixels contain NaN")
    np.rint(values, out=values)
    np.clip(values, 0.0, 255.0, out=values)
    return values.astype(np.uint8)


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


# ---------------------------------------------------------------- finding inputs and naming outputs


def _natural_key(text: str) -> list:
    # "2.png" before "10.png": digit runs compare as numbers.  re.split with a
    # capturing group alternates text, number, text..., so positions always
    # hold the same type and lists compare safely.
    parts = re.split(r"(\d+)", text.lower())
    return [int(part) if i % 2 else part for i, part in enumerate(parts)]


def _is_skipped(name: str) -> bool:
    # Hidden files include our own unfinished writes (".<name>.partial-<hex>").
    return name.startswith(".")


def _images_in_folder(folder: Path, recursive: bool) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        # Hidden folders (.git, .cache, ...) are never pages.
        dirs[:] = [d for d in dirs if not d.startswith(".")] if recursive else []
        for name in files:
            if not _is_skipped(name) and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(Path(root) / name)
    return sorted(
        found, key=lambda p: [_natural_key(part) for part in p.relative_to(folder).parts]
    )


def find_images(inputs: Iterable[str | os.PathLike], recursive: bool = True) -> list[Path]:
    """List the image files named by ``inputs`` (files and folders).

    Folders are walked (sub-folders too if ``recursive``) in natural order
    (2.png before 10.png), keeping files with a supported suffix and
    skipping hidden files and unfinished ".partial" writes.  Files named
    directly, and paths that do not exist, are passed through unchecked so
    that reading them reports the problem by name.  Duplicates are dropped.
    """
    result: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        item = Path(item)
        candidates = _images_in_folder(item, recursive) if item.is_dir() else [item]
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                result.append(candidate)
    return result


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
    blocked = {Path(p).resolve() for p in protected}
    base = f"{ref.stem}{suffix}"
    attempt = 0
    while True:
        name = f"{base}.{extension}" if attempt == 0 else f"{base}-{attempt}.{extension}"
        candidate = out_dir / name
        resolved = candidate.resolve()
        if resolved not in blocked and (overwrite or not os.path.lexists(candidate)):
            return candidate
        attempt += 1
