"""Writing cleaned pages safely, and naming them.

Writes never leave a half-written file under the final name: the image is
written to a hidden temporary file in the same folder and renamed onto the
final name only once it is complete.
"""
from __future__ import annotations

import os
import secrets
import string
import time
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from engine.errors import ConfigurationError, ImageWriteError
from engine.io.discovery import real_path
from engine.io.pages import PageRef
from engine.io.os_errors import os_reason
from engine.io.pixels import to_uint8
from engine.io.provenance import Provenance
from engine.io.provenance import save_options as provenance_options
from engine.vocabulary import OutputFormat, PageMode, choice

# The vocabulary's choices under their old names, for callers not moved to engine.vocabulary yet.
OUTPUT_FORMATS = tuple(OutputFormat)
OUTPUT_FORMAT_LABELS = {member.value: member.label for member in OutputFormat}
OUTPUT_MODES = tuple(PageMode)
OUTPUT_MODE_LABELS = {member.value: member.label for member in PageMode}

_WRITERS_BY_SUFFIX = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG"}
JPEG_QUALITY = 95
JPEG_QUALITY_RANGE = (1, 100)
# zlib level 1 writes a cleaned A4 page in half the time of the default
# level 6, for files about 7% larger.
PNG_COMPRESS_LEVEL = 1

# How output files are named: a template with these fields (what each holds,
# for the app to offer).  The default is the naming DocClean always had.
NAME_FIELDS = {
    "name": "the input's file name without its extension (scan, or scan_p2 for page 2 of a "
            "multi-page file cleaned into a file per page)",
    "model": "the model's short name (docclean-general)",
    "mode": "grey or bw",
    "page": "the page number in the input (1 for a single page)",
}
DEFAULT_NAME = "{name}_clean"

# Temporary files from write_page look like ".<name>.partial-<pid>-<hex>":
# hidden, so find_images skips them and an interrupted batch is never fed
# back in; the writer's process id tells a later run whether the file is
# a leftover of a run that was killed or the write of one still going.
_PARTIAL_MARKER = ".partial-"
# A temporary file whose writer cannot be told (another computer sharing the
# folder, or an older DocClean) is a leftover once it is this old.
LEFTOVER_AGE = 3600.0

# JPEG stores width and height in 16 bits, and libjpeg stops at 65,500.
JPEG_MAX_SIDE = 65_500


def _grey_2d(pixels: np.ndarray) -> np.ndarray:
    pixels = np.asarray(pixels)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if pixels.ndim != 2 or 0 in pixels.shape:
        raise ValueError(f"expected a grey page of shape (height, width), got shape {pixels.shape}")
    return pixels


def check_jpeg_quality(quality: object) -> int:
    """``quality`` as a whole number in JPEG_QUALITY_RANGE; ValueError in words otherwise."""
    low, high = JPEG_QUALITY_RANGE
    if isinstance(quality, bool) or not isinstance(quality, int) or not low <= quality <= high:
        raise ConfigurationError(f"the JPEG quality must be a whole number from {low} to {high}, not {quality}")
    return quality


def page_image(pixels: np.ndarray, bilevel: bool = False, one_bit: bool = True) -> Image.Image:
    """A grey page as a Pillow image: 8-bit grey, or with ``bilevel`` black and white.

    A bilevel page is 1 bit per pixel ("1") unless ``one_bit`` is false
    (JPEG has no 1-bit form): then 8-bit holding only 0 and 255.  Raises
    ValueError for a page of the wrong shape or with NaN values.
    """
    image = Image.fromarray(to_uint8(_grey_2d(pixels)), mode="L")
    if bilevel:
        image = image.point(lambda v: 255 if v >= 128 else 0)
        if one_bit:
            image = image.convert("1", dither=Image.Dither.NONE)
    return image


def format_options(writer: str, dpi: tuple[float, float] | None, bilevel: bool = False,
                   jpeg_quality: int = JPEG_QUALITY) -> dict:
    """Pillow save() options for a page in format ``writer`` ("PNG", "TIFF" or "JPEG")."""
    options: dict = {}
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
    pixels: np.ndarray, path: str | os.PathLike, dpi: tuple[float, float] | None = None,
    bilevel: bool = False, provenance: Optional[Provenance] = None, jpeg_quality: int = JPEG_QUALITY,
) -> Path:
    """Write a grey page (float [0, 1] or uint8, shape (H, W) or (H, W, 1)) as 8-bit grey.

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
        pixels = _grey_2d(pixels)
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
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ImageWriteError(path, write_reason(exc)) from None
        raise
    return path


def write_reason(error: OSError) -> str:
    """Why writing failed, in words."""
    return os_reason(error, "the file could not be written")


def partial_path(path: Path) -> Path:
    """The hidden temporary name ``path`` is written under until complete: ".<name>.partial-<pid>-<hex>"."""
    return path.with_name(f".{path.name}{_PARTIAL_MARKER}{os.getpid()}-{secrets.token_hex(4)}")


def make_parent(path: Path) -> None:
    """Create the folder ``path`` goes in (a mirrored sub-folder); ImageWriteError in words if it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageWriteError(path, f"cannot create the folder {path.parent}: {write_reason(exc)}") from None


# ---------------------------------------------------------------- naming


