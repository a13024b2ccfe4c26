"""Pages for the page-geometry benchmark (benchmarks/geometry.py): real straight pages and the ways to spoil them.

Every maker is deterministic: randomness comes from a ``numpy.random.Generator``
the caller seeds, or from a fixed seed.  Pages are 2-D grey ``uint8`` arrays
(0 black .. 255 white); sizes and coordinates are in pixels, (x, y) with x to
the right and y down, and angles in degrees, anticlockwise positive as seen on
screen (OpenCV's ``getRotationMatrix2D`` convention).  Corners are (4, 2)
float arrays in the order top-left, top-right, bottom-right, bottom-left, at
the centres of the page's corner pixels (a page of width w has its corners at
x = 0 and x = w - 1), the convention of engine.geometry's corners.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = PROJECT.parent / "shared" / "data"
SAMPLES = PROJECT / "resources" / "samples"
PICTURE_BOXES = Path(__file__).resolve().parent / "picture_boxes.json"

# DIBCO sources picked by eye as whole upright text pages in Latin script (the MSI pages are
# stored lying on their side and the Persian ones are another script, so neither is here).
DIBCO_PAGES = {
    "DIBCO2017_H11": "print", "DIBCO2017_H12": "print", "DIBCO2017_H15": "print",
    "DIBCO2017_H17": "print", "DIBCO2017_H19": "print", "DIBCO2017_H20": "print",
    "Nabuco_H06": "typed", "Nabuco_H13": "typed", "Nabuco_H14": "typed",
    "Nabuco_H01": "handwriting", "Nabuco_H03": "handwriting", "DIBCO2014_H03": "handwriting",
}
NOISYOFFICE_PAGES = 6  # distinct clean NoisyOffice documents taken, in file-number order
PAPER_PERCENTILE = 90  # grey percentile taken as a page's paper brightness
FILL_NOISE = 3.0  # standard deviation (grey levels) of the noise in the paper added around a turned page

Corners = np.ndarray  # (4, 2) float64: TL, TR, BR, BL as (x, y)


def read_grey(path: Path) -> np.ndarray:
    """A picture file as a 2-D grey uint8 array; FileNotFoundError if it cannot be read."""
    pixels = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if pixels is None:
        raise FileNotFoundError(f"{path}: not a readable picture")
    return pixels


def paper_level(page: np.ndarray) -> float:
    """The page's paper brightness: its PAPER_PERCENTILE-th grey percentile (grey levels, 0..255)."""
    return float(np.percentile(page, PAPER_PERCENTILE))


