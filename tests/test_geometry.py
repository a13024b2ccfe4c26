"""The geometry stage on real pages: turned, skewed, on a scanner's bed, photographed; and what it leaves alone."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.geometry import GeometryOptions, apply_geometry, find_geometry
from engine.cleaning.pictures import picture_cells
from engine.geometry import orientation
from engine.geometry.skew import line_angle
from engine.geometry.working_copy import ink_marks, letters, working_copy

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def office_page(noisyoffice_dir: Path) -> np.ndarray:
    """A clean NoisyOffice page (English print, 540 x 420), on a white margin so that turning it keeps it whole."""
    page = cv2.imread(str(noisyoffice_dir / "clean" / "0.png"), cv2.IMREAD_GRAYSCALE)
    return cv2.copyMakeBorder(page, 60, 60, 60, 60, cv2.BORDER_CONSTANT, value=255)


def _turned(page: np.ndarray, degrees: float) -> np.ndarray:
    """``page`` turned anticlockwise by ``degrees`` on a canvas that holds all of it, white around."""
    height, width = page.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (int(height * sin + width * cos) + 1, int(height * cos + width * sin) + 1)
    matrix[:, 2] += (size[0] - width) / 2, (size[1] - height) / 2
    return cv2.warpAffine(page, matrix, size, flags=cv2.INTER_LINEAR, borderValue=255)


def _lines_angle(page: np.ndarray) -> float:
    measured = line_angle(letters(ink_marks(working_copy(page).grey)).mask)
    assert measured is not None
    return measured.angle


def _ink(page: np.ndarray) -> float:
    """The page's darkness summed over its pixels: a warp's blur keeps it, a cut-off letter lowers it."""
    return float((255.0 - page.astype(np.float64)).sum())


@pytest.mark.parametrize("degrees", [-12.0, -2.5, 0.7, 4.0, 14.5])
def test_a_turned_page_is_straightened_to_a_tenth_of_a_degree(office_page, degrees):
    turned = _turned(office_page, degrees)
    geometry = find_geometry(turned, GeometryOptions(rotate="0", crop="off"))
    assert geometry.skew == pytest.approx(degrees, abs=0.1)
    straight = apply_geometry(turned, geometry)
    assert abs(_lines_angle(straight)) <= 0.1
    # Straightening never cuts a letter off: the canvas grows where the corners would leave it.
    assert _ink(straight) >= 0.99 * _ink(turned)


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_page_turned_by_quarter_turns_comes_back_upright_without_tesseract(office_page, monkeypatch, turns):
    monkeypatch.setattr(orientation.shutil, "which", lambda name: None)
    turned = np.ascontiguousarray(np.rot90(office_page, -turns))
    geometry = find_geometry(turned, GeometryOptions(crop="off"))
    assert geometry.turns == (4 - turns) % 4
    assert geometry.skew == 0.0
    np.testing.assert_array_equal(apply_geometry(turned, geometry), office_page)  # quarter turns are exact


def test_an_upright_page_is_left_upright(office_page):
    geometry = find_geometry(office_page)
    assert not geometry.changed and geometry.notes == ()
    assert apply_geometry(office_page, geometry) is office_page


def test_tesseract_tells_which_way_up_a_cyrillic_book_page_is(realscans_dir):
    assert shutil.which("tesseract"), "Tesseract must be installed (the README's set-up installs it)"
    page = cv2.imread(str(realscans_dir / "set0002-page-062.jpg"), cv2.IMREAD_GRAYSCALE)
    for turns in (0, 2):
        geometry = find_geometry(np.ascontiguousarray(np.rot90(page, -turns)), GeometryOptions(crop="off"))
        assert geometry.turns == turns


@pytest.mark.parametrize("turned", [1, 2, 3])
def test_tesseract_turns_a_page_whose_worn_letters_do_not_tell_the_lines_direction(dibco_dir, turned):
    assert shutil.which("tesseract"), "Tesseract must be installed (the README's set-up installs it)"
    page = cv2.imread(str(dibco_dir / "source" / "DIBCO2017_H20.png"), cv2.IMREAD_GRAYSCALE)
    scan = np.ascontiguousarray(np.rot90(page, -turned))  # turned clockwise as it was scanned
    found = letters(ink_marks(working_copy(scan).grey))
    assert orientation.lines_run_down(found) is None  # its letters alone cannot tell
    geometry = find_geometry(scan, GeometryOptions(crop="off"), pictures=lambda: picture_cells(scan))
    assert geometry.turns == (4 - turned) % 4


@pytest.mark.parametrize("turned", [1, 2, 3])
def test_a_small_noisy_page_is_shown_to_tesseract_enlarged_and_turned_upright(samples_dir, turned):
    assert shutil.which("tesseract"), "Tesseract must be installed (the README's set-up installs it)"
    page = cv2.imread(str(samples_dir / "noisyoffice-178.png"), cv2.IMREAD_GRAYSCALE)  # 9-pixel letters, stained
    scan = np.ascontiguousarray(np.rot90(page, -turned))
    geometry = find_geometry(scan, GeometryOptions(crop="off"), pictures=lambda: picture_cells(scan))
    assert geometry.turns == (4 - turned) % 4


def test_sideways_lines_without_a_clear_top_are_left_as_scanned_and_said(realscans_dir, monkeypatch):
    monkeypatch.setattr(orientation.shutil, "which", lambda name: None)
    page = cv2.imread(str(realscans_dir / "set0002-page-062.jpg"), cv2.IMREAD_GRAYSCALE)
    geometry = find_geometry(np.ascontiguousarray(np.rot90(page)), GeometryOptions(crop="off"))
    assert geometry.turns == 0 and geometry.skew == 0.0
    assert geometry.notes == ("its lines run down the page, but which way is up is unclear: left as scanned",)


def test_blank_pages_and_photographs_are_never_turned_or_cropped(realscans_dir):
    rng = np.random.default_rng(3)
    blank = rng.normal(225, 6, (1400, 1000)).clip(0, 255).astype(np.uint8)
    cv2.circle(blank, (500, 700), 250, 195, 40)  # a faint coffee ring
    pages = [blank]
    boxes = json.loads((PROJECT / "benchmarks" / "picture_boxes.json").read_text())["boxes"]
    for name, found in boxes.items():
        scan = cv2.imread(str(realscans_dir / name), cv2.IMREAD_GRAYSCALE)
        pages += [np.ascontiguousarray(scan[top:bottom, left:right]) for left, top, right, bottom in found]
    for page in pages:
        # As the batch asks: with the picture finder, for pages whose letters do not clearly make lines.
        geometry = find_geometry(page, pictures=lambda: picture_cells(page))
        assert not geometry.changed, geometry.describe()


@pytest.mark.parametrize("shape,value", [((16, 16), 0), ((16, 16), 255), ((3, 500), 0), ((900, 700), 0),
                                         ((900, 700), 255)])
def test_tiny_black_and_white_pages_are_left_as_they_are(shape, value):
    page = np.full(shape, value, np.uint8)
    geometry = find_geometry(page)
    assert not geometry.changed and apply_geometry(page, geometry) is page


def test_a_one_bit_page_is_straightened_like_a_grey_one(office_page):
    one_bit = np.where(_turned(office_page, 3.0) < 128, 0, 255).astype(np.uint8)
    assert find_geometry(one_bit, GeometryOptions(rotate="0", crop="off")).skew == pytest.approx(3.0, abs=0.1)


def test_a_page_on_a_dark_scanner_bed_is_cropped_to_its_edge_and_keeps_its_ink(office_page):
    rng = np.random.default_rng(5)
    height, width = office_page.shape
    canvas = (int(width * 1.3), int(height * 1.3))
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 2.0, 1.0)
    matrix[:, 2] += (canvas[0] - width) / 2, (canvas[1] - height) / 2
    bed = rng.normal(40, 8, canvas[::-1]).clip(0, 255).astype(np.uint8)
    paper = cv2.warpAffine(np.full_like(office_page, 255), matrix, canvas) > 0
    scan = np.where(paper, cv2.warpAffine(office_page, matrix, canvas), bed).astype(np.uint8)
    truth = cv2.transform(np.array([[[0, 0], [width, 0], [width, height], [0, height]]], np.float64), matrix)[0]

    geometry = find_geometry(scan)
    assert geometry.corners is not None
    assert np.abs(geometry.corners - truth).max() <= 0.01 * max(canvas)
    out = apply_geometry(scan, geometry)
    assert abs(out.shape[0] - height) <= 0.02 * height and abs(out.shape[1] - width) <= 0.02 * width
    assert _ink(out) == pytest.approx(_ink(office_page), rel=0.01)  # none of the text is cut, none of the bed left
    edge = max(2, out.shape[1] // 100)
    assert (out[:, :edge] < 64).mean() < 0.05 and (out[:, -edge:] < 64).mean() < 0.05  # no bed left


def _photographed(page: np.ndarray, tilt: tuple[float, float, float], rng: np.random.Generator) -> tuple:
    """``page`` as a camera sees it (a pinhole of focal length 1.2 x the image width, tilted by ``tilt`` radians
    about x, y, z) on a textured table; and the true corners."""
    height, width = page.shape
    size = (int(width * 1.6), int(height * 1.6))
    plane = np.array([[-width / 2, -height / 2, 0], [width / 2, -height / 2, 0], [width / 2, height / 2, 0],
                      [-width / 2, height / 2, 0]])
    rx, ry, rz = tilt
    turn_x = np.array([[1, 0, 0], [0, np.cos(rx), -np.sin(rx)], [0, np.sin(rx), np.cos(rx)]])
    turn_y = np.array([[np.cos(ry), 0, np.sin(ry)], [0, 1, 0], [-np.sin(ry), 0, np.cos(ry)]])
    turn_z = np.array([[np.cos(rz), -np.sin(rz), 0], [np.sin(rz), np.cos(rz), 0], [0, 0, 1]])
    seen = plane @ (turn_z @ turn_y @ turn_x).T + [0, 0, 2.2 * width]
    focal = 1.2 * size[0]
    corners = np.stack([focal * seen[:, 0] / seen[:, 2] + size[0] / 2, focal * seen[:, 1] / seen[:, 2] + size[1] / 2], 1)
    flat = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(flat, corners.astype(np.float32))
    table = cv2.GaussianBlur(rng.normal(95, 35, size[::-1]).astype(np.float32), (0, 0), 2).clip(0, 255)
    paper = cv2.warpPerspective(np.full_like(page, 255), matrix, size) > 0
    photo = np.where(paper, cv2.warpPerspective(page, matrix, size), table).astype(np.uint8)
    return photo, corners


@pytest.mark.parametrize("tilt", [(0.35, 0.1, 0.04), (0.2, -0.3, -0.08)])
def test_a_photographed_page_is_rectified_to_its_true_shape(office_page, tilt):
    photo, corners = _photographed(office_page, tilt, np.random.default_rng(7))
    geometry = find_geometry(photo)
    assert geometry.corners is not None
    assert np.abs(geometry.corners - corners).max() <= 0.01 * max(photo.shape)
    out = apply_geometry(photo, geometry)
    height, width = office_page.shape
    assert out.shape[1] / out.shape[0] == pytest.approx(width / height, rel=0.03)
    assert abs(_lines_angle(out)) <= 0.3


def test_geometry_off_returns_the_page_itself(office_page):
    turned = _turned(office_page, 5.0)
    geometry = find_geometry(turned, GeometryOptions.off())
    assert apply_geometry(turned, geometry) is turned


def test_content_crop_keeps_every_letter_with_a_margin(office_page):
    page = cv2.copyMakeBorder(office_page, 200, 200, 300, 300, cv2.BORDER_CONSTANT, value=255)
    out = apply_geometry(page, find_geometry(page, GeometryOptions(rotate="0", crop="content")))
    assert out.shape[0] < page.shape[0] - 300 and out.shape[1] < page.shape[1] - 500
    assert _ink(out) == pytest.approx(_ink(page), rel=0.001)
    rows, cols = np.nonzero(out < 128)
    assert min(rows.min(), cols.min(), out.shape[0] - rows.max(), out.shape[1] - cols.max()) >= 10


_HUGE_PAGE = """
import sys
import cv2, numpy as np
from engine.geometry import apply_geometry, find_geometry
tile = cv2.imread(sys.argv[1], cv2.IMREAD_GRAYSCALE)
# Letters of a size the working copy (1,600 pixels across) still reads: a page at 1,200 dpi.
tile = cv2.resize(tile, None, fx=8, fy=8, interpolation=cv2.INTER_CUBIC)
tile = cv2.warpAffine(tile, cv2.getRotationMatrix2D((tile.shape[1] / 2, tile.shape[0] / 2), 1.5, 1.0),
                      tile.shape[::-1], borderValue=255)