def check_name_template(template: str) -> str:
    """``template`` if it can name output files; ValueError with a sentence saying why not.

    Fields are those of NAME_FIELDS, written alone ({name}, not {name:>9});
    the template names a file, so it has no path separator and does not
    start with a dot (a hidden file).  Whether it tells every page apart
    depends on the pages: engine.io.documents checks that.
    """
    if not template.strip():
        raise ConfigurationError(f"the naming template is empty; the default is {DEFAULT_NAME}")
    shown = f'the naming template "{template}"'
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        raise ConfigurationError(f"{shown} has a {{ or }} without its pair; write fields as {{name}}") from None
    for text, field, spec, conversion in parts:
        if field is not None and field not in NAME_FIELDS:
            raise ConfigurationError(f"{shown} has an unknown field {{{field}}}; the fields are {_field_list()}")
        if spec or conversion:
            raise ConfigurationError(f"{shown} formats a field; write the fields alone, as {_field_list()}")
    literal = "".join(text for text, *_ in parts)
    if any(sep in literal for sep in {"/", "\\", os.sep, os.altsep} - {None}):
        raise ConfigurationError(f"{shown} has a path separator; it names a file in the output folder "
                         "(sub-folders of the input are mirrored there by themselves)")
    if any(ord(c) < 32 for c in literal):
        raise ConfigurationError("the naming template has a control character (a tab or a line break)")
    if template.startswith("."):
        raise ConfigurationError(f"{shown} starts with a dot, which would make hidden files")
    return template


def _field_list() -> str:
    names = [f"{{{name}}}" for name in NAME_FIELDS]
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def fill_name(template: str, fields: Mapping[str, object]) -> str:
    """The file name (without extension) ``template`` gives a page with these NAME_FIELDS values."""
    return template.format_map({name: fields.get(name, "") for name in NAME_FIELDS})


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
    return free_output_path(Path(out_dir) / f"{ref.stem}{suffix}", fmt, overwrite, protected)


def free_output_path(base: Path, fmt: str, overwrite: bool = False,
                     protected: Collection[str | os.PathLike] = ()) -> Path:
    """"<base>.<ext>", else "<base>-1.<ext>", "-2"...: the first not ``protected`` nor (unless ``overwrite``) a file."""
    blocked = {real_path(p) for p in protected}
    return next(candidate for candidate in _numbered_names(base, fmt)
                if real_path(candidate) not in blocked and (overwrite or not os.path.lexists(candidate)))


def _writer_alive(name: str) -> Optional[bool]:
    """Whether the process that is writing temporary file ``name`` still runs (None: cannot tell)."""
    tail = name.rpartition(_PARTIAL_MARKER)[2]
    pid_text, dash, _ = tail.partition("-")
    if not dash or not pid_text.isdigit():
        return None  # an older DocClean's name, without the writer's process id
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, but belongs to someone else
    return True


def remove_leftovers(folder: str | os.PathLike) -> list[Path]:
    """Delete the unfinished temporary files a killed run left in ``folder``; return them.

    A temporary file is a leftover when the process that wrote it has ended
    (or, when that cannot be told, once it is LEFTOVER_AGE seconds old): the
    write of a run still going is never touched.  Files that cannot be
    deleted are left and not returned.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(".") and _PARTIAL_MARKER in entry.name and entry.is_file(follow_symlinks=False)):
            continue
        alive = _writer_alive(entry.name)
        if alive is None:
            try:
                alive = time.time() - entry.stat(follow_symlinks=False).st_mtime < LEFTOVER_AGE
            except OSError:
                continue
        if not alive:
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(Path(entry.path))
    return removed


def check_output_folder(folder: str | os.PathLike) -> Path:
    """Make sure pages can be written into ``folder`` (created if missing) before any work starts.

    Raises ImageWriteError with a sentence saying why not, e.g. a read-only
    disk, no permission, or a file of that name.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ImageWriteError(folder, "is a file, not a folder; choose another output folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".docclean-write-test{_PARTIAL_MARKER}{os.getpid()}-{secrets.token_hex(4)}"
        with open(probe, "xb"):
            pass
        probe.unlink()
    except OSError as exc:
        raise ImageWriteError(folder, f"cannot write there: {write_reason(exc)}; choose another output folder") from None
    return folder


def existing_outputs(ref: PageRef, out_dir: str | os.PathLike, fmt: str = "png",
                     suffix: str = "_clean") -> Iterator[Path]:
    """The files output_path already chose for ``ref`` in earlier runs: "<stem><suffix>.<ext>", then "-1", "-2"...

    Stops at the first name that does not exist.
    """
    return earlier_outputs(Path(out_dir) / f"{ref.stem}{suffix}", fmt)


def earlier_outputs(base: Path, fmt: str) -> Iterator[Path]:
    """The files free_output_path chose for ``base`` in earlier runs, up to the first name that does not exist."""
    for candidate in _numbered_names(base, fmt):
        if not os.path.lexists(candidate):
            return
        yield candidate


def _numbered_names(base: Path, fmt: str) -> Iterator[Path]:
    """"<base>.<ext>", then "<base>-1.<ext>", "-2", ... without end."""
    extension = choice(OutputFormat, fmt, "the output format").extension
    yield base.with_name(f"{base.name}.{extension}")
    attempt = 1
    while True:
        yield base.with_name(f"{base.name}-{attempt}.{extension}")
        attempt += 1
