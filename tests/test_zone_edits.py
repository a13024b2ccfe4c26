"""A user's corrections of the picture zones: regions marked as picture keep their tones, regions marked
as text are cleaned, and an output records the edits so a re-run with other edits cleans the page again."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.cleaning import pictures
from engine.cleaning.batch import plan_batch, run_batch
from engine.cleaning.made_before import outputs_made_before
from engine.cleaning.denoiser import Denoiser
from engine.cleaning.page import clean_page
from engine.cleaning.pictures import PICTURE, TEXT, ZoneEdits
from engine.io import PageKey, read_page
from engine.io.provenance import read_provenance
from engine.options import BatchOptions

PAGE = "set0002-page-021.jpg"  # a book spread: text, a graph and a half-tone photograph
# Crops of it, (rows, columns): the photograph with some paper around, and a block of text below it.
PHOTO_CROP = np.s_[560:1400, 1850:2900]
PHOTO_IN_CROP = (110, 110, 730, 940)  # the photograph (benchmarks/picture_boxes.json), crop pixels
TEXT_CROP = np.s_[1620:2150, 1650:2900]


@pytest.fixture(scope="module")
def spread(realscans_dir: Path) -> np.ndarray:
    return read_page(realscans_dir / PAGE).pixels


@pytest.fixture(scope="module")
def denoiser() -> Denoiser:
    return Denoiser.from_file()


def _tones(pixels: np.ndarray) -> np.ndarray:
    """4x area-averaged: a half-tone dot counts as its tone."""
    return cv2.resize(pixels, (pixels.shape[1] // 4, pixels.shape[0] // 4), interpolation=cv2.INTER_AREA)


def _region(box: tuple[int, int, int, int]) -> tuple[slice, slice]:
    top, left, bottom, right = box
    return np.s_[top:bottom, left:right]


def _mid_tones(pixels: np.ndarray, dots: bool = True) -> float:
    """The share of grey: of tones (half-tone dots averaged) with ``dots``, else of pixels."""
    tones = _tones(pixels) if dots else pixels
    return float(np.mean((tones > 0.15) & (tones < 0.85)))


# ---------------------------------------------------------------- boxes and cells


def test_zones_become_boxes_in_page_pixels():
    shape = (2048, 1024)  # halved to the working side: a square is 32 page pixels
    cells = np.zeros(pictures._grid_shape(shape), bool)
    cells[2:5, 3:7] = True
    cells[10, 10] = cells[11, 11] = True  # touching at a corner: one zone
    cells[-2:, -3:] = True  # at the page's edge: the box reaches it
    assert pictures.picture_boxes(cells, shape) == [
        (64, 96, 160, 224), (320, 320, 384, 384), (1984, 928, 2048, 1024)]
    assert pictures.picture_boxes(np.zeros_like(cells), shape) == []


def test_the_grid_of_edits_is_the_grid_the_network_labels(spread):
    for crop in (spread, spread[:500, :400], spread[PHOTO_CROP], spread[:37, :70]):
        assert pictures.picture_cells(crop).shape == pictures._grid_shape(crop.shape)


def test_a_picture_box_takes_the_squares_it_covers_half_of_and_text_wins():
    shape = (320, 320)  # small enough to be seen whole: a square is 16 pixels
    cells = np.zeros(pictures._grid_shape(shape), bool)
    cells[10:15, 10:15] = True  # a picture found
    # Marked picture: columns 2-5 are covered at least half (40 reaches half of square 2; 100 ends at 6.25).
    marked = pictures.apply_zone_edits(cells, shape, ZoneEdits(pictures=((32, 40, 96, 100),)))
    assert marked[2:6, 2:6].all() and not marked[2:6, 1].any() and not marked[2:6, 6].any()
    assert marked[10:15, 10:15].all() and not cells[2:6, 2:6].any()  # found kept; the grid given untouched
    # Marked text over the found picture, and over part of the marked one: text wins wherever it touches.
    both = ZoneEdits(pictures=((32, 40, 96, 100),), text=((150, 150, 250, 250), (32, 40, 40, 48)))
    edited = pictures.apply_zone_edits(cells, shape, both)
    assert not edited[9:16, 9:16].any()
    assert not edited[2, 2] and edited[3:6, 3:6].all()
    # No picture found (pictures off): a grid of the network's shape, with the marked squares only.
    alone = pictures.apply_zone_edits(None, shape, ZoneEdits(pictures=((32, 40, 96, 100),)))
    assert alone.shape == cells.shape and alone.sum() == 16
    # A box off the page changes nothing.
    assert np.array_equal(pictures.apply_zone_edits(cells, shape, ZoneEdits(pictures=((400, 400, 500, 500),))), cells)


def test_edits_say_what_they_are_in_a_short_stable_text():
    one = ZoneEdits().marked(PICTURE, (1, 2, 30, 40)).marked(TEXT, (5, 6, 7, 8)).marked(PICTURE, (0, 0, 9, 9))
    same = ZoneEdits(pictures=((0, 0, 9, 9), (1, 2, 30, 40)), text=((5, 6, 7, 8),))
    assert one != same and one.digest() == same.digest()  # the order they were marked in does not count
    assert same.settings_text() == f" zones={same.digest()}" and len(same.digest()) == 12
    assert ZoneEdits().settings_text() == "" and ZoneEdits().empty
    assert ZoneEdits(text=((5, 6, 7, 8),)).digest() != ZoneEdits(pictures=((5, 6, 7, 8),)).digest()
    with pytest.raises(ValueError):
        ZoneEdits().marked("photo", (0, 0, 1, 1))


# ---------------------------------------------------------------- cleaning a real page with edits


def test_a_region_marked_as_picture_on_a_text_page_keeps_its_tones(spread, denoiser):
    text = spread[TEXT_CROP]
    assert not pictures.picture_cells(text).any()  # nothing found: all of it is cleaned as text
    box = (100, 200, 400, 900)
    edits = ZoneEdits(pictures=(box,))
    plain = clean_page(denoiser, text).pixels
    marked = clean_page(denoiser, text, zones=edits)
    assert abs(marked.picture_share - 300 * 700 / text.size) < 0.02
    inside = _region(box)
    assert _mid_tones(plain[inside], dots=False) < 0.15  # text cleaned: black on white
    assert _mid_tones(marked.pixels[inside], dots=False) > 0.35  # kept as a picture: its greys stay
    assert np.corrcoef(_tones(text[inside]).ravel(), _tones(marked.pixels[inside]).ravel())[0, 1] > 0.9
    # Away from the box (a square of blend beyond it) the page is cleaned as before.
    assert np.array_equal(marked.pixels[460:], plain[460:])
    # The user's picture is kept even when pictures are not looked for.
    assert clean_page(denoiser, text, pictures=False, zones=edits).picture_share > 0.25


def test_a_photograph_marked_as_text_is_cleaned_like_text(spread, denoiser):
    photo = spread[PHOTO_CROP]
    inside = _region(PHOTO_IN_CROP)
    found = clean_page(denoiser, photo)
    assert found.picture_share > 0.3
    as_text = clean_page(denoiser, photo, zones=ZoneEdits(text=((0, 0) + photo.shape,)))
    assert as_text.picture_share == 0.0
    # Exactly what cleaning it without looking for pictures makes: the tones are gone.
    assert np.array_equal(as_text.pixels, clean_page(denoiser, photo, pictures=False).pixels)
    before = _tones(photo[inside]).ravel()
    kept = np.corrcoef(before, _tones(found.pixels[inside]).ravel())[0, 1]
    washed = np.corrcoef(before, _tones(as_text.pixels[inside]).ravel())[0, 1]
    assert kept > 0.8 and washed < kept - 0.1
    assert _mid_tones(as_text.pixels[inside]) < _mid_tones(found.pixels[inside]) - 0.1


def test_the_boxes_a_viewer_shows_follow_the_edits(spread):
    photo = spread[PHOTO_CROP]
    found = pictures.find_picture_boxes(photo)
    top, left, bottom, right = max(found, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    # The photograph's zone is found, to within a square or two of its printed edge.
    assert abs(top - 110) < 100 and abs(left - 110) < 100 and abs(bottom - 730) < 100 and abs(right - 940) < 100
    assert pictures.find_picture_boxes(photo, ZoneEdits(text=((0, 0) + photo.shape,))) == []


# ---------------------------------------------------------------- the batch records the edits


def test_an_output_records_its_edits_so_other_edits_clean_the_page_again(spread, tmp_path):
    import cv2 as _cv2

    scans = tmp_path / "scans"
    scans.mkdir()
    for name, crop in (("photo.png", spread[PHOTO_CROP]), ("text.png", spread[TEXT_CROP])):
        _cv2.imwrite(str(scans / name), np.clip(crop * 255 + 0.5, 0, 255).astype(np.uint8))
    out = tmp_path / "out"
    fast = Denoiser.from_file("fast")
    options = BatchOptions()
    photo = PageKey.of(scans / "photo.png")
    edits = {photo: ZoneEdits(text=((0, 0, 840, 1050),)), PageKey.of(scans / "text.png"): ZoneEdits()}

    def run(zones):
        return {r.ref.path.name: r for r in run_batch(plan_batch([scans], out, zones=zones), fast, options)}

    first = run(edits)
    settings = {name: read_provenance(r.output).settings for name, r in first.items()}
    assert settings == {"photo.png": options.settings_text() + edits[photo].settings_text(),
                        "text.png": options.settings_text()}  # empty edits are no edits
    # The same edits: nothing to do.  Without them, or with others, the photograph is cleaned again.
    assert all(r.skipped for r in run(edits).values())
    again = run(None)
    assert not again["photo.png"].skipped and again["text.png"].skipped
    assert read_provenance(again["photo.png"].output).settings == options.settings_text()
    other = run({photo: ZoneEdits(pictures=((0, 0, 100, 100),))})
    assert not other["photo.png"].skipped and other["photo.png"].output not in (first["photo.png"].output,
                                                                                again["photo.png"].output)
    # What the app reads as "already clean" follows the edits too.
    keys = [photo]
    assert outputs_made_before([scans], keys, out, fast, options, zones=edits)[photo] == (first["photo.png"].output, 0)
    assert outputs_made_before([scans], keys, out, fast, options)[photo] == (again["photo.png"].output, 0)


# ---------------------------------------------------------------- the workspace keeps a page's edits


def test_a_cleaned_page_whose_marks_change_waits_again(tmp_path):
    from engine.cleaning.batch import PageResult
    from engine.io import PageRef
    from engine.workspace import PageState, Workspace

    space = Workspace()
    refs = [PageRef(tmp_path / name) for name in ("a.png", "b.png")]
    space.add((ref, None) for ref in refs)
    a, b = (ref.key for ref in refs)
    space.start_batch([a])
    space.page_result(PageResult(refs[0], tmp_path / "out" / "a_clean.png", None, 1.0))
    space.finish_batch("done")
    changes: list[int] = []
    space.changed.connect(changes.append)
    assert space.get(a).state is PageState.DONE and space.zone_edits() == {}
    space.mark_zone(a, PICTURE, (1, 2, 30, 40))
    space.mark_zone(b, TEXT, (0, 0, 5, 5))
    entry = space.get(a)
    assert entry.zones == ZoneEdits(pictures=((1, 2, 30, 40),))
    assert entry.state is PageState.WAITING and entry.output == tmp_path / "out" / "a_clean.png"  # made otherwise
    assert space.get(b).state is PageState.WAITING and changes == [0, 1]
    assert space.zone_edits() == {a: entry.zones, b: ZoneEdits(text=((0, 0, 5, 5),))}
    space.set_zones(a, entry.zones)  # the same edits: nothing changes
    assert changes == [0, 1]
    space.clear_zones(a)
    assert space.get(a).zones.empty and list(space.zone_edits()) == [b]


def test_every_preview_stage_shows_the_marks(spread, denoiser):
    from engine.cleaning.preview import staged_preview

    text = spread[TEXT_CROP]
    box = (100, 200, 400, 900)
    edits = ZoneEdits(pictures=(box,))
    view = (150, 50, 1000, 450)  # (left, top, right, bottom): the part on screen, over the box
    stages = {s.name: s.pixels for s in staged_preview(denoiser, text, box=view, zones=edits)}
    scale = stages["quick"].shape[0] / text.shape[0]
    small_box = tuple(round(v * scale) for v in box)
    assert _mid_tones(stages["quick"][_region(small_box)], dots=False) > 0.35  # its greys, even when small
    in_view = np.s_[box[0] - view[1]:box[2] - view[1], box[1] - view[0]:box[3] - view[0]]
    assert _mid_tones(stages["region"][in_view], dots=False) > 0.35
    assert np.array_equal(stages["full"], clean_page(denoiser, text, zones=edits).pixels)
