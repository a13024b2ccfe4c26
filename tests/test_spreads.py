"""Two-page spreads: split at the gutter into two pages, each straightened; single pages never split."""
from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli.main import main
from engine.geometry import GeometryOptions, apply_pages, find_geometry
from engine.io.provenance import read_output_provenances


def _book_page(noisyoffice_dir: Path, first: int) -> np.ndarray:
    """A portrait page of print: two clean NoisyOffice pages one above the other, with margins."""
    pages = [cv2.imread(str(noisyoffice_dir / "clean" / f"{first + k}.png"), cv2.IMREAD_GRAYSCALE) for k in (0, 1)]
    return cv2.copyMakeBorder(np.vstack(pages), 50, 50, 40, 40, cv2.BORDER_CONSTANT, value=255)


@pytest.fixture(scope="module")
def spread(noisyoffice_dir: Path) -> tuple[np.ndarray, int]:
    """An open book's two pages side by side, the right one turned by 1.5 degrees, and the gutter's x."""
    left, right = _book_page(noisyoffice_dir, 0), _book_page(noisyoffice_dir, 10)
    height, width = right.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 1.5, 1.0)
    right = cv2.warpAffine(right, matrix, (width, height), borderValue=255)
    return np.hstack([left, right]), left.shape[1]


def _darkness(page: np.ndarray) -> float:
    return float((255.0 - page.astype(np.float64)).sum())


def test_a_spread_is_split_at_its_gutter_and_each_page_straightened(spread):
    pixels, gutter = spread
    geometry = find_geometry(pixels, GeometryOptions(crop="off"))
    assert [part.part for part in geometry.parts] == [1, 2]
    left, right = apply_pages(pixels, geometry)
    # Within 1 % of the spread's width of the true gutter.
    assert abs(left.shape[1] - gutter) <= 0.01 * pixels.shape[1]
    assert geometry.parts[0].skew == 0.0 and geometry.parts[1].skew == pytest.approx(1.5, abs=0.1)
    # Every letter is on one page or the other: none is cut at the gutter.
    assert _darkness(left) + _darkness(right) == pytest.approx(_darkness(pixels), rel=0.01)


def test_a_real_book_spread_is_split_into_two_pages(realscans_dir):
    scan = cv2.imread(str(realscans_dir / "set0002-page-062.jpg"), cv2.IMREAD_GRAYSCALE)
    geometry = find_geometry(scan)
    assert len(geometry.parts) == 2
    left, right = apply_pages(scan, geometry)
    for page in (left, right):  # each a book page: taller than wide, about half the spread
        assert page.shape[0] > page.shape[1] > 0.4 * scan.shape[1]


def test_single_pages_are_never_split(noisyoffice_dir, dibco_dir, realscans_dir):
    pages = [_book_page(noisyoffice_dir, 0), cv2.imread(str(noisyoffice_dir / "clean" / "0.png"), 0)]
    pages += [cv2.imread(str(dibco_dir / "source" / f"{name}.png"), 0)
              for name in ("DIBCO2016_H08", "DIBCO2018_H10", "DIBCO2017_H05", "Nabuco_H06",
                           # Wide handwritten notes of a few lines, with a gap between words near the middle.
                           "DIBCO2014_H03", "Persian2019_H04")]
    pages += [cv2.imread(str(realscans_dir / f"set0005-0{k}.jpg"), 0) for k in (4, 5, 6)]
    for page in pages:
        assert find_geometry(page).parts == ()
    spread_page = np.hstack([_book_page(noisyoffice_dir, 0)] * 2)
    assert find_geometry(spread_page, GeometryOptions(split="off")).parts == ()


def test_the_command_line_writes_a_spread_as_two_files_and_skips_them_on_a_rerun(spread, tmp_path, capsys):
    scan = tmp_path / "in" / "spread.png"
    scan.parent.mkdir()
    cv2.imwrite(str(scan), spread[0])
    out = tmp_path / "out"
    assert main(["denoise", str(scan), "-o", str(out), "--model", "fast"]) == 0
    assert sorted(path.name for path in out.iterdir()) == ["spread_clean_left.png", "spread_clean_right.png"]
    assert "2 page(s) cleaned" in capsys.readouterr().out
    recorded = [read_output_provenances(path)[0] for path in sorted(out.iterdir())]
    assert [record.geometry.split()[0] for record in recorded] == ["part=1", "part=2"]
    assert main(["denoise", str(scan), "-o", str(out), "--model", "fast"]) == 0
    assert "0 page(s) cleaned, 1 already clean" in capsys.readouterr().out
    assert len(list(out.iterdir())) == 2


def test_a_spread_goes_into_a_pdf_as_two_pages_and_the_pdf_is_not_made_again(spread, tmp_path, capsys):
    scan = tmp_path / "spread.png"
    cv2.imwrite(str(scan), spread[0])
    out = tmp_path / "out"
    assert main(["denoise", str(scan), "-o", str(out), "--model", "fast", "--format", "pdf"]) == 0
    (pdf,) = out.iterdir()
    assert len(read_output_provenances(pdf)) == 2
    capsys.readouterr()
    assert main(["denoise", str(scan), "-o", str(out), "--model", "fast", "--format", "pdf"]) == 0
    assert "1 already clean" in capsys.readouterr().out and len(list(out.iterdir())) == 1


def test_split_off_keeps_the_spread_whole(spread, tmp_path):
    scan = tmp_path / "spread.png"
    cv2.imwrite(str(scan), spread[0])
    out = tmp_path / "out"
    assert main(["-q", "denoise", str(scan), "-o", str(out), "--model", "fast", "--split", "off"]) == 0
    assert [path.name for path in out.iterdir()] == ["spread_clean.png"]


def test_the_command_line_says_per_page_what_the_geometry_did(spread, tmp_path, capsys):
    scan = tmp_path / "spread.png"
    cv2.imwrite(str(scan), spread[0])
    assert main(["denoise", str(scan), "-o", str(tmp_path / "out"), "--model", "fast", "-v"]) == 0
    said = capsys.readouterr().err
    assert "spread_clean_left.png (the left page of a spread)" in said
    assert re.search(r"spread_clean_right\.png \(straightened by 1\.[45]°, the right page of a spread\)", said)
