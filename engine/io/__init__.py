"""Pages in and out: reading scans, finding them, writing cleaned pages, one pixel convention.

The public names of the submodules are gathered here, so callers write
``from engine.io import read_page, write_page``.
"""
from engine.io.discovery import find_images, real_path
from engine.io.pages import (MAX_PAGE_PIXELS, SUPPORTED_SUFFIXES, ImageReadError, Page, PageRef, image_size,
                             list_pages, read_page, read_pages)
from engine.io.pixels import to_uint8, to_unit
from engine.io.writing import (DEFAULT_NAME, JPEG_QUALITY, JPEG_QUALITY_RANGE, NAME_FIELDS, OUTPUT_FORMAT_LABELS,
                               OUTPUT_FORMATS, OUTPUT_MODE_LABELS, OUTPUT_MODES, ImageWriteError, check_jpeg_quality,
                               check_name_template, check_output_folder, existing_outputs, fill_name, output_path,
                               remove_leftovers, write_page)
from engine.io.documents import (DEFAULT_DPI, DocumentWriter, OutputFile, check_combine_name, open_document,
                                 plan_outputs, read_output_provenances)

__all__ = [
    "SUPPORTED_SUFFIXES", "MAX_PAGE_PIXELS", "JPEG_QUALITY", "JPEG_QUALITY_RANGE", "OUTPUT_FORMATS",
    "OUTPUT_FORMAT_LABELS", "OUTPUT_MODES", "OUTPUT_MODE_LABELS", "NAME_FIELDS", "DEFAULT_NAME", "DEFAULT_DPI",
    "ImageReadError", "ImageWriteError", "Page", "PageRef", "OutputFile", "DocumentWriter",
    "find_images", "real_path", "image_size", "list_pages", "read_page", "read_pages", "output_path", "write_page",
    "check_output_folder", "existing_outputs", "remove_leftovers", "check_jpeg_quality", "check_name_template",
    "fill_name", "check_combine_name", "plan_outputs", "open_document", "read_output_provenances",
    "to_uint8", "to_unit",
]
