"""Synthetic training pairs: clean pages drawn from scratch, then degraded.

``render_page`` draws what documents hold: printed text in many fonts, sizes,
weights and ink darkness, handwriting-like pen strokes, rules and tables, and
solid dark areas (redaction bars, filled shapes, photographs) that a cleaner
must keep dark.  ``SyntheticSampler`` pairs each such page, or a crop of a
real clean page, with a degraded copy (engine.data.degrade).

Fonts are the text fonts that ship with matplotlib (DejaVu, STIX, Computer
Modern), so a seed gives the same pages on every machine; a folder of more
``.ttf``/``.otf`` files may be added.
"""
from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.errors import ConfigurationError
from engine.data import degrade
from engine.data import pairs
from engine.io import to_unit

# Letters of Latin, Greek and Cyrillic scripts (DIBCO and real scans hold
# all three), digits and punctuation.
_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "àáâäçèéêëìíîïñòóôöùúûüßÀÉÈÇÖÜ"
    "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΘΛΠΣΦΨΩ"
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯ"
    "0123456789"
)
_PUNCTUATION = ".,;:!?-()'\"/%&§"
# matplotlib's fonts for symbols and sizes, not for text.
_NOT_TEXT = ("cmex", "cmmi", "cmsy", "STIXSiz", "STIXNonUni", "LastResort", "Display")


def font_files(extra_folder: Optional[str | os.PathLike[str]] = None) -> list[Path]:
    """The text fonts used for synthetic pages, sorted (so seeds are stable)."""
    found: list[Path] = []
    try:
        import matplotlib

        bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        found += [p for p in bundled.glob("*.ttf") if not p.name.startswith(_NOT_TEXT)]
    except ImportError:
        pass
    if extra_folder is not None:
        found += [p for p in Path(extra_folder).rglob("*") if p.suffix.lower() in (".ttf", ".otf")]
    return sorted(set(found))


@functools.lru_cache(maxsize=512)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _any_font(fonts: Sequence[Path], size: int, rng: np.random.Generator) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if fonts:
        return _font(str(fonts[int(rng.integers(len(fonts)))]), size)
    # Pillow's own scalable font: enough to train on where matplotlib is absent.
    return ImageFont.load_default(size)


def _word(rng: np.random.Generator, latin_only: bool) -> str:
    length = int(rng.integers(1, 11))
    script = 0 if latin_only else rng.integers(4)
    pool = {0: _ALPHABET[:52], 1: _ALPHABET[52:81], 2: _ALPHABET[81:117], 3: _ALPHABET[117:183]}[int(script)]
    if rng.random() < 0.15:
        pool = "0123456789"
    word = "".join(pool[int(i)] for i in rng.integers(len(pool), size=length))
    if rng.random() < 0.15:
        word += _PUNCTUATION[int(rng.integers(len(_PUNCTUATION)))]
    return word


def _ink(rng: np.random.Generator) -> float:
    """Ink level of the clean page: mostly near black, often grey print, pencil or faded ink.

    Faint ink stays faint in the clean page: the model learns to whiten the
    paper around it and keep it, not to guess how dark it once was.
    """
    kind = rng.random()
    return float(rng.uniform(0.0, 0.2) if kind < 0.6 else rng.uniform(0.2, 0.5) if kind < 0.85
                 else rng.uniform(0.5, 0.75))


def draw_text(canvas: Image.Image, rng: np.random.Generator, fonts: Sequence[Path]) -> None:
    """Lines of random words in one font, size and ink, like a paragraph."""
    width, height = canvas.size
    size = int(round(math.exp(rng.uniform(math.log(9), math.log(72)))))
    font = _any_font(fonts, size, rng)
    # Computer Modern has no Greek or Cyrillic letters: boxes would be drawn instead.
    latin_only = Path(getattr(font, "path", "")).name.startswith("cm")
    ink = int(round(255 * _ink(rng)))
    draw = ImageDraw.Draw(canvas)
    spacing = size * rng.uniform(1.1, 1.8)
    left = int(rng.uniform(-0.2, 0.5) * width)
    y = rng.uniform(-size, 0.5 * height)
    stroke = int(rng.integers(0, 2)) if size > 20 and rng.random() < 0.2 else 0
    while y < height:
        x: float = left
        while x < width:
            word = _word(rng, latin_only)
            draw.text((x, y), word, fill=ink, font=font, stroke_width=stroke, stroke_fill=ink)
            x += draw.textlength(word, font=font) + size * rng.uniform(0.25, 0.6)
        y += spacing
        if rng.random() < 0.08:
            y += spacing * rng.uniform(1, 3)  # a paragraph break


def draw_handwriting(page: np.ndarray, rng: np.random.Generator) -> None:
    """Cursive-like pen strokes along lines: loops of varying height and slant."""
    height, width = page.shape
    line_height = rng.uniform(15, 80)
    thickness = int(max(1, round(line_height * rng.uniform(0.04, 0.12))))
    ink = _ink(rng)
    y = rng.uniform(0, line_height)
    slant = rng.uniform(-0.4, 0.2)
    while y < height + line_height:
        x = rng.uniform(-20, 0.2 * width)
        while x < width:
            letters = int(rng.integers(2, 9))
            t = np.linspace(0, letters * 2 * math.pi, letters * 16)
            amplitude = line_height * rng.uniform(0.15, 0.35) * (1 + 0.5 * rng.standard_normal(t.size).cumsum() / 20)
            advance = line_height * rng.uniform(0.2, 0.4)
            ys = y - amplitude * (1 - np.cos(t)) / 2
            xs = x + t / (2 * math.pi) * advance + np.sin(t) * advance * rng.uniform(0.2, 0.5)
            xs = xs + (y - ys) * slant
            points = np.stack([xs, ys], axis=1).round().astype(np.int32)
            cv2.polylines(page, [points], False, ink, thickness, cv2.LINE_AA)
            x = xs.max() + line_height * rng.uniform(0.3, 0.8)
        y += line_height * rng.uniform(1.2, 2.0)


