"""What every reader and writer shares: the page types, the supported formats, the pixel budget and reading errors.

A page of a file is a PageRef (which file, which of its pages); a decoded
page is a Page.  The raster reader (engine.io.raster) and the PDF reader
(engine.io.pdf) both build on this module and on nothing else of each other.
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import ImageReadError
from engine.io.os_errors import os_reason

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".pdf"}
)

# The most pixels one page may have, so that any page cleans within about 2 GB.
# Pillow decodes a colour page at 4 bytes per pixel before it becomes grey (1
# byte), and cleaning needs about 3.5 bytes per pixel: measured, a 20,000 x
# 20,000 page (400 MP) cleans at 2.1 GB peak in colour and 1.4 GB in grey.  A
# 600 dpi A3 scan is ~70 MP.  Larger pages are refused from their header,
# before any pixel is decoded.
MAX_PAGE_PIXELS = 400_000_000


def real_path(path: str | os.PathLike[str]) -> Path:
    """The absolute path with symlinks followed, for telling files apart.

    Unlike Path.resolve() it never raises: a symlink loop is left as it is,
    for reading it to report by name.
    """
    return Path(os.path.realpath(path))


def page_location(ref_or_path: PageRef | str | os.PathLike[str], index: int = 0) -> tuple[Path, int]:
    """(file, 0-based page) of a PageRef (its own index) or of a file path with page ``index``."""
    if isinstance(ref_or_path, PageRef):
        return ref_or_path.path, ref_or_path.index
    return Path(ref_or_path), index


class PageKey(NamedTuple):
    """A page's identity across the app's list, the batch and the viewer: its file's real path and 0-based page.

    Two names of one file (a symbolic link, a relative path) give one key.
    """

    path: str
    page: int  # the 0-based page of the file (not ``index``: a tuple has a method of that name)

    @classmethod
    def of(cls, path: str | os.PathLike[str], page: int = 0) -> PageKey:
        return cls(str(real_path(path)), int(page))


@dataclass(frozen=True)
class PageRef:
    """One page of an image file: frame ``index`` (0-based) of ``count`` frames."""

    path: Path
    index: int = 0
    count: int = 1

    @property
    def key(self) -> PageKey:
        """Which page this is, whatever name its file was given by."""
        return PageKey.of(self.path, self.index)

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
    # What the user should hear about how the page was read (e.g. a PDF page read at a lower resolution).
    note: str | None = None



# ---------------------------------------------------------------- why reading failed


# Pillow's own messages longer than this are left out of a reason.
_LONGEST_DETAIL = 80


def limit_words() -> str:
    return f"the {MAX_PAGE_PIXELS // 1_000_000}-megapixel limit for one page; split or downscale it"


def failure_reason(error: Exception, damage: str) -> str:
    """Words for why reading failed; ``damage`` names what was being read ("corrupt image data")."""
    if isinstance(error, Image.DecompressionBombError):
        declared = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{math.ceil(int(declared.group(1)) / 1e6):,} megapixels" if declared else "the page"
        return f"{size} is over {limit_words()}"
    if isinstance(error, MemoryError):
        return "not enough memory to decode this page"
    if isinstance(error, UnidentifiedImageError):
        return "not an image, or a kind of image DocClean cannot read"
    if isinstance(error, OSError) and error.errno is not None:
        # The file system's refusal, not the image's content.
        return os_reason(error, "cannot be opened")
    message = str(error)
    if isinstance(error, Damage):
        return f"{damage} ({message})"
    if isinstance(error, EOFError) or "truncat" in message.lower():
        return "truncated file"
    # Pillow says what is wrong in OSError and SyntaxError ("broken data stream
    # when reading image file"); other errors carry Python's words, not the file's.
    if isinstance(error, (OSError, SyntaxError)) and 0 < len(message) <= _LONGEST_DETAIL:
        return f"{damage} ({message})"
    return damage


class Damage(Exception):
    """Damage found by this module's own checks; the message says what is wrong."""


@contextmanager
def reading(path: Path, damage: str = "corrupt image data", where: str = "") -> Iterator[None]:
    """Turn whatever reading ``path`` raises into ImageReadError naming it.

    ``damage`` says what was being read; ``where`` starts the reason, e.g.
    "cannot read page 2: " in a multi-page file.

    Pillow's format readers meet hostile bytes with any of a dozen exception
    types (struct.error, IndexError, ZeroDivisionError, ...); all of them mean
    the file cannot be read, so all become one per-page error.  Ctrl+C
    (KeyboardInterrupt) is not an Exception and passes through.
    """
    try:
        yield
    except ImageReadError:
        raise
    except Exception as error:  # noqa: BLE001 - see the docstring
        raise ImageReadError(path, where + failure_reason(error, damage)) from None


