"""Degradations of clean pages the way scanners, cameras, paper and time do it.

Each function takes a grey page (float32, shape (H, W), 0 = black ink,
1 = white paper) and a numpy ``Generator``, and returns a new page of the same
shape in [0, 1]; the input is never modified.  The same generator state gives
the same result, so a training run is reproducible from its seed.
``degrade`` chains a random selection of them into one realistic scan.

Units: lengths are in pixels, strengths are fractions of the paper level.
"""
from __future__ import annotations

import math
from typing import Callable, Optional, cast

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.io import to_uint8

# A grey page: float32, (H, W), 0 = black ink, 1 = white paper.
Page = NDArray[np.float32]
# OpenCV keeps a float32 input's depth, but its stubs type every result as
# "some numeric array": the casts below of OpenCV results say float32.
Transform = Callable[[Page, np.random.Generator], Page]


def smooth_field(shape: tuple[int, int], cells: float, rng: np.random.Generator) -> Page:
    """Low-frequency noise in [-1, 1] with about ``cells`` bumps across the longer side."""
    height, width = shape
    scale = max(height, width) / max(cells, 1.0)
    small = (max(2, math.ceil(height / scale) + 2), max(2, math.ceil(width / scale) + 2))
    coarse = rng.uniform(-1.0, 1.0, small).astype(np.float32)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(field, -1.0, 1.0)


def _blob(shape: tuple[int, int], rng: np.random.Generator, radius: float) -> Page:
    """A soft irregular blob mask in [0, 1] somewhere on the page."""
    height, width = shape
    cy, cx = rng.uniform(0, height), rng.uniform(0, width)
    yy: Page
    xx: Page
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    ratio = rng.uniform(0.5, 1.0)
    dy, dx = yy - cy, xx - cx
    u = dx * math.cos(angle) + dy * math.sin(angle)
    v = (-dx * math.sin(angle) + dy * math.cos(angle)) / ratio
    distance = np.sqrt(u * u + v * v) / radius
    # A wobbly edge: real stains are not ellipses.
    distance *= 1.0 + 0.25 * smooth_field(shape, max(height, width) / radius * 2, rng)
    edge = rng.uniform(0.05, 0.4)
    return np.clip((1.0 - distance) / edge, 0.0, 1.0)


def faded_ink(page: Page, rng: np.random.Generator, keep: Optional[float] = None) -> Page:
    """Ink lightened towards the paper, unevenly: ``keep`` (default 25-85 %) of its contrast kept."""
    keep = rng.uniform(0.25, 0.85) if keep is None else keep
    variation = rng.uniform(0.0, 0.3) * smooth_field(page.shape, rng.uniform(1, 6), rng)
    factor: Page = np.clip(keep + variation, 0.15, 1.0)
    return (1.0 - (1.0 - page) * factor).astype(np.float32)


def bleed_through(page: Page, rng: np.random.Generator, other: Optional[Page] = None,
                  strongest: float = 0.7) -> Page:
    """The other side's ink showing through: mirrored, often blurred, fainter than the front.

    ``strongest`` caps the share of the back's contrast that shows (0.15 up to it).
    """
    back = other if other is not None and other.shape == page.shape else np.roll(
        page, (int(rng.integers(page.shape[0])), int(rng.integers(page.shape[1]))), axis=(0, 1))
    back = back[:, ::-1]
    if rng.random() < 0.8:
        back = cast(Page, cv2.GaussianBlur(back, (0, 0), rng.uniform(0.4, 2.5)))
    strength = rng.uniform(0.15, max(0.16, strongest))
    return (page * (1.0 - strength * (1.0 - back))).astype(np.float32)


def paper(page: Page, rng: np.random.Generator) -> Page:
    """Grey, yellowed (darker in grey) and textured paper under the ink."""
    tone = rng.uniform(0.55, 0.97)
    mottling = rng.uniform(0.0, 0.08) * smooth_field(page.shape, rng.uniform(2, 20), rng)
    fibres = rng.uniform(0.0, 0.04) * rng.standard_normal(page.shape).astype(np.float32)
    fibres = cast(Page, cv2.GaussianBlur(fibres, (0, 0), rng.uniform(0.5, 1.5)))
    return np.clip(page * (tone + mottling + fibres), 0.0, 1.0).astype(np.float32)


