"""DocClean inside OCRmyPDF: ``ocrmypdf --plugin docclean.ocrmypdf IN.pdf OUT.pdf``.

Each page is cleaned by DocClean's model before Tesseract reads it, and the cleaned page is what the
output PDF shows (OCRmyPDF is told to rasterise every page, as its own ``--clean-final`` does), so
OCRmyPDF's and paperless-ngx's users get cleaner pages and better text where they already are.

Options (beside OCRmyPDF's own): ``--docclean-model`` (general, fast, noisyoffice or a model file),
``--docclean-mode`` (grey, bw or colour: what the output pages are), ``--docclean-no-keep-ink`` (trust
the model; by default ink it erased is put back).  The model is loaded once in each of OCRmyPDF's
worker processes and cleans one page at a time in it.
"""
from __future__ import annotations

import logging
import threading
from argparse import ArgumentParser
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from ocrmypdf import hookimpl
from PIL import Image

from engine.cleaning.denoiser import Denoiser
from engine.cleaning.page import clean_page
from engine.io import to_uint8
from engine.models.bundled import DEFAULT_MODEL_NAME, model_for_mode
from engine.vocabulary import PageMode

_log = logging.getLogger(__name__)

#: The page modes the plugin writes (auto is colour where the page has it, as in DocClean).
MODES = (PageMode.GREY, PageMode.BW, PageMode.COLOUR, PageMode.AUTO)


@hookimpl
def add_options(parser: ArgumentParser) -> None:
    group = parser.add_argument_group("DocClean", "Clean each page with DocClean's model before OCR")
    group.add_argument("--docclean-model", default=DEFAULT_MODEL_NAME,
                       help="general (default), fast, noisyoffice, or a .keras model file")
    group.add_argument("--docclean-mode", choices=[str(mode) for mode in MODES], default=str(PageMode.GREY),
                       help="the output pages: grey (default), bw (1 bit), colour, or auto (colour where the "
                            "page has coloured marks)")
    group.add_argument("--docclean-no-keep-ink", action="store_true",
                       help="trust the model: do not put back ink it erased")


@hookimpl
def check_options(options: Any) -> None:
    # The cleaned page replaces the page: every page is rasterised and read again, as with --clean-final.
    if not options.force_ocr:
        _log.info("DocClean: every page is cleaned and rasterised (as --force-ocr)")
        options.mode = "force"


def _choice(options: Any, name: str, default: Any) -> Any:
    """A DocClean option as OCRmyPDF hands it over (plugin options live in its extra attributes)."""
    extra = getattr(options, "extra_attrs", {}) or {}
    return extra.get(name, getattr(options, name, default))


# OCRmyPDF may run pages on threads of one process: a loaded model cleans one page at a time.
_CLEANING = threading.Lock()


@lru_cache(maxsize=2)
def _denoiser(model: str, mode: str) -> Denoiser:
    return Denoiser.from_file(model_for_mode(model, mode))


def _cleaned(image: Image.Image, options: Any, output: bool) -> Image.Image:
    """``image`` cleaned as the options say: for the output page in the chosen mode, for OCR in grey."""
    model = str(_choice(options, "docclean_model", DEFAULT_MODEL_NAME))
    mode = str(_choice(options, "docclean_mode", PageMode.GREY)) if output else PageMode.GREY
    keep_ink = not _choice(options, "docclean_no_keep_ink", False)
    colour = np.asarray(image.convert("RGB")) if mode in (PageMode.COLOUR, PageMode.AUTO) else None
    grey = np.asarray(image.convert("L"))
    with _CLEANING:
        page = clean_page(_denoiser(model, mode), grey, mode, keep_ink=keep_ink, colour=colour)
    pixels = to_uint8(page.pixels)
    cleaned = Image.fromarray(pixels, "RGB" if pixels.ndim == 3 else "L")
    if page.bilevel:
        cleaned = cleaned.convert("1", dither=Image.Dither.NONE)
    cleaned.info["dpi"] = image.info.get("dpi", (300, 300))
    return cleaned


@hookimpl
def filter_ocr_image(page: Any, image: Image.Image) -> Image.Image:
    """What Tesseract reads: the page cleaned (grey), same size, so the text lands where the words are."""
    return _cleaned(image, page.options, output=False)


@hookimpl
def filter_page_image(page: Any, image_filename: Path) -> Path:
    """What the output shows: the page cleaned in the chosen mode, written over the page image, same size
    and resolution."""
    with Image.open(image_filename) as image:
        image.load()
        cleaned = _cleaned(image, page.options, output=True)
    target = image_filename.with_name(image_filename.stem + "_docclean.png")
    cleaned.save(target, dpi=cleaned.info["dpi"])
    return target
