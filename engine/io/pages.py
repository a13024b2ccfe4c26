"""Reading scanned pages as grey images, whatever the file: the one door to the two readers.

Every page the engine works on is a 2-D grey array (float32 in [0, 1] or
uint8; 0 = black ink, 1 = white paper) at the file's full resolution.  A PDF
goes to the PDF reader (engine.io.pdf), every other file to the raster
reader (engine.io.raster); the page types they share are in
engine.io.page_types (and are named here too, for callers of this module).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.errors import ImageReadError
from engine.io import raster
from engine.io.os_errors import file_kind
from engine.io.page_types import MAX_PAGE_PIXELS, SUPPORTED_SUFFIXES, Page, PageRef, page_location

__all__ = ["MAX_PAGE_PIXELS", "SUPPORTED_SUFFIXES", "ImageReadError", "Page", "PageRef",
           "list_pages", "image_size", "read_page", "read_pages"]


class _Reader(Protocol):
    """What each reader module offers (engine.io.raster, engine.io.pdf)."""

    def list_pages(self, path: Path) -> list[PageRef]: ...

    def image_size(self, path: Path, index: int = 0) -> tuple[int, int]: ...

    def read_page(self, path: Path, index: int = 0, dtype: type = np.float32) -> Page: ...

    def read_pages(self, path: Path) -> list[Page]: ...


def _reader(path: Path) -> _Reader:
    """The module that reads ``path``: engine.io.pdf for a PDF, else engine.io.raster.

    The PDF reader is imported on first use: a folder of images need not start PDFium.
    Refuses (ImageReadError) what is there but is no file: a named pipe would
    make either reader wait forever for its data, a device might never end.
    """
    kind = file_kind(path)
    if kind is not None:
        raise ImageReadError(path, f"is {kind}, not a file")
    if path.suffix.lower() != ".pdf":
        return raster  # a module is a _Reader by its functions
    from engine.io import pdf
    return pdf


def list_pages(path: str | os.PathLike[str]) -> list[PageRef]:
    """Return one PageRef per page of ``path`` (one per TIFF frame or PDF page) without decoding pixels.

    Raises ImageReadError naming the file if it is missing, not a readable
    image, or a single page over MAX_PAGE_PIXELS (a page of a multi-page file
    over the limit is refused when it is read, so the other pages are kept).
    """
    path = Path(path)
    return _reader(path).list_pages(path)


def image_size(path: str | os.PathLike[str], index: int = 0) -> tuple[int, int]:
    """Return (height, width) in pixels of page ``index`` as read_page would return it.

    Cheap: reads the header (or the PDF page's objects) only.  Raises
    ImageReadError naming the file, also for a page over MAX_PAGE_PIXELS.
    """
    path = Path(path)
    return _reader(path).image_size(path, index)


def read_page(ref_or_path: PageRef | str | os.PathLike[str], index: int = 0, dtype: type = np.float32) -> Page:
    """Read one page as float32 grey in [0, 1], shape (height, width), upright.

    With ``dtype=np.uint8`` the pixels are 0..255 instead (for huge pages).
    ``ref_or_path`` is a PageRef (its own index is used) or a file path with
    a 0-based page ``index``.  Raises ImageReadError naming the file, for any
    damage to it and for a page over MAX_PAGE_PIXELS (checked before decoding).
    """
    path, index = page_location(ref_or_path, index)
    return _reader(path).read_page(path, index, dtype)


def read_pages(path: str | os.PathLike[str]) -> list[Page]:
    """Read every page of ``path`` (all TIFF frames or PDF pages) as float32 grey pages in [0, 1]."""
    path = Path(path)
    return _reader(path).read_pages(path)
