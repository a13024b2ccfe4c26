"""A page as a person sees it: its colours, for showing beside the cleaned page.

Cleaning works on grey pages (engine.io.read_page); a viewer or a thumbnail
should show a colour scan in colour.  ``display_pixels`` gives uint8 pixels
ready for a screen: (height, width, 3) RGB for a colour page, (height, width)
grey otherwise, upright; PDF pages are rendered in colour at the size read_page renders them.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from engine.io import pdf
from engine.io.page_types import PageRef, page_location
from engine.io.pages import image_size, read_page
from engine.io.pixels import to_uint8

# Pillow modes whose pixels have colour; everything else is grey (or 1-bit) and read as such.
_COLOUR_MODES = frozenset({"RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "P", "PA", "RGBa"})


def display_pixels(ref_or_path: PageRef | str | os.PathLike[str], index: int = 0) -> np.ndarray:
    """The page's pixels for a screen: uint8 RGB (H, W, 3) when it has colour, else uint8 grey (H, W).

    Raises ImageReadError naming the file, as read_page does (the pixel
    budget is checked from the header first).
    """
    path, index = page_location(ref_or_path, index)
    image_size(path, index)  # the budget and the damage, worded as read_page words them
    colour = _pdf_colour(path, index) if path.suffix.lower() == ".pdf" else _colour(path, index)
    if colour is not None:
        return colour
    return to_uint8(read_page(path, index, dtype=np.uint8).pixels)


def _pdf_colour(path: Path, index: int) -> np.ndarray | None:
    """A PDF page rendered in colour, at the size read_page renders it grey; None on any doubt."""
    try:
        return pdf.read_colour_pixels(path, index)
    except Exception:  # noqa: BLE001 - read_page then renders it grey and words any damage
        return None


def _colour(path: Path, index: int) -> np.ndarray | None:
    """The page in RGB when it has colour (a palette of greys has none); None otherwise or on any doubt."""
    try:
        with Image.open(path) as image:
            if index:
                image.seek(index)
            if image.mode not in _COLOUR_MODES:
                return None
            if image.mode in ("P", "PA") and _grey_palette(image):
                return None
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            if "A" in upright.mode or upright.mode in ("RGBa", "P", "PA"):
                rgba = upright.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                rgb = Image.alpha_composite(paper, rgba).convert("RGB")
            else:
                rgb = upright.convert("RGB")
            pixels = np.asarray(rgb, dtype=np.uint8)
    except Exception:  # noqa: BLE001 - read_page then reads it grey and words any damage
        return None
    if pixels.ndim != 3:
        return None
    return np.ascontiguousarray(pixels)


def _grey_palette(image: Image.Image) -> bool:
    palette = image.getpalette() or []
    triples = [palette[i:i + 3] for i in range(0, len(palette) - 2, 3)]
    return all(r == g == b for r, g, b in triples)