page = np.tile(tile, (20000 // tile.shape[0] + 1, 20000 // tile.shape[1] + 1))[:20000, :20000].copy()
del tile
geometry = find_geometry(page)
out = apply_geometry(page, geometry)
# This process's own peak (VmHWM, kept per address space): ru_maxrss would count the test runner's own
# size, which a forked child inherits at exec.
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(geometry.skew, out.shape, peak / 1024)
"""


@pytest.mark.slow
def test_a_20000_pixel_square_page_is_straightened_within_2_gb(noisyoffice_dir):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _HUGE_PAGE, str(noisyoffice_dir / "clean" / "0.png")],
                          capture_output=True, text=True, cwd=PROJECT, timeout=600, check=True)
    skew, *_, peak_mb = done.stdout.split()
    assert float(skew) == pytest.approx(1.5, abs=0.1)
    assert float(peak_mb) < 2048  # the page (400 MB) and its straightened copy, and little else


@pytest.mark.parametrize("size,inches", [("a4", (297 / 25.4, 210 / 25.4)), ("letter", (11.0, 8.5))])
def test_a_page_is_set_on_a_sheet_at_its_resolution_with_its_content_centred(office_page, size, inches):
    geometry = find_geometry(office_page, GeometryOptions(rotate="0", crop="off", page_size=size), dpi=60)
    out = apply_geometry(office_page, geometry)
    # The content is wider than tall: the sheet is turned to landscape.
    assert out.shape[1] == pytest.approx(inches[0] * 60, abs=1) and out.shape[0] == pytest.approx(inches[1] * 60, abs=1)
    rows, cols = np.nonzero(out < 128)
    assert (rows.min() + rows.max()) / 2 == pytest.approx(out.shape[0] / 2, abs=3)
    assert (cols.min() + cols.max()) / 2 == pytest.approx(out.shape[1] / 2, abs=3)
    assert _ink(out) == pytest.approx(_ink(office_page), rel=0.001)


def test_content_larger_than_the_sheet_is_scaled_down_to_fit(office_page):
    geometry = find_geometry(office_page, GeometryOptions(rotate="0", crop="off", page_size="a4"), dpi=30)
    out = apply_geometry(office_page, geometry)
    assert out.shape == (round(210 / 25.4 * 30), round(297 / 25.4 * 30))
    rows, cols = np.nonzero(out < 128)
    assert cols.min() >= 0 and cols.max() < out.shape[1] and rows.max() < out.shape[0]
    assert cols.max() - cols.min() > 0.9 * out.shape[1]  # scaled to the sheet's width, not cut