def noisyoffice_clean(folder: Path, count: int, avoid: set[str]) -> list[tuple[str, np.ndarray]]:
    """The first ``count`` distinct clean NoisyOffice documents (by content hash), none of those in ``avoid``."""
    seen, pages = set(avoid), []
    for path in sorted(folder.glob("*.png"), key=lambda p: int(p.stem) if p.stem.isdigit() else 10**9):
        pixels = read_grey(path)
        digest = hashlib.sha1(pixels.tobytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            pages.append((f"noisyoffice/{path.stem}", pixels))
        if len(pages) == count:
            break
    return pages


def straight_pages(data: Path = DEFAULT_DATA, smoke: bool = False) -> list[tuple[str, np.ndarray]]:
    """Real upright, straight text pages, named ``family/name`` (family: noisyoffice, dibco or sample).

    NOISYOFFICE_PAGES clean NoisyOffice documents (whole pages, 540 px wide),
    the DIBCO_PAGES sources, and the bundled sample pages (noisy NoisyOffice
    scans, resources/samples).  The clean documents skip those the samples are
    noisy versions of (same file number), so no text is counted twice.  A
    smoke run gets one page of each family: the first of each.
    """
    samples = sorted(SAMPLES.glob("*.png"))
    clean = data / "noisyoffice" / "clean"
    avoid = {hashlib.sha1(read_grey(clean / (path.stem.split("-")[-1] + ".png")).tobytes()).hexdigest()
             for path in samples if (clean / (path.stem.split("-")[-1] + ".png")).is_file()}
    pages = noisyoffice_clean(clean, 1 if smoke else NOISYOFFICE_PAGES, avoid)
    dibco = list(DIBCO_PAGES)[:1] if smoke else list(DIBCO_PAGES)
    pages += [(f"dibco/{name}", read_grey(data / "dibco" / "source" / f"{name}.png")) for name in dibco]
    pages += [(f"sample/{path.stem}", read_grey(path)) for path in (samples[:1] if smoke else samples)]
    return pages


def family(name: str) -> str:
    """The family part of a page name made by this module (``dibco/Nabuco_H01`` -> ``dibco``)."""
    return name.split("/", 1)[0]


def page_corners(width: int, height: int) -> Corners:
    """The corners of an upright width x height page (its corner pixels' centres), TL, TR, BR, BL."""
    return np.array([[0.0, 0.0], [width - 1.0, 0.0], [width - 1.0, height - 1.0], [0.0, height - 1.0]])


def page_matrix(page: np.ndarray, corners: Corners) -> np.ndarray:
    """The 3 x 3 matrix from the page's pixels to where they lie in a scan or photo with these corners."""
    height, width = page.shape
    return cv2.getPerspectiveTransform(page_corners(width, height).astype(np.float32),
                                       corners.astype(np.float32)).astype(np.float64)


def warped_back(image: np.ndarray, page: np.ndarray, corners: Corners) -> np.ndarray:
    """``image`` (a scan or photo of ``page`` with these corners) warped back onto the page's own frame,
    bilinear as engine.geometry warps: what a perfect geometry stage makes of it."""
    return cv2.warpPerspective(image, page_matrix(page, corners), page.shape[::-1],
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=255)


def moved(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(n, 2) points through a 2x3 affine or 3x3 perspective matrix."""
    if matrix.shape == (2, 3):
        matrix = np.vstack([matrix, [0.0, 0.0, 1.0]])
    return cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), matrix).reshape(-1, 2)


def _turn_matrix(width: int, height: int, degrees: float) -> tuple[np.ndarray, int, int]:
    """The affine matrix turning a page anticlockwise about its centre onto a canvas that holds all of it,
    with that canvas's width and height."""
    centre = ((width - 1) / 2.0, (height - 1) / 2.0)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    corners = moved(page_corners(width, height), matrix)
    new_width = int(np.ceil(corners[:, 0].max() - corners[:, 0].min() - 1e-6)) + 1
    new_height = int(np.ceil(corners[:, 1].max() - corners[:, 1].min() - 1e-6)) + 1
    matrix[0, 2] += (new_width - width) / 2.0
    matrix[1, 2] += (new_height - height) / 2.0
    return matrix, new_width, new_height


def _warp_onto(page: np.ndarray, matrix: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``page`` warped by an affine (2x3) or perspective (3x3) matrix over ``background`` (float, same size),
    blended at the page's edge by the warped coverage, as uint8."""
    height, width = background.shape
    warp = cv2.warpAffine if matrix.shape == (2, 3) else cv2.warpPerspective
    pixels = warp(page.astype(np.float32), matrix, (width, height), flags=cv2.INTER_LINEAR,
                  borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    cover = warp(np.ones(page.shape, np.float32), matrix, (width, height), flags=cv2.INTER_LINEAR,
                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    # The page's pixels were already weighted by the coverage at its edge (the border counts as 0).
    return np.clip(pixels + (1.0 - cover) * background, 0, 255).round().astype(np.uint8)


def turned(page: np.ndarray, degrees: float, seed: int = 0) -> np.ndarray:
    """The page turned anticlockwise by ``degrees`` about its centre, on a canvas just big enough for all of it.

    The canvas's corners around the page are filled with the page's paper
    brightness (paper_level) plus Gaussian noise of FILL_NOISE grey levels
    (seeded by ``seed``), as if the scan had caught more of the same paper.
    """
    height, width = page.shape
    matrix, new_width, new_height = _turn_matrix(width, height, degrees)
    rng = np.random.default_rng(seed)
    fill = paper_level(page) + rng.normal(0.0, FILL_NOISE, (new_height, new_width))
    return _warp_onto(page, matrix, fill.astype(np.float32))


def quarter_turned(page: np.ndarray, k: int) -> np.ndarray:
    """The page turned clockwise by ``k`` quarter turns (the engine should answer turns == (4 - k) % 4)."""
    return np.ascontiguousarray(np.rot90(page, -k))


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Gaussian noise blurred over ``scale`` pixels and renormalised to unit standard deviation.

    Coarse noise is drawn on a grid ``scale`` / 4 times smaller and enlarged:
    a Gaussian blur hundreds of pixels wide would take a minute on a big page.
    """
    step = max(1.0, scale / 4.0)
    small = (int(np.ceil(shape[0] / step)) + 1, int(np.ceil(shape[1] / step)) + 1)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, small).astype(np.float32), (0, 0), max(scale / step, 0.5))
    if step > 1.0:
        noise = cv2.resize(noise, (int(round(small[1] * step)), int(round(small[0] * step))),
                           interpolation=cv2.INTER_CUBIC)
    noise = noise[:shape[0], :shape[1]]
    return noise / max(float(noise.std()), 1e-6)


def on_scanner_bed(page: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Corners]:
    """The page as a flatbed scanner sees it: possibly turned (±3°), on a dark, slightly noisy bed or lid.

    The page is turned anticlockwise by a uniform angle in [-3°, 3°] and laid
    with a margin of bed of 3 to 10 % of its width (left, right) or height
    (top, bottom) on each side, drawn separately.  The bed is dark grey (35 to
    70), with a faint uneven shading (±6 levels over a tenth of the image) and
    pixel noise (σ 3); the whole scan gets a slight blur (σ 0.6 px), as a
    scanner's optics give.  Returns the scan and the page's corners in it.
    """
    height, width = page.shape
    matrix, turned_width, turned_height = _turn_matrix(width, height, float(rng.uniform(-3.0, 3.0)))
    left, right = (rng.uniform(0.03, 0.10, 2) * width).round().astype(int)
    top, bottom = (rng.uniform(0.03, 0.10, 2) * height).round().astype(int)
    matrix[0, 2] += left
    matrix[1, 2] += top
    shape = (turned_height + top + bottom, turned_width + left + right)
    bed = rng.uniform(35.0, 70.0) + 6.0 * _smooth_noise(rng, shape, max(shape) / 10.0) + rng.normal(0.0, 3.0, shape)
    scan = _warp_onto(page, matrix, bed.astype(np.float32))
    scan = cv2.GaussianBlur(scan, (0, 0), 0.6)
    return scan, moved(page_corners(width, height), matrix)


def _table(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A table top under the page, as float grey levels: wood grain or woven fabric, darker than paper."""
    height, width = shape
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    if rng.random() < 0.5:
        # Wood: long grain lines whose phase wanders, knots of darker tone, a warm mid-grey.
        angle = rng.uniform(-0.3, 0.3)
        across = -np.sin(angle) * x + np.cos(angle) * y
        wander = 25.0 * _smooth_noise(rng, shape, max(shape) / 8.0)
        period = rng.uniform(14.0, 30.0)
        grain = np.sin(2 * np.pi * (across + wander) / period)
        texture = 12.0 * grain + 8.0 * _smooth_noise(rng, shape, 6.0) + 10.0 * _smooth_noise(rng, shape, max(shape) / 5)
        base = rng.uniform(95.0, 135.0)
    else:
        # Fabric: a fine woven check with a little irregularity, duller and darker.
        period = rng.uniform(4.0, 8.0)
        weave = np.sin(2 * np.pi * x / period) * np.sin(2 * np.pi * y / period)
        texture = 10.0 * weave + 6.0 * _smooth_noise(rng, shape, 1.5) + 8.0 * _smooth_noise(rng, shape, max(shape) / 6)
        base = rng.uniform(60.0, 110.0)
    return base + texture


def photographed(page: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Corners]:
    """A phone photo of the page lying on a table: perspective, table texture, uneven light, blur, JPEG.

    The page keeps its scale and sits on a wooden or fabric table (_table) with
    a margin of 12 to 20 % of its size around it.  A camera tilted by up to
    about 25° is simulated by a keystone: the two corners of one edge (drawn
    at random) move inward by up to 12 % of that edge's length; every corner
    then moves inward by up to 3 % more of the page's size, and the whole page
    turns by up to ±4°.  Light falls off linearly across the photo (down to
    70 to 90 % of its brightest) with a mild vignette; the photo is blurred
    (σ 0.5 to 1.0 px), gets pixel noise (σ 3) and is JPEG-compressed once at
    quality 85.  Returns the photo and the page's corners in it.
    """
    height, width = page.shape
    margin = rng.uniform(0.12, 0.20)
    shape = (int(round(height * (1 + 2 * margin))), int(round(width * (1 + 2 * margin))))
    offset = np.array([width * margin, height * margin])
    size = np.array([width, height], float)
    quad = page_corners(width, height) + offset
    edge = rng.integers(4)  # which edge is farther from the camera: top, right, bottom, left
    pinch = rng.uniform(0.0, 0.12)
    inward = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], float)
    for index in (edge, (edge + 1) % 4):
        along = 0 if edge in (0, 2) else 1  # the keystone pulls the far edge's corners along that edge
        quad[index, along] += inward[index, along] * pinch * size[along]
    quad += inward * rng.uniform(0.0, 0.03, (4, 2)) * size
    centre = quad.mean(axis=0)
    quad = moved(quad, cv2.getRotationMatrix2D(tuple(centre), float(rng.uniform(-4.0, 4.0)), 1.0))
    matrix = cv2.getPerspectiveTransform(page_corners(width, height).astype(np.float32), quad.astype(np.float32))
    photo = _warp_onto(page, matrix, _table(rng, shape).astype(np.float32)).astype(np.float32)
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    direction = rng.uniform(0.0, 2 * np.pi)
    along = (np.cos(direction) * x / shape[1] + np.sin(direction) * y / shape[0])
    along = (along - along.min()) / max(float(along.max() - along.min()), 1e-6)
    light = 1.0 - rng.uniform(0.10, 0.30) * along
    radius = np.hypot((x - shape[1] / 2) / shape[1], (y - shape[0] / 2) / shape[0])
    light *= 1.0 - 0.15 * radius ** 2
    photo = cv2.GaussianBlur(photo * light, (0, 0), rng.uniform(0.5, 1.0)) + rng.normal(0.0, 3.0, shape)
    photo = np.clip(photo, 0, 255).round().astype(np.uint8)
    encoded = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 85])[1]
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE), quad


