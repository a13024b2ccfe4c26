"""The page's geometry in the app: shown on the page as scanned, corrected by hand, kept and reused."""
from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from engine.geometry import GeometryFix
from engine.geometry.record import RECORD_NAME, read_fixes
from engine.workspace import PageState


@pytest.fixture
def book_dir(tmp_path: Path, realscans_dir: Path, noisyoffice_dir: Path) -> Path:
    """A real book spread scanned sideways, and a straight office page."""
    folder = tmp_path / "book"
    folder.mkdir()
    spread = cv2.imread(str(realscans_dir / "set0002-page-062.jpg"), cv2.IMREAD_GRAYSCALE)
    spread = cv2.resize(spread, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(folder / "a_spread.png"), np.rot90(spread))
    cv2.imwrite(str(folder / "b_office.png"), cv2.imread(str(noisyoffice_dir / "clean" / "3.png")))
    return folder


def _show(qtbot, window, row: int) -> None:
    with qtbot.waitSignal(window.preview_ready, timeout=120000):
        window.page_list.setCurrentRow(row)


def _drag(qtbot, canvas, start: QPointF, end: QPointF) -> None:
    a, b = QPoint(round(start.x()), round(start.y())), QPoint(round(end.x()), round(end.y()))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(canvas, b)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=b)


def test_a_sideways_spread_is_shown_upright_and_split_and_its_geometry_drawn_on_the_scan(
        qtbot, window, open_and_wait, book_dir, tmp_path):
    open_and_wait(window, book_dir, 2)
    window.output_edit.setText(str(tmp_path / "out"))
    _show(qtbot, window, 0)
    page = window.geometry_edits.page
    assert page.geometry.turns in (1, 3) and len(page.geometry.parts) == 2
    # The viewer's original is what the model cleans: the two pages upright, side by side (wider than tall).
    original = window.compare.original()
    assert original.width() > original.height()
    assert window.split_action.isChecked()
    window.edit_geometry_action.trigger()
    canvas = window.compare.left
    # Editing shows the page as scanned (tall: it lies on its side), its outline and the split line across it.
    assert canvas.image_size().height() > canvas.image_size().width()
    overlay = canvas.handles.overlay
    assert overlay is not None and len(overlay.outline) == 4 and len(overlay.split) == 2
    assert "turned 90°" in canvas.title() and "split into two pages" in canvas.title()


def test_dragging_the_split_line_corrects_the_page_which_waits_and_is_cleaned_with_it(
        qtbot, window, open_and_wait, book_dir, tmp_path):
    out = tmp_path / "out"
    open_and_wait(window, book_dir, 2)
    window.output_edit.setText(str(out))
    _show(qtbot, window, 0)
    window.edit_geometry_action.trigger()
    canvas = window.compare.left
    line = [canvas.image_to_widget(point) for point in canvas.handles.overlay.split]
    middle = (line[0] + line[1]) / 2
    # The scan lies on its side: the line runs across it, and moving it down the scan moves the gutter.
    with qtbot.waitSignal(window.preview_ready, timeout=120000):
        _drag(qtbot, canvas, middle, middle + QPointF(0, 25))
    entry = window.workspace.entry(0)
    assert entry.fix is not None and entry.fix.gutter is not None and entry.fix.gutter != pytest.approx(0.5, abs=0.01)
    assert entry.state is PageState.WAITING
    assert window.geometry_edits.page.fix == entry.fix  # the preview follows
    with qtbot.waitSignal(window.batch_finished, timeout=300000):
        window.run_batch()
    # The correction is kept in the output folder for the next run, whoever makes it.
    assert list(read_fixes(out).values()) == [entry.fix]
    names = sorted(path.name for path in out.iterdir() if not path.name.startswith("."))
    assert names == ["a_spread_clean_left.png", "a_spread_clean_right.png", "b_office_clean.png"]


def test_turning_applies_to_every_selected_page_and_a_reset_forgets_it(qtbot, window, open_and_wait, book_dir,
                                                                       tmp_path):
    open_and_wait(window, book_dir, 2)
    window.output_edit.setText(str(tmp_path / "out"))
    _show(qtbot, window, 1)
    assert window.geometry_edits.page.geometry.turns == 0
    window.page_list.selectAll()
    with qtbot.waitSignal(window.preview_ready, timeout=120000):
        window.turn_right_action.trigger()
    assert [window.workspace.entry(row).fix.turns for row in (0, 1)] == [1, 1]
    original = window.compare.original()
    assert original.height() > original.width()  # the office page, landscape, now stands on its side
    with qtbot.waitSignal(window.preview_ready, timeout=120000):
        window.reset_geometry_action.trigger()
    assert [window.workspace.entry(row).fix for row in (0, 1)] == [GeometryFix(), GeometryFix()]


