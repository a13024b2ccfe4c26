"""A user's geometry corrections: each replaces what would be found, is kept in the output folder's record,
and is reused by every later run into that folder, from the app or the command line."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli.main import main
from engine.cleaning.batch import plan_batch, run_batch
from engine.cleaning.made_before import outputs_made_before
from engine.cleaning.denoiser import Denoiser
from engine.geometry import (GeometryFix, GeometryOptions, apply_pages, find_geometry, gutter_at, outline_points,
                             side_by_side, split_line, turned_by)
from engine.geometry.record import RECORD_NAME, read_fixes, write_fixes
from engine.io import PageKey
from engine.options import BatchOptions

AUTO = BatchOptions(geometry=GeometryOptions())


@pytest.fixture(scope="module")
def spread(realscans_dir: Path) -> np.ndarray:
    return cv2.imread(str(realscans_dir / "set0002-page-062.jpg"), cv2.IMREAD_GRAYSCALE)


@pytest.fixture(scope="module")
def fast() -> Denoiser:
    return Denoiser.from_file("fast")


def test_a_gutter_of_zero_keeps_a_found_spread_whole_and_a_given_one_splits_there(spread):
    assert len(find_geometry(spread).parts) == 2
    whole = find_geometry(spread, fix=GeometryFix(gutter=0.0))
    assert whole.parts == () and whole.gutter is None
    moved = find_geometry(spread, fix=GeometryFix(gutter=0.4))
    assert len(apply_pages(spread, moved)) == 2 and moved.gutter == pytest.approx(0.4)
    line = split_line(moved)
    assert line is not None and line[:, 0].mean() == pytest.approx(0.4 * spread.shape[1], abs=0.01 * spread.shape[1])


def test_the_split_line_drawn_on_the_page_gives_back_its_gutter(spread):
    geometry = find_geometry(spread)
    line = split_line(geometry)
    assert line is not None
    # The line runs top to bottom near the middle of the spread, and a point on it is its gutter.
    assert line[0, 1] < 10 and line[1, 1] > spread.shape[0] - 10
    assert abs(line[:, 0].mean() - spread.shape[1] / 2) < 0.1 * spread.shape[1]
    assert gutter_at(geometry, *line.mean(axis=0)) == pytest.approx(geometry.gutter, abs=1e-3)
    assert outline_points(geometry).tolist() == [[0, 0], [3170, 0], [3170, 2342], [0, 2342]]


def test_turning_a_page_by_hand_turns_it_and_straightens_it_again(noisyoffice_dir):
    page = cv2.imread(str(noisyoffice_dir / "clean" / "3.png"), cv2.IMREAD_GRAYSCALE)
    found = find_geometry(page)
    assert found.turns == 0
    fix = turned_by(found, GeometryFix(), 2)
    (upside_down,) = apply_pages(page, find_geometry(page, fix=fix))
    np.testing.assert_array_equal(upside_down, np.rot90(page, 2))
    sideways = find_geometry(page, fix=turned_by(found, GeometryFix(), 1))
    assert sideways.turns == 1 and sideways.size == (page.shape[0], page.shape[1])


def test_corners_placed_by_hand_crop_the_page_to_them(noisyoffice_dir):
    page = cv2.imread(str(noisyoffice_dir / "clean" / "3.png"), cv2.IMREAD_GRAYSCALE)
    fix = GeometryFix(corners=(20, 10, 420, 10, 420, 210, 20, 210), skew=0.0)
    (cropped,) = apply_pages(page, find_geometry(page, fix=fix))
    assert cropped.shape == (200, 400)
    # What lay within the corners, scaled by the 400/401 their 401-pixel span is drawn into.
    within = cv2.resize(page[10:211, 20:421], (400, 200), interpolation=cv2.INTER_AREA).astype(float)
    assert np.abs(cropped - within).mean() < 6


def test_corrections_are_checked_and_recorded_as_plain_values():
    with pytest.raises(ValueError, match="45 degrees"):
        GeometryFix(skew=60.0)
    with pytest.raises(ValueError, match="four points"):
        GeometryFix(corners=(1.0, 2.0))
    fix = GeometryFix(corners=(1, 2, 3, 4, 5, 6, 7, 8), turns=5, gutter=0.51234)
    assert fix.turns == 1 and fix.gutter == 0.5123
    assert GeometryFix.from_record(json.loads(json.dumps(fix.record()))) == fix
    assert GeometryFix().settings_text() == "" and fix.settings_text() != GeometryFix(turns=2).settings_text()


def test_the_record_keeps_fixes_forgets_emptied_ones_and_survives_damage(tmp_path):
    write_fixes(tmp_path, {("a" * 64, 0): GeometryFix(turns=1), ("b" * 64, 2): GeometryFix(gutter=0.0)},
                {("a" * 64, 0): "scan.png"})
    assert read_fixes(tmp_path) == {("a" * 64, 0): GeometryFix(turns=1), ("b" * 64, 2): GeometryFix(gutter=0.0)}
    write_fixes(tmp_path, {("a" * 64, 0): GeometryFix()}, {})
    assert read_fixes(tmp_path) == {("b" * 64, 2): GeometryFix(gutter=0.0)}
    assert [path.name for path in tmp_path.iterdir()] == [RECORD_NAME]  # no temporary file left
    (tmp_path / RECORD_NAME).write_text("{not json", encoding="utf-8")
    assert read_fixes(tmp_path) == {}


def test_a_correction_is_kept_in_the_output_folder_and_reused_by_the_command_line(spread, fast, tmp_path, capsys):
    scan = tmp_path / "in" / "spread.png"
    scan.parent.mkdir()
    cv2.imwrite(str(scan), cv2.resize(spread, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    out = tmp_path / "out"
    key = PageKey.of(scan)
    # The app's run: the user said this spread is one page.
    results = list(run_batch(plan_batch([scan], out, fixes={key: GeometryFix(gutter=0.0)}), fast, AUTO))
    assert [r.error for r in results] == [None]
    assert sorted(path.name for path in out.iterdir() if not path.name.startswith(".")) == ["spread_clean.png"]
    assert (out / RECORD_NAME).is_file()
    assert outputs_made_before([scan], [key], out, fast, AUTO)  # the record tells it is clean as it is
    # The command line's re-run reads the record: the page is already clean, not split into two.
    assert main(["denoise", str(scan), "-o", str(out), "--model", "fast"]) == 0
    assert "0 page(s) cleaned, 1 already clean" in capsys.readouterr().out
    # Another correction makes another page: cleaned again, and kept for the next run.
    list(run_batch(plan_batch([scan], out, fixes={key: GeometryFix(gutter=0.45)}), fast, AUTO))
    names = sorted(path.name for path in out.iterdir() if not path.name.startswith("."))
    assert names == ["spread_clean.png", "spread_clean_left.png", "spread_clean_right.png"]
    assert list(read_fixes(out).values()) == [GeometryFix(gutter=0.45)]
    # With the geometry off the record is not used: the page is cleaned as read.
    assert main(["-q", "denoise", str(scan), "-o", str(out), "--model", "fast", "--geometry", "off"]) == 0


def test_zone_marks_on_a_split_spread_reach_the_page_they_were_drawn_on():
    left, right = np.zeros((10, 30), np.uint8), np.full((12, 20), 200, np.uint8)
    both = side_by_side([left, right], 255)
    assert both.shape == (12, 30 + 24 + 20)
    assert (both[:10, :30] == 0).all() and (both[:, 54:] == 200).all() and (both[:, 30:54] == 255).all()


def test_the_viewer_cleans_a_spread_page_by_page_as_the_batch_does(noisyoffice_dir, fast):
    from engine.cleaning.page import clean_page
    from engine.cleaning.pictures import find_picture_boxes
    from engine.cleaning.preview import staged_preview

    pages = [cv2.imread(str(noisyoffice_dir / "noisy" / name), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
             for name in ("0.png", "5.png")]
    both = side_by_side(pages, 1.0)
    parts = [(0, pages[0].shape[1]), (both.shape[1] - pages[1].shape[1], both.shape[1])]
    *_, full = staged_preview(fast, both, parts=parts)
    for (left, right), page in zip(parts, pages):
        alone = clean_page(fast, page).pixels
        np.testing.assert_allclose(full.pixels[:page.shape[0], left:right], alone, atol=1e-6)


def test_picture_zones_of_a_spread_are_found_page_by_page_where_each_page_is(realscans_dir):
    from engine.cleaning.pictures import find_picture_boxes
    from engine.cleaning.prepared import view_page
    from engine.io import list_pages

    viewed = view_page(list_pages(realscans_dir / "set0002-page-062.jpg")[0], GeometryOptions())
    (left, _), (shift, stop) = viewed.parts
    boxes = find_picture_boxes(viewed.pixels, parts=viewed.parts)
    right_page = [(top, x0 + shift, bottom, x1 + shift)
                  for top, x0, bottom, x1 in find_picture_boxes(viewed.pixels[:, shift:stop])]
    left_page = find_picture_boxes(viewed.pixels[:, left:viewed.parts[0][1]])  # its photographs of bricks
    assert left_page and boxes == left_page + right_page


def test_the_viewer_finds_the_geometry_the_batch_finds(realscans_dir):
    from engine.cleaning.prepared import prepare_page, view_page
    from engine.io import list_pages

    ref = list_pages(realscans_dir / "set0002-page-062.jpg")[0]
    viewed = view_page(ref, GeometryOptions())
    prepared = prepare_page(ref, AUTO)
    assert [part.describe() for part in viewed.geometry.parts] == [part.describe() for part in prepared.geometries]