def blank_page(rng: np.random.Generator, size: Optional[tuple[int, int]] = None) -> np.ndarray:
    """A blank sheet of paper as a scan: no text, only paper texture, shading and one faint stain.

    ``size`` is (height, width); by default an A4 page at 100 to 150 dpi.  The
    paper is 205 to 245 grey with fibre texture (σ 2.5 over 3 px), grain (σ 1.5)
    and a gentle shading (±4 levels); the stain is a ring-edged ellipse
    (a dried drop) 5 to 15 levels darker, a tenth to a quarter of the page wide.
    """
    if size is None:
        dpi = rng.uniform(100.0, 150.0)
        size = (int(11.69 * dpi), int(8.27 * dpi))
    height, width = size
    paper = (rng.uniform(205.0, 245.0) + 2.5 * _smooth_noise(rng, size, 3.0) + rng.normal(0.0, 1.5, size)
             + 4.0 * _smooth_noise(rng, size, max(size) / 4.0))
    stain = np.zeros(size, np.float32)
    axes = (int(rng.uniform(0.05, 0.125) * width), int(rng.uniform(0.05, 0.125) * width))
    centre = (int(rng.uniform(0.2, 0.8) * width), int(rng.uniform(0.2, 0.8) * height))
    cv2.ellipse(stain, centre, axes, float(rng.uniform(0, 180)), 0, 360, 0.5, -1)
    cv2.ellipse(stain, centre, axes, 0, 0, 360, 1.0, max(2, axes[0] // 15))
    stain = cv2.GaussianBlur(stain, (0, 0), max(axes) / 20.0)
    paper -= rng.uniform(5.0, 15.0) * stain * (1.0 + 0.3 * _smooth_noise(rng, size, 10.0))
    return np.clip(paper, 0, 255).round().astype(np.uint8)


def picture_pages(data: Path = DEFAULT_DATA, boxes: Path = PICTURE_BOXES) -> list[tuple[str, np.ndarray]]:
    """The half-tone photographs of the real book scans, each cut out (its box in ``boxes``) as a whole page.

    Named ``picture/PAGE#INDEX``.  The boxes lie a little inside each
    photograph, so the pages are all picture, no paper and no text.
    """
    pages = []
    for page, page_boxes in json.loads(boxes.read_text(encoding="utf-8"))["boxes"].items():
        pixels = read_grey(data / "realscans" / page)
        for index, (left, top, right, bottom) in enumerate(page_boxes):
            pages.append((f"picture/{page}#{index}", np.ascontiguousarray(pixels[top:bottom, left:right])))
    return pages


def real_scans(data: Path = DEFAULT_DATA) -> list[tuple[str, np.ndarray]]:
    """The real book scans and phone photos (Russian print, all upright as stored), named ``realscans/FILE``."""
    return [(f"realscans/{path.name}", read_grey(path)) for path in sorted((data / "realscans").glob("*.jpg"))]


def a4_turned(page: np.ndarray, size: tuple[int, int] = (3508, 2480), degrees: float = 2.0) -> np.ndarray:
    """An A4 page at 300 dpi (``size``: height, width) filled with copies of ``page`` at its own resolution
    (letters keep their size, as on a real scan), turned by ``degrees`` and cut back to that size about its
    centre (the corners the turn brings in are lost: a page to time, not to score)."""
    height, width = size
    tiled = np.tile(page, (height // page.shape[0] + 1, width // page.shape[1] + 1))[:height, :width]
    tilted = turned(np.ascontiguousarray(tiled), degrees)
    top, left = (tilted.shape[0] - height) // 2, (tilted.shape[1] - width) // 2
    return np.ascontiguousarray(tilted[top:top + height, left:left + width])

def curled(page: np.ndarray, depth: float, spine: str = "right") -> np.ndarray:
    """``page`` as a book page curling towards its spine (the ``spine`` side): its text lines bend down by up
    to ``depth`` of the page's height at the spine, more near the page's top and bottom edges than at its middle,
    as a page bulging off a scanner's glass (only the vertical bend: the letters are not squeezed)."""
    height, width = page.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    across = xs / max(1, width - 1) if spine == "right" else 1 - xs / max(1, width - 1)
    # The bend grows over the half of the page nearest the spine, as the paper leaves the glass.
    rise = np.clip((across - 0.5) / 0.5, 0.0, 1.0) ** 2
    shift = depth * height * rise * (0.4 + 1.2 * np.abs(ys / height - 0.5))
    paper = paper_level(page)
    return np.asarray(cv2.remap(page, xs, ys - shift, cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=paper), np.uint8)
