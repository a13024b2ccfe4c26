"""Pages in and out: reading scans, finding them, writing cleaned pages, one pixel convention.

The public names of the submodules are gathered here, so callers write
``from engine.io import read_page, write_page``.  The modules, lowest first
(pyproject.toml's import-linter contract keeps these layers):

- pixels, os_errors: grey values' two representations; the system's refusals in words
- page_types: Page, PageRef, the supported formats, the pixel budget, reading errors
- raster, pdf: the two readers (image files; PDF pages), which know nothing of each other
- pages: read_page and friends, handing each file to its reader
- discovery: finding the page files a user named
- display: a page in its colours, for a viewer
- provenance: what made an output, written into and read from PNG, TIFF, JPEG and PDF
- naming, output_folder: output names; temporary names, leftovers, the folder's check and lock
- writing: a page into its own PNG, TIFF or JPEG file
- planning: which pages go into which output file
- documents: PDFs and multi-page TIFFs written page by page
"""
from engine.errors import ImageReadError, ImageWriteError
from engine.io.discovery import find_images
from engine.io.page_types import MAX_PAGE_PIXELS, SUPPORTED_SUFFIXES, Page, PageKey, PageRef, real_path
from engine.io.pages import image_size, list_pages, read_page, read_pages
from engine.io.pixels import grey_to_rgb, to_uint8, to_unit
from engine.io.naming import DEFAULT_NAME, NAME_FIELDS, check_name_template, fill_name
from engine.io.output_folder import check_output_folder, remove_leftovers
from engine.io.provenance import read_output_provenances
from engine.io.writing import JPEG_QUALITY, JPEG_QUALITY_RANGE, PDF_JPEG_QUALITY, check_jpeg_quality, write_page
from engine.io.planning import OutputFile, check_combine_name, plan_outputs
from engine.io.documents import DEFAULT_DPI, DocumentWriter, open_document

__all__ = [
    "SUPPORTED_SUFFIXES", "MAX_PAGE_PIXELS", "JPEG_QUALITY", "JPEG_QUALITY_RANGE", "PDF_JPEG_QUALITY", "NAME_FIELDS", "DEFAULT_NAME",
    "DEFAULT_DPI",
    "ImageReadError", "ImageWriteError", "Page", "PageKey", "PageRef", "OutputFile", "DocumentWriter",
    "find_images", "real_path", "image_size", "list_pages", "read_page", "read_pages", "write_page",
    "check_output_folder", "remove_leftovers", "check_jpeg_quality", "check_name_template",
    "fill_name", "check_combine_name", "plan_outputs", "open_document", "read_output_provenances",
    "grey_to_rgb", "to_uint8", "to_unit",
]