def draw_rules(page: np.ndarray, rng: np.random.Generator) -> None:
    """Ruled lines, boxes and table grids."""
    height, width = page.shape
    ink = _ink(rng)
    thickness = int(rng.integers(1, 4))
    top, left = int(rng.integers(0, height // 2 + 1)), int(rng.integers(0, width // 2 + 1))
    bottom, right = int(rng.integers(top + 1, height + 1)), int(rng.integers(left + 1, width + 1))
    rows = int(rng.integers(1, 8))
    cols = int(rng.integers(0, 6))
    for y in np.linspace(top, bottom, rows + 1):
        cv2.line(page, (left, int(y)), (right, int(y)), ink, thickness, cv2.LINE_AA)
    for x in np.linspace(left, right, cols + 1) if cols else ():
        cv2.line(page, (int(x), top), (int(x), bottom), ink, thickness, cv2.LINE_AA)


def draw_dark_area(page: np.ndarray, rng: np.random.Generator) -> None:
    """Content that is dark on purpose: a redaction bar, a filled shape or a photograph."""
    height, width = page.shape
    h = int(rng.uniform(0.05, 0.6) * height) + 2
    w = int(rng.uniform(0.05, 0.6) * width) + 2
    top, left = int(rng.integers(0, max(1, height - h))), int(rng.integers(0, max(1, width - w)))
    kind = rng.integers(3)
    if kind == 0:
        page[top:top + h, left:left + w] = rng.uniform(0.0, 0.15)
    elif kind == 1:
        centre = (left + w // 2, top + h // 2)
        cv2.ellipse(page, centre, (w // 2, h // 2), 0, 0, 360, rng.uniform(0.0, 0.4), -1, cv2.LINE_AA)
    else:
        photo = 0.5 + 0.5 * degrade.smooth_field((h, w), rng.uniform(2, 12), rng)
        photo += 0.1 * rng.standard_normal((h, w)).astype(np.float32)
        page[top:top + h, left:left + w] = np.clip(photo * rng.uniform(0.5, 1.0), 0.0, 1.0)


def render_page(shape: tuple[int, int], rng: np.random.Generator, fonts: Sequence[Path] = ()) -> np.ndarray:
    """A clean page of ``shape`` (height, width): float32 in [0, 1], white paper."""
    height, width = shape
    canvas = Image.new("L", (width, height), 255)
    for _ in range(int(rng.integers(1, 3))):
        if rng.random() < 0.8:
            draw_text(canvas, rng, fonts)
    page = np.asarray(canvas, dtype=np.float32) / np.float32(255.0)
    if rng.random() < 0.35:
        draw_handwriting(page, rng)
    if rng.random() < 0.2:
        draw_rules(page, rng)
    if rng.random() < 0.12:
        draw_dark_area(page, rng)
    return page


class SyntheticSampler:
    """Endless (degraded, clean) training crops of ``crop`` x ``crop`` pixels.

    A share ``real_share`` of the clean sides are crops of ``clean_pages``
    (real clean pages, e.g. the ground truth of the training documents);
    the rest are drawn by render_page.  Same ``seed``, same crops.
    """

    BORDER_SHARE = 0.1  # crops that show the scanner beyond the paper's edge

    def __init__(self, crop: int = 128, seed: int = 0, clean_pages: Sequence[np.ndarray] = (),
                 real_share: float = 0.3, font_folder: Optional[str | os.PathLike[str]] = None) -> None:
        if crop < 8:
            raise ConfigurationError(f"crop must be at least 8 pixels, got {crop}")
        self.crop = int(crop)
        self.fonts = font_files(font_folder)
        self.clean_pages = [p for p in clean_pages if min(p.shape) >= crop]
        self.real_share = real_share if self.clean_pages else 0.0
        self._rng = np.random.default_rng(seed)

    def _clean(self) -> np.ndarray:
        rng = self._rng
        if rng.random() < self.real_share:
            page = self.clean_pages[int(rng.integers(len(self.clean_pages)))]
            top = int(rng.integers(page.shape[0] - self.crop + 1))
            left = int(rng.integers(page.shape[1] - self.crop + 1))
            return to_unit(page[top:top + self.crop, left:left + self.crop])
        return render_page((self.crop, self.crop), rng, self.fonts)

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """One (noisy, clean) pair, each float32 (crop, crop) in [0, 1]."""
        clean = self._clean()
        back = self._clean() if self._rng.random() < 0.3 else None
        noisy = degrade.degrade(clean, self._rng, other=back)
        if self._rng.random() < self.BORDER_SHARE:
            # Beyond the sheet's edge there is nothing to keep: white in the clean page.
            area = degrade.paper_area(clean.shape, self._rng)
            noisy = degrade.scan_border(noisy, self._rng, area)
            clean = clean * area + (1.0 - area)
        return noisy, clean

    def batch(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` pairs as float32 arrays of shape (n, crop, crop, 1)."""
        return pairs.draw_batch(self, n)
