"""Training crops for the picture finder: pages, some with a picture printed on them.

Each crop is a CROP x CROP piece of a page seen whole (its longer side at
most ~1400 pixels, as the finder sees pages), with a label per CELL x CELL
square: 1 where at least half of it is picture.  Backgrounds are real pages
without pictures (historical documents, office prints under stains) or
drawn pages under the product's degradations; pictures are drawn: smooth
random fields and shaded shapes, at any tone range, half the time seen
through a half-tone screen.  Negatives that look like pictures to a
classical method are made on purpose: the dark beyond a page's edge, a
book's gutter shadow, stains, crumples, blurred handwriting.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from engine.data import degrade, synthetic

CROP = 256
CELL = 16
REAL_SHARE = 0.45  # crops from real pages; the rest are drawn
PICTURE_SHARE = 0.5  # crops with a picture
SEEN_SIDE = (700, 1400)  # the longer side real pages are shrunk to (never enlarged)

Page = np.ndarray


def picture(shape: tuple[int, int], rng: np.random.Generator) -> Page:
    """A drawn picture of ``shape``: float32 in [0, 1] (photograph-like tones, maybe half-toned)."""
    height, width = shape
    image = np.zeros(shape, np.float32)
    for cells in (2, 4, 8, 16):
        image += degrade.smooth_field(shape, cells, rng) * np.float32(rng.uniform(0.2, 1.0))
    image = (image - image.min()) / max(1e-6, float(image.max() - image.min()))
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    for _ in range(int(rng.integers(0, 6))):  # objects with shading and hard edges
        mask = np.zeros(shape, np.uint8)
        if rng.random() < 0.5:
            axes = (int(rng.integers(3, max(4, width // 2))), int(rng.integers(3, max(4, height // 2))))
            cv2.ellipse(mask, (int(rng.integers(width)), int(rng.integers(height))), axes,
                        float(rng.uniform(0, 180)), 0, 360, 1, -1)
        else:
            corners = np.stack([rng.integers(0, width, 4), rng.integers(0, height, 4)], 1).astype(np.int32)
            cv2.fillPoly(mask, [corners], 1)
        angle = rng.uniform(0, 2 * np.pi)
        shading = (np.cos(angle) * cols + np.sin(angle) * rows) / max(height, width)
        image = np.where(mask > 0, np.clip(rng.uniform(0, 1) + shading * rng.uniform(-1, 1), 0, 1), image)
    low, high = rng.uniform(0.0, 0.45), rng.uniform(0.55, 1.0)
    image = low + (high - low) * image
    if rng.random() < 0.5:  # film grain, paper texture
        image = image + rng.normal(0, rng.uniform(0.01, 0.08), shape).astype(np.float32)
    if rng.random() < 0.6:
        image = half_tone(image, rng)
    return np.clip(image, 0, 1).astype(np.float32)


def half_tone(image: Page, rng: np.random.Generator) -> Page:
    """``image`` printed through a rotated dot screen of 1.5-5 pixels, as book illustrations are."""
    height, width = image.shape
    period, angle = rng.uniform(1.5, 5.0), rng.uniform(0, np.pi / 2)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    u = (np.cos(angle) * cols + np.sin(angle) * rows) * np.float32(2 * np.pi / period)
    v = (-np.sin(angle) * cols + np.cos(angle) * rows) * np.float32(2 * np.pi / period)
    screen = 0.5 + 0.25 * (np.cos(u) + np.cos(v))
    dots = (np.clip(image, 0, 1) > screen).astype(np.float32)
    share = rng.uniform(0.3, 1.0) if period < 3 else rng.uniform(0.6, 1.0)  # fine screens blur into tone
    blurred = np.asarray(cv2.GaussianBlur(dots, (0, 0), rng.uniform(0.5, 1.2)), np.float32)
    printed: Page = (share * blurred + (1 - share) * image).astype(np.float32)
    return printed


def _gutter(page: Page, rng: np.random.Generator) -> Page:
    """A book's gutter: a soft dark band across the crop, not a picture."""
    along = np.arange(page.shape[1], dtype=np.float32)
    centre, spread = rng.uniform(0, page.shape[1]), rng.uniform(5, 60)
    shade = 1 - rng.uniform(0.3, 0.9) * np.exp(-((along - centre) / spread) ** 2)
    shaded: Page = (page * (shade[None, :] if rng.random() < 0.7 else shade[:, None])).astype(np.float32)
    return shaded


class PictureSampler:
    """Endless (page crop, square labels) pairs; same ``seed``, same crops."""

    def __init__(self, pages: Sequence[Page], seed: int = 0) -> None:
        self.pages = [p for p in pages if p.size]
        self.rng = np.random.default_rng(seed)
        self.fonts = synthetic.font_files()

    def _real(self) -> Page:
        rng = self.rng
        page = self.pages[int(rng.integers(len(self.pages)))]
        height, width = page.shape
        scale = min(1.0, rng.uniform(*SEEN_SIDE) / max(height, width))
        if scale < 1:
            page = cv2.resize(page, (max(1, round(width * scale)), max(1, round(height * scale))),
                              interpolation=cv2.INTER_AREA)
        page = np.pad(page, ((0, max(0, CROP - page.shape[0])), (0, max(0, CROP - page.shape[1]))), mode="reflect")
        top, left = int(rng.integers(page.shape[0] - CROP + 1)), int(rng.integers(page.shape[1] - CROP + 1))
        return np.array(page[top:top + CROP, left:left + CROP], np.float32)

    def _drawn(self) -> Page:
        # Drawn larger and shrunk: small text, as on a page seen whole.
        side = int(CROP * self.rng.uniform(1.0, 3.0))
        page = synthetic.render_page((side, side), self.rng, self.fonts)
        return np.asarray(cv2.resize(page, (CROP, CROP), interpolation=cv2.INTER_AREA), np.float32)

    def sample(self) -> tuple[Page, Page]:
        """One (crop, labels): float32 (CROP, CROP) in [0, 1] and (CROP // CELL,) * 2 of 0/1."""
        rng = self.rng
        real = bool(self.pages) and rng.random() < REAL_SHARE
        page = self._real() if real else self._drawn()
        label = np.zeros((CROP, CROP), np.float32)
        if rng.random() < PICTURE_SHARE:
            tall, wide = int(rng.uniform(0.15, 0.9) * CROP), int(rng.uniform(0.15, 0.9) * CROP)
            top, left = int(rng.integers(-tall // 3, CROP - tall // 2)), int(rng.integers(-wide // 3, CROP - wide // 2))
            top0, left0, bottom, right = max(0, top), max(0, left), min(CROP, top + tall), min(CROP, left + wide)
            if bottom - top0 > 4 and right - left0 > 4:
                paper = float(np.percentile(page, 90))
                page[top0:bottom, left0:right] = picture((bottom - top0, right - left0), rng) * paper
                label[top0:bottom, left0:right] = 1
        if not real:
            page = degrade.degrade(page, rng)
        chance = rng.random()
        if chance < 0.15:
            page = degrade.scan_border(page, rng)
        elif chance < 0.3:
            page = _gutter(page, rng)
        cells = cv2.resize(label, (CROP // CELL, CROP // CELL), interpolation=cv2.INTER_AREA)
        return page.astype(np.float32), (cells >= 0.5).astype(np.float32)

    def batch(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """``count`` pairs as float32 arrays (count, CROP, CROP, 1) and (count, CROP // CELL, CROP // CELL, 1)."""
        crops, labels = zip(*(self.sample() for _ in range(count)))
        return np.stack(crops)[..., None], np.stack(labels)[..., None]
