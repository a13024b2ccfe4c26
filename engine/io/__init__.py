"""Pages in and out: reading scans, finding them, writing cleaned pages, one pixel convention.

The public names of the submodules are gathered here, so callers write
``from engine.io import read_page, write_page``.
"""
from engine.io.discovery import find_images, real_path
from engine.io.pages import (MAX_PAGE_PIXELS, SUPPORTED_SUFFIXES, ImageReadError, Page, PageRef, image_size,
                             list_pages, read_page, read_pages)
from engine.io.pixels import to_uint8, to_unit
from engine.io.writing import (JPEG_QUALITY, OUTPUT_FORMATS, OUTPUT_MODE_LABELS, OUTPUT_MODES, ImageWriteError,
                               check_output_folder, existing_outputs, output_path, remove_leftovers, write_page)

__all__ = [
    "SUPPORTED_SUFFIXES", "MAX_PAGE_PIXELS", "JPEG_QUALITY", "OUTPUT_FORMATS", "OUTPUT_MODES", "OUTPUT_MODE_LABELS",
    "ImageReadError", "ImageWriteError", "Page", "PageRef",
    "find_images", "real_path", "image_size", "list_pages", "read_page", "read_pages", "output_path", "write_page",
    "check_output_folder", "existing_outputs", "remove_leftovers",
    "to_uint8", "to_unit",
]