def stains(page: Page, rng: np.random.Generator) -> Page:
    """Coffee and water stains: soft blobs, some with a darker drying ring."""
    out = page.copy()
    size = max(page.shape)
    for _ in range(int(rng.integers(1, 4))):
        mask = _blob(page.shape, rng, rng.uniform(0.05, 0.4) * size)
        if rng.random() < 0.4:
            ring = np.clip(1.0 - np.abs(mask - 0.1) * 8.0, 0.0, 1.0)
            mask = 0.5 * mask + ring
        out *= 1.0 - rng.uniform(0.1, 0.5) * np.clip(mask, 0.0, 1.0)
    return out.astype(np.float32)


def _line_distance(shape: tuple[int, int], rng: np.random.Generator) -> Page:
    """Signed distance in pixels to a random straight line across the page."""
    height, width = shape
    angle = rng.uniform(0, math.pi)
    cy, cx = rng.uniform(0, height), rng.uniform(0, width)
    yy: Page
    xx: Page
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    return (xx - cx) * math.sin(angle) - (yy - cy) * math.cos(angle)


def folds(page: Page, rng: np.random.Generator, count: Optional[int] = None,
          strength: float = 1.0) -> Page:
    """Folds and creases: a thin dark line with shading falling off on one side."""
    out = page.copy()
    for _ in range(count or int(rng.integers(1, 3))):
        distance = _line_distance(page.shape, rng)
        width = rng.uniform(0.7, 2.5)
        crease = np.exp(-(distance / width) ** 2) * rng.uniform(0.1, 0.4) * strength
        falloff = rng.uniform(5, 60)
        side = np.where(distance * rng.choice([-1, 1]) > 0, np.exp(-np.abs(distance) / falloff), 0.0)
        shade = side * rng.uniform(-0.08, 0.2) * strength
        out *= (1.0 - crease - shade).astype(np.float32)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def crumples(page: Page, rng: np.random.Generator) -> Page:
    """Crumpled paper: many faint creases over a wavy shading."""
    out = folds(page, rng, count=int(rng.integers(4, 10)), strength=rng.uniform(0.2, 0.5))
    shading = 1.0 - rng.uniform(0.03, 0.12) * (smooth_field(page.shape, rng.uniform(3, 8), rng) + 1.0) / 2
    return (out * shading).astype(np.float32)


