"""Degraded colour pages with known marks, for measuring DocClean's colour mode.

A clean NoisyOffice page (black print, its ground truth) is laid on yellowed,
unevenly lit paper with a coffee stain, and marked with a red stamp, a blue
pen's signature, a yellow highlighter over a line and a green colour figure;
then saved as a JPEG at quality 90 and read back, as a phone or scanner
would.  Inks (and the figure's print) let the paper's colour through: each
mark is its colour multiplied onto the yellowed paper, as on a real page.  Every mark's pixels and colour are known, so are the paper's and the
print's.  Deterministic: randomness comes from the ``numpy.random.Generator``
given.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: The marks' colours as drawn (RGB), each multiplied onto the paper as ink and highlighter are.
MARK_COLOURS = {"red stamp": (200, 35, 40), "blue pen": (25, 45, 170), "highlighter": (255, 236, 60),
                "green figure": (40, 150, 70)}
PAPER = np.array([238, 226, 188], np.float32)  # yellowed paper (RGB)
STAIN = np.array([0.86, 0.76, 0.62], np.float32)  # a coffee stain, multiplied onto the paper
PRINT = np.array([35, 33, 30], np.float32)  # black print


@dataclass
class ColourPage:
    """``rgb``: the degraded page (uint8 RGB); ``marks``: each mark's pixels (bool) by name, drawn in
    MARK_COLOURS; ``paper``: bare paper (no print or mark within 3 pixels); ``ink``: black print no mark covers."""

    rgb: np.ndarray
    marks: dict[str, np.ndarray]
    paper: np.ndarray
    ink: np.ndarray


def _smooth(rng: np.random.Generator, shape: tuple[int, int], cells: int = 6) -> np.ndarray:
    """Smooth noise in [-1, 1] over ``shape``."""
    coarse = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    return np.asarray(cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC).clip(-1, 1))


def colour_page(clean: np.ndarray, rng: np.random.Generator) -> ColourPage:
    """``clean`` (a grey page, uint8: print black on white) made a degraded colour page with known marks."""
    clean = np.pad(clean, 40, constant_values=255)
    height, width = clean.shape
    ink = clean < 128
    light = 1.0 + 0.06 * _smooth(rng, (height, width))  # uneven light
    page = np.ones((height, width, 3), np.float32) * PAPER * light[..., None]
    # A coffee ring: a soft band of stain.
    yy, xx = np.mgrid[:height, :width]
    cy, cx, radius = rng.uniform(0.3, 0.7) * height, rng.uniform(0.3, 0.7) * width, 0.18 * min(height, width)
    ring = np.exp(-np.square((np.hypot(yy - cy, xx - cx) - radius) / (0.05 * min(height, width))))
    page *= 1 - ring[..., None] * (1 - STAIN)
    page[ink] = PRINT
    marks = {name: np.zeros((height, width), np.uint8) for name in MARK_COLOURS}
    side = min(height, width)
    stamp = (int(0.75 * width), int(0.25 * height))
    cv2.circle(marks["red stamp"], stamp, int(0.09 * side), 1, max(3, side // 90))
    cv2.circle(marks["red stamp"], stamp, int(0.06 * side), 1, max(2, side // 150))
    xs = np.linspace(0.15 * width, 0.5 * width, 200)
    ys = 0.85 * height + 0.03 * side * np.sin(np.linspace(0, 5 * np.pi, 200))
    cv2.polylines(marks["blue pen"], [np.stack([xs, ys], 1).astype(np.int32)], False, 1, max(2, side // 200))
    rows = np.flatnonzero(ink.any(axis=1))
    line = int(rows[len(rows) // 3]) if len(rows) else height // 3
    marks["highlighter"][line - side // 60:line + side // 60, int(0.1 * width):int(0.6 * width)] = 1
    figure = (slice(int(0.55 * height), int(0.7 * height)), slice(int(0.62 * width), int(0.9 * width)))
    marks["green figure"][figure] = 1
    for name, colour in MARK_COLOURS.items():
        where = marks[name].astype(bool)
        tint = np.array(colour, np.float32) / 255.0
        if name == "green figure":  # a figure's tones: a gradient of its colour, printed on the paper
            shade = np.linspace(0.7, 1.15, where.sum(), dtype=np.float32)[:, None]
            page[where] = np.clip(PAPER * light[where][:, None] * tint * shade, 0, 255)
        elif name == "highlighter":
            page[where] *= tint  # transparent: the print shows through
        else:
            page[where] = np.minimum(page[where], PAPER * tint)
    page += rng.normal(0, 2.0, page.shape).astype(np.float32)
    rgb = np.clip(page + 0.5, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    rgb = cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    any_mark = np.zeros((height, width), bool)
    for mask in marks.values():
        any_mark |= mask.astype(bool)
    near = cv2.dilate((ink | any_mark).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    eroded = {name: cv2.erode(mask, np.ones((3, 3), np.uint8)).astype(bool) for name, mask in marks.items()}
    return ColourPage(rgb, eroded, ~near, ink & ~cv2.dilate(any_mark.astype(np.uint8), np.ones((5, 5))).astype(bool))


def hue_saturation(rgb: np.ndarray) -> tuple[float, float]:
    """The hue (degrees) and saturation (0-1) of the median colour of ``rgb`` pixels (N x 3)."""
    median = np.median(rgb.reshape(-1, 3), axis=0).astype(np.float32) / 255.0
    hsv = cv2.cvtColor(median[None, None, :], cv2.COLOR_RGB2HSV)[0, 0]
    return float(hsv[0]), float(hsv[1])


def hue_distance(a: float, b: float) -> float:
    """Degrees between two hues, round the circle."""
    return float(abs((a - b + 180.0) % 360.0 - 180.0))
