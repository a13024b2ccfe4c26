"""The content check says where: the places on a page where the model dropped writing."""
from pathlib import Path

import numpy as np

from engine.cleaning import ink
from engine.cleaning.batch import PageResult, iter_denoise
from engine.cleaning.denoiser import Denoiser
from engine.errors import ImageReadError
from engine.io import read_page, write_page
from engine.workspace import PageState, Workspace

PAPER, PRINT = 0.9, 0.05


def _printed_page() -> np.ndarray:
    """A 1024 x 1024 page with lines of print in its right half, so that one thinned word
    or one erased rule is far below the 5 % that makes a page unfamiliar."""
    page = np.full((1024, 1024), PAPER, np.float32)
    for top in range(20, 1000, 16):
        page[top:top + 4, 540:1000] = PRINT
    return page


def _strokes(page: np.ndarray, top: int, left: int, count: int) -> list[slice]:
    """A "word" of ``count`` glyph strokes, 6 x 24 pixels, 6 apart; returns their columns."""
    columns = [slice(left + 12 * n, left + 12 * n + 6) for n in range(count)]
    for column in columns:
        page[top:top + 24, column] = PRINT
    return columns


def test_a_thinned_word_is_put_back_and_marked_with_its_square():
    page = _printed_page()
    columns = _strokes(page, 300, 270, 8)  # within the square of rows 256-384, columns 256-384
    output = np.where(page < 0.5, 0.0, 1.0).astype(np.float32)  # the model keeps the print...
    for column in columns:
        output[300:324, column.start:column.start + 2] = 1.0  # ...but thins every stroke of the word
        output[300:324, column.stop - 2:column.stop] = 1.0  # to its middle two pixels
    report = ink.check_ink(page, output, restore=True)
    assert not report.unfamiliar
    assert [place[:5] for place in report.places] == [(256, 256, 384, 384, ink.PUT_BACK)]
    assert report.places[0].pixels == 8 * 4 * 24
    assert all(output[300:324, column].max() < 0.5 for column in columns)  # the strokes are whole again
    assert report.warning() == "ink the model erased was put back in 1 place (marked in the viewer)"


def test_an_erased_rule_and_glyph_without_restoring_are_marked_missing():
    page = _printed_page()
    page[700:703, 140:500] = PRINT  # a table rule across three squares: columns 128-512 of rows 640-768
    page[900:924, 10:28] = PRINT  # a capital's black outline (a box glyph) in the square of rows 896-1024...
    page[904:920, 14:24] = PAPER  # ...hollow inside
    output = np.where(page < 0.5, 0.0, 1.0).astype(np.float32)
    output[700:703] = 1.0  # the model erases the rule...
    output[900:924, :128] = 1.0  # ...and the glyph
    report = ink.check_ink(page, output, restore=False)
    assert not report.unfamiliar
    assert [place[:5] for place in report.places] == [(640, 128, 768, 512, ink.MISSING),
                                                      (896, 0, 1024, 128, ink.MISSING)]
    assert report.places[0].pixels == 3 * 360
    assert report.warning() == "ink the model erased is missing in 2 places (marked in the viewer)"
    # Restored, the same places are put back.
    restored = ink.check_ink(page, output, restore=True)
    assert [place.kind for place in restored.places] == [ink.PUT_BACK, ink.PUT_BACK]
    assert output[700:703, 140:500].max() < 0.5


def test_a_few_pixels_put_back_in_one_square_do_not_nag():
    page = _printed_page()
    columns = _strokes(page, 300, 270, 2)  # a two-letter word alone in its square
    output = np.where(page < 0.5, 0.0, 1.0).astype(np.float32)
    output[300:308, columns[1]] = 1.0  # the model nibbles the top of a stroke: 48 pixels, a sixth of the word
    report = ink.check_ink(page, output, restore=True)
    assert report.restored > 0  # the check still puts them back...
    assert report.places == () and report.warning() is None  # ...but does not mark the page


def test_adjacent_squares_merge_into_one_place():
    page = _printed_page()
    page[100:104, 20:500] = PRINT  # a long rule over four squares of one row
    page[230:234, 200:500] = PRINT  # and a shorter one in the row below, touching it diagonally
    output = np.where(page < 0.5, 0.0, 1.0).astype(np.float32)
    output[:, :512] = 1.0
    report = ink.check_ink(page, output, restore=True)
    assert [place[:5] for place in report.places] == [(0, 0, 256, 512, ink.PUT_BACK)]


def test_unfamiliar_pages_name_their_places_too():
    page = np.full((300, 400), PAPER, np.float32)
    page[100:104, 20:380] = PRINT
    report = ink.check_ink(page, np.ones_like(page), restore=True)
    assert report.unfamiliar and len(report.places) == 1
    assert report.warning().endswith("put back from the original (1 place marked in the viewer)")


def test_an_identity_model_leaves_no_places_on_real_pages(realscans_dir, dibco_dir):
    for path in (realscans_dir / "set0002-page-010.jpg", realscans_dir / "set0005-01.jpg",
                 dibco_dir / "source" / "DIBCO2017_H03.png"):
        page = read_page(path, dtype=np.uint8).pixels
        report = ink.check_ink(page, page.copy(), restore=True)
        assert report.ink > 10_000 and report.places == () and report.warning() is None, path.name


def test_words_erased_from_a_real_scan_are_marked_where_they_were(realscans_dir):
    page = read_page(realscans_dir / "set0002-page-010.jpg", dtype=np.uint8).pixels
    output = page.copy()
    output[520:630, 300:700] = 255  # the model wipes lines of text off the page
    report = ink.check_ink(page, output, restore=True)
    assert not report.unfamiliar  # under 1 % of the page's ink: only the place tells
    assert [place[:5] for place in report.places] == [(512, 256, 640, 768, ink.PUT_BACK)]  # the wiped squares
    assert (output[520:630, 300:700] < 128).sum() > 1000  # and the text is back


def _wide_printed_page(tmp_path: Path) -> Path:
    page = _printed_page()
    page[700:703, 140:500] = PRINT
    path = tmp_path / "in" / "ruled.png"
    write_page(page, path)
    return path


def test_the_places_reach_the_batch_result_and_the_workspace(blank_model, tmp_path):
    path = _wide_printed_page(tmp_path)
    results = list(iter_denoise([path.parent], tmp_path / "out", Denoiser.from_file(blank_model)))
    assert len(results) == 1 and results[0].ok and results[0].places
    assert all(place.kind == ink.PUT_BACK for place in results[0].places)
    assert "marked in the viewer" in results[0].warning

    space = Workspace()
    ref = results[0].ref
    space.add([(ref, None)])
    space.start_batch([ref.key])
    space.page_result(results[0])
    entry = space.get(ref.key)
    assert entry.state is PageState.CHECK and entry.places == results[0].places
    # Cleaned again and skipped (the output is the earlier run's): the places still hold.
    space.start_batch([ref.key])
    assert space.get(ref.key).places == ()
    space.page_result(PageResult(ref, results[0].output, None, 0.0, skipped=True))
    assert space.get(ref.key).places == results[0].places
    # Failed: none.
    space.start_batch([ref.key])
    space.page_result(PageResult(ref, None, ImageReadError(path, "broken"), 0.0))
    assert space.get(ref.key).places == ()