def test_keeping_a_spread_whole_and_the_record_reused_by_a_new_session(qtbot, window, open_and_wait, book_dir,
                                                                       tmp_path):
    out = tmp_path / "out"
    open_and_wait(window, book_dir, 2)
    window.output_edit.setText(str(out))
    _show(qtbot, window, 0)
    with qtbot.waitSignal(window.preview_ready, timeout=120000):
        window.split_action.trigger()  # checked before: the spread is kept as one page
    assert window.workspace.entry(0).fix.gutter == 0.0 and not window.split_action.isChecked()
    with qtbot.waitSignal(window.batch_finished, timeout=300000):
        window.run_batch()
    assert (out / RECORD_NAME).is_file() and (out / "a_spread_clean.png").is_file()
    # A new session on the same folders: the page shows as it was corrected, and reads as already clean.
    window.clear_pages()
    with qtbot.waitSignal(window.outputs_checked, timeout=120000):
        open_and_wait(window, book_dir, 2)
    assert window.workspace.entry(0).state is PageState.ALREADY
    _show(qtbot, window, 0)
    assert window.geometry_edits.page.fix == GeometryFix(gutter=0.0)
    assert not window.geometry_edits.page.geometry.parts


def test_the_pages_box_turns_the_geometry_off_and_its_tools_with_it(qtbot, window, open_and_wait, book_dir):
    open_and_wait(window, book_dir, 2)
    _show(qtbot, window, 0)
    assert window.output_options.options().geometry.active
    window.geometry_box.setChecked(False)
    assert not window.output_options.options().geometry.active
    assert not window.turn_right_action.isEnabled() and not window.edit_geometry_action.isEnabled()
    qtbot.waitUntil(lambda: window.geometry_edits.page is not None
                    and not window.geometry_edits.page.geometry.changed, timeout=120000)


def _thumbnail_shape(window, row: int) -> tuple[int, int]:
    icon = window.page_list.page_model.thumbnail(row)
    size = icon.availableSizes()[0] if icon is not None and icon.availableSizes() else None
    return (size.width(), size.height()) if size is not None else (0, 0)


def test_the_list_shows_what_will_be_written_and_the_scan_again_with_the_geometry_off(qtbot, window, open_and_wait,
                                                                                     book_dir):
    open_and_wait(window, book_dir, 2)
    # The spread lies on its side in its file; once turned upright it is wider than tall.
    qtbot.waitUntil(lambda: _thumbnail_shape(window, 0)[0] > _thumbnail_shape(window, 0)[1], timeout=120000)
    window.geometry_box.setChecked(False)
    qtbot.waitUntil(lambda: _thumbnail_shape(window, 0)[0] < _thumbnail_shape(window, 0)[1], timeout=120000)


def test_what_around_a_photographed_book_is_made_paper_is_shown_until_the_user_sets_the_outline(
        qtbot, window, open_and_wait, realscans_dir, tmp_path):
    folder = tmp_path / "photo"
    folder.mkdir()
    shutil.copy(realscans_dir / "set0005-04.jpg", folder)
    open_and_wait(window, folder, 1)
    window.output_edit.setText(str(tmp_path / "out"))
    _show(qtbot, window, 0)
    window.edit_geometry_action.trigger()
    canvas = window.compare.left
    overlay = canvas.handles.overlay
    # The table and lamp around the open book are hatched on the photo: the user sees what becomes paper.
    assert overlay is not None and overlay.cleared
    assert "cleared around the paper" in canvas.title() and "made paper" in canvas.title()
    corner = canvas.image_to_widget(overlay.outline[0])
    with qtbot.waitSignal(window.preview_ready, timeout=120000):
        _drag(qtbot, canvas, corner, corner + QPointF(40, 40))
    # An outline of the user's own replaces it: the page is cropped to the corners instead.
    geometry = window.geometry_edits.page.geometry
    assert geometry.surroundings is None and geometry.corners is not None
    assert not canvas.handles.overlay.cleared