def watermark(page: Page, rng: np.random.Generator, mark: Optional[Page] = None) -> Page:
    """A large faint mark over the page: ``mark`` (1 = nothing) or random shapes."""
    if mark is None or mark.shape != page.shape:
        mark = np.ones_like(page)
        height, width = page.shape
        for _ in range(int(rng.integers(1, 4))):
            centre = (int(rng.integers(width)), int(rng.integers(height)))
            axes = (int(rng.uniform(0.1, 0.5) * width), int(rng.uniform(0.05, 0.3) * height))
            thickness = int(rng.integers(3, max(4, min(height, width) // 12)))
            cv2.ellipse(mark, centre, axes, rng.uniform(0, 180), 0, 360, 0.0, thickness, cv2.LINE_AA)
        mark = cast(Page, cv2.GaussianBlur(mark, (0, 0), rng.uniform(0.5, 3)))
    strength = rng.uniform(0.08, 0.35)
    return (page * (1.0 - strength * (1.0 - mark))).astype(np.float32)


def uneven_light(page: Page, rng: np.random.Generator) -> Page:
    """Phone-photo lighting: a gradient, a vignette or a soft shadow edge."""
    height, width = page.shape
    kind = rng.integers(3)
    light: Page
    if kind == 0:
        distance = _line_distance(page.shape, rng) / max(height, width)
        light = 1.0 - rng.uniform(0.1, 0.6) * np.clip(distance + 0.5, 0.0, 1.0)
    elif kind == 1:
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        radius = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2) / max(height, width)
        light = 1.0 - rng.uniform(0.1, 0.6) * np.clip(radius, 0.0, 1.0)
    else:
        distance = _line_distance(page.shape, rng)
        softness = rng.uniform(2, 0.2 * max(height, width))
        light = 1.0 - rng.uniform(0.2, 0.65) / (1.0 + np.exp(np.clip(-distance / softness, -50, 50)))
    return (page * light).astype(np.float32)


def paper_area(shape: tuple[int, int], rng: np.random.Generator) -> Page:
    """Where the sheet is (1) and where the scanner sees past its edge (0), along one or two sides."""
    height, width = shape
    area = np.ones(shape, np.float32)
    for side in rng.choice(4, size=int(rng.integers(1, 3)), replace=False):
        along = height if side < 2 else width
        depth = rng.uniform(0.02, 0.15) * (width if side < 2 else height)
        # A slightly skewed, wavy paper edge.
        edge = depth * (1 + rng.uniform(-0.3, 0.3) * np.linspace(-1, 1, along)) + 2 * smooth_field((1, along), 6, rng)[0]
        distance = np.arange(width if side < 2 else height, dtype=np.float32)
        if side % 2:
            distance = distance[::-1]
        inside = np.clip(distance[None, :] - edge[:, None], 0.0, 1.0)
        area *= inside.T if side >= 2 else inside
    return area


def scan_border(page: Page, rng: np.random.Generator, area: Optional[Page] = None) -> Page:
    """The scanner lid or table beyond the paper's edge: dark where ``area`` (paper_area) is 0."""
    area = paper_area(page.shape, rng) if area is None else area
    dark = rng.uniform(0.0, 0.35)
    return (page * area + dark * (1.0 - area)).astype(np.float32)


def blur(page: Page, rng: np.random.Generator) -> Page:
    """Out of focus or resampled: Gaussian blur, or down- and up-sampling."""
    if rng.random() < 0.6:
        return cast(Page, cv2.GaussianBlur(page, (0, 0), rng.uniform(0.3, 1.5)))
    height, width = page.shape
    factor = rng.uniform(0.4, 0.8)
    small = cv2.resize(page, (max(1, int(width * factor)), max(1, int(height * factor))),
                       interpolation=cv2.INTER_AREA)
    return cast(Page, cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR))


def noise(page: Page, rng: np.random.Generator) -> Page:
    """Sensor noise and speckle (isolated dark and light dots)."""
    out = page + rng.uniform(0.005, 0.05) * rng.standard_normal(page.shape).astype(np.float32)
    if rng.random() < 0.5:
        density = rng.uniform(0.0002, 0.003)
        dots = rng.random(page.shape) < density
        out[dots] *= rng.uniform(0.2, 0.7)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def jpeg(page: Page, rng: np.random.Generator) -> Page:
    """JPEG compression at quality 15-85."""
    quality = int(rng.integers(15, 86))
    ok, encoded = cv2.imencode(".jpg", to_uint8(page), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit grey array
        return page.copy()
    decoded = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    assert decoded is not None  # it was encoded just above
    return decoded.astype(np.float32) / np.float32(255.0)


def exposure(page: Page, rng: np.random.Generator) -> Page:
    """A scanner's brightness and contrast setting."""
    contrast = rng.uniform(0.7, 1.15)
    offset = rng.uniform(-0.1, 0.08)
    adjusted: Page = (page - 0.5) * contrast + 0.5 + offset
    return np.clip(adjusted, 0.0, 1.0).astype(np.float32)


# (transform, probability) in the order a page lives through them: printed
# ink fades and bleeds, then the paper ages, gets stained and folded, then it
# is lit, photographed or scanned, and saved.
STAGES: tuple[tuple[str, float], ...] = (
    ("faded_ink", 0.2), ("bleed_through", 0.45), ("paper", 0.9), ("stains", 0.35),
    ("folds", 0.25), ("crumples", 0.15), ("watermark", 0.15),
    ("uneven_light", 0.45), ("exposure", 0.4), ("blur", 0.45), ("noise", 0.6), ("jpeg", 0.35),
)


def degrade(clean: Page, rng: np.random.Generator, other: Optional[Page] = None,
            mark: Optional[Page] = None) -> Page:
    """A realistic scan of ``clean``: a random chain of the transforms above.

    ``other`` is a clean page for the bleed-through (the back of the sheet);
    ``mark`` a watermark image (1 = nothing).  Both default to something made
    from the page itself.  Returns float32 in [0, 1], same shape.
    """
    page = np.asarray(clean, dtype=np.float32)
    # The back of the sheet always shows fainter than the front's ink, however
    # faded: that is what tells a reader (and the model) which is which.
    front = 1.0
    for name, probability in STAGES:
        if rng.random() >= probability:
            continue
        if name == "faded_ink":
            front = rng.uniform(0.5, 0.9)
            page = faded_ink(page, rng, front)
        elif name == "bleed_through":
            page = bleed_through(page, rng, other, strongest=0.75 * front)
        elif name == "watermark":
            page = watermark(page, rng, mark)
        else:
            page = TRANSFORMS[name](page, rng)
    return np.clip(page, 0.0, 1.0).astype(np.float32)


TRANSFORMS: dict[str, Transform] = {
    "faded_ink": faded_ink, "bleed_through": bleed_through, "paper": paper, "stains": stains,
    "folds": folds, "crumples": crumples, "watermark": watermark, "uneven_light": uneven_light,
    "exposure": exposure, "blur": blur, "noise": noise, "jpeg": jpeg, "scan_border": scan_border,
}
