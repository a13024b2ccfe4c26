"""What lies around the paper of a phone photo (the table, a lamp) is made paper, and never the page's content."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.cleaning.pictures import picture_cells
from engine.geometry import GeometryFix, GeometryOptions, apply_pages, find_geometry
from engine.geometry.surroundings import Surroundings, find_surroundings
from engine.geometry.working_copy import ink_marks, letters, working_copy
from engine.vocabulary import Crop


def _read(path: Path) -> np.ndarray:
    page = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert page is not None, f"cannot read {path}"
    return page


def _surroundings(page: np.ndarray, with_pictures: bool = True) -> Surroundings | None:
    work = working_copy(page)
    return find_surroundings(work.grey, letters(ink_marks(work.grey)), work.scale,
                             (lambda: picture_cells(page)) if with_pictures else None)


def _cleared(page: np.ndarray, found: Surroundings | None) -> np.ndarray:
    if found is None:
        return np.zeros(page.shape, bool)
    return found.drawn((page.shape[1], page.shape[0]), np.eye(3))


@pytest.mark.parametrize("name", ["set0005-02.jpg", "set0005-04.jpg", "set0005-06.jpg"])
def test_the_table_around_a_photographed_open_book_is_made_paper(realscans_dir, name):
    photo = _read(realscans_dir / name)
    geometry = find_geometry(photo, pictures=lambda: picture_cells(photo))
    assert geometry.surroundings is not None and geometry.surroundings.share >= 0.03
    assert "cleared around the paper" in geometry.summary()
    assert "cleared=" in geometry.describe()  # the provenance says so: another choice re-cleans
    out = apply_pages(photo, geometry)[0]
    # What lay around the book, dark, is paper now: the photo's border is mostly as light as its paper.
    paper = np.percentile(photo, 90)

    def dark_border(page: np.ndarray) -> float:
        border = np.concatenate([page[:20].ravel(), page[-20:].ravel(), page[:, :20].ravel(), page[:, -20:].ravel()])
        return float(np.mean(border < 0.6 * paper))

    assert dark_border(out) < 0.5 * dark_border(photo)


@pytest.mark.slow
def test_no_word_tesseract_reads_on_a_photographed_book_is_cleared(realscans_dir, tmp_path):
    # The photo whose left page lies in shadow, as dark as the table beside it.
    if shutil.which("tesseract") is None:
        pytest.fail("Tesseract is not installed: .ci/run installs it (apt-get install tesseract-ocr)")
    photo = _read(realscans_dir / "set0005-02.jpg")
    cleared = _cleared(photo, _surroundings(photo))
    assert cleared.mean() >= 0.05
    half = cv2.resize(photo, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(tmp_path / "half.png"), half)
    table = subprocess.run(["tesseract", str(tmp_path / "half.png"), "-", "--psm", "3", "tsv"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    words = [row.split("\t") for row in table[1:]]
    # Words Tesseract finds (its English reads the Russian as other letters, but in the words' places) of a
    # line's height: not the few it makes of a table's grain.
    boxes = [[2 * int(value) for value in row[6:10]] for row in words
             if len(row) == 12 and float(row[10]) > 30 and int(row[9]) < 0.03 * half.shape[0]
             and sum(character.isalnum() for character in row[11]) >= 2]
    assert len(boxes) > 150
    for left, top, width, height in boxes:
        assert not cleared[top:top + height, left:left + width].any(), (left, top, width, height)


def test_no_true_ink_of_the_dibco_pages_is_cleared(dibco_dir):
    # The real documents with ground truth, among them pages on a dark scanner bed that the bed is cleared
    # from, and Persian handwriting whose strokes are thick and run to the border.
    names = ["DIBCO2018_H09", "DIBCO2018_H01", "Bickely2010_H01", "Bickely2010_H07", "Persian2019_H01",
             "Persian2019_H15"]
    shares = {}
    for name in names:
        page = _read(dibco_dir / "source" / f"{name}.png")
        truth = _read(dibco_dir / "target" / f"{name}.png") < 128
        cleared = _cleared(page, _surroundings(page))
        shares[name] = float(cleared.mean())
        assert (truth & cleared).sum() <= 0.0005 * truth.sum(), name
    assert shares["DIBCO2018_H09"] > 0.1  # the scanner bed beside the page
    assert shares["Persian2019_H01"] < 0.001  # the strokes stay


def test_text_in_a_shadow_at_the_edge_of_the_page_is_kept(noisyoffice_dir):
    clean = _read(noisyoffice_dir / "clean" / "3.png")
    page = np.pad(clean, 60, constant_values=255)
    # A shadow as dark as a table over the page's left third, text and all, from the border in.
    shaded = page.astype(np.float32)
    shaded[:, :page.shape[1] // 3] *= 0.45
    shaded_page = shaded.round().astype(np.uint8)
    cleared = _cleared(shaded_page, _surroundings(shaded_page))
    ink = cv2.dilate((page < 128).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert not (cleared & ink).any()


def test_a_dark_photograph_printed_to_the_edge_of_the_page_is_kept(realscans_dir):
    page = _read(realscans_dir / "set0002-page-076.jpg")
    # The page's half-tone photograph, darkened and cut to run off the page's bottom and left edges.
    top, left, bottom = 511, 1737, 1430
    page = page[:bottom - 100, left + 100:].copy()
    photo = page[top:, :1021 - 100]
    page[top:, :1021 - 100] = (photo.astype(np.float32) * 0.35).astype(np.uint8)
    assert _surroundings(page, with_pictures=False) is not None  # dark and broad: it would pass for a table
    found = _surroundings(page)
    cleared = _cleared(page, found)
    assert not cleared[top:, :1021 - 100].any()


def test_nothing_is_cleared_when_the_crop_is_off_or_the_user_set_the_outline(realscans_dir):
    photo = _read(realscans_dir / "set0005-04.jpg")
    assert find_geometry(photo, GeometryOptions(crop=Crop.OFF)).surroundings is None
    whole_image = GeometryFix(corners=())
    assert find_geometry(photo, fix=whole_image).surroundings is None


def test_a_scanned_page_filling_its_image_has_nothing_cleared(realscans_dir, noisyoffice_dir):
    for path in [realscans_dir / "set0002-page-010.jpg", realscans_dir / "set0002-page-062.jpg",
                 noisyoffice_dir / "noisy" / "5.png"]:
        assert find_geometry(_read(path)).surroundings is None, path.name
