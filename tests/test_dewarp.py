"""Dewarping (``--dewarp``): a curled book page's lines made straight; straight, blank and picture pages left
alone; the choice recorded, so a re-run without it cleans again."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.geometry_pages import curled, paper_level
from cli.main import main
from engine.geometry import GeometryOptions
from engine.geometry.dewarp import find_bend, flatten, flattened
from engine.io.provenance import read_output_provenances


@pytest.fixture(scope="module")
def page(noisyoffice_dir: Path) -> np.ndarray:
    """A straight printed page of 15 lines at about 300 dpi."""
    clean = cv2.imread(str(noisyoffice_dir / "clean" / "0.png"), cv2.IMREAD_GRAYSCALE)
    return cv2.resize(clean, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)


def _ink(pixels: np.ndarray) -> np.ndarray:
    return pixels < paper_level(pixels) / 2


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


@pytest.mark.parametrize("depth", [0.01, 0.03])
def test_a_curled_page_is_flattened_back_towards_the_flat_page(page, depth):
    bent = curled(page, depth)
    bend = find_bend(bent)
    assert bend is not None and bend.lines >= 12
    flat = flatten(bent, bend, paper_level(bent))
    before, after = _overlap(_ink(page), _ink(bent)), _overlap(_ink(page), _ink(flat))
    # Most of the way back: the ink lies where the flat page has it again.
    assert after > before + 0.5 * (1 - before)
    assert flat.shape == bent.shape and flat.dtype == np.uint8


def test_a_curl_towards_the_left_is_flattened_too(page):
    bent = curled(page, 0.02, spine="left")
    (flat,), _ = flattened([bent], paper_level(bent))
    assert _overlap(_ink(page), _ink(flat)) > _overlap(_ink(page), _ink(bent)) + 0.1


def test_straight_blank_and_picture_pages_are_left_as_they_are(page, realscans_dir):
    rng = np.random.default_rng(0)
    blank = np.clip(rng.normal(235, 4, (1200, 900)), 0, 255).astype(np.uint8)
    photo = cv2.imread(str(realscans_dir / "set0002-page-001.jpg"), cv2.IMREAD_GRAYSCALE)
    for pixels in (page, blank, photo[:900, :900], np.zeros((40, 30), np.uint8)):
        (same,), _ = flattened([pixels], 255.0)
        assert same is pixels


def test_a_float_page_is_flattened_in_its_own_scale(page):
    bent = curled(page, 0.02).astype(np.float32) / 255.0
    (flat,), _ = flattened([bent], 1.0)
    assert flat.dtype == np.float32 and 0.0 <= flat.min() and flat.max() <= 1.0
    assert flat is not bent


def test_the_command_line_flattens_when_asked_and_records_it(page, tmp_path, capsys):
    scan = tmp_path / "curled.png"
    cv2.imwrite(str(scan), curled(page, 0.02))
    out = tmp_path / "out"
    assert main(["-q", "denoise", str(scan), "-o", str(out), "--model", "fast", "--dewarp"]) == 0
    (written,) = out.iterdir()
    assert "dewarp=on" in read_output_provenances(written)[0].settings
    # Without it the page was made otherwise: cleaned again, beside the first.
    assert main(["denoise", str(scan), "-o", str(out), "--model", "fast"]) == 0
    assert "1 page(s) cleaned" in capsys.readouterr().out
    assert GeometryOptions(dewarp=True).settings_text().endswith("dewarp=on")
