"""The main window with the real engine and the bundled model: import, view, batch, cancel."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt, QTimer

from engine.io.provenance import read_provenance
from gui.page_list import Status
from tests.unimportable import without


def _choose(combo, data) -> None:
    """Pick an entry as a user does (``activated`` is sent only for a user's choice)."""
    index = combo.findData(data)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def _outputs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()) if folder.exists() else []


def test_open_folder_shows_every_page_with_a_thumbnail(qtbot, window, open_and_wait, pages_dir):
    open_and_wait(window, pages_dir, 3)
    refs = window.page_list.refs()
    assert sorted(Path(r.path).name for r in refs) == sorted(p.name for p in pages_dir.iterdir())
    for ref in refs:
        assert window.page_list.status(ref.key) is Status.WAITING
        assert not window.page_list.icon(0).isNull()
    # The first page is selected and its original reaches the viewer.
    qtbot.waitUntil(window.compare.has_page, timeout=10000)


def test_multi_page_tiff_lists_each_page(qtbot, window, open_and_wait, tmp_path, noisyoffice_dir):
    folder = tmp_path / "tiff"
    folder.mkdir()
    frames = [Image.open(noisyoffice_dir / "noisy" / n).convert("L") for n in ("0.png", "1.png")]
    frames[0].save(folder / "scan.tif", save_all=True, append_images=frames[1:])
    open_and_wait(window, folder, 2)
    labels = [window.page_list.text(i) for i in range(2)]
    assert "page 1/2" in labels[0] and "page 2/2" in labels[1]


def test_selected_page_gets_a_cleaned_preview_without_running_the_batch(qtbot, window, open_and_wait, pages_dir):
    open_and_wait(window, pages_dir, 3)
    with qtbot.waitSignal(window.preview_ready, timeout=60000):
        window.page_list.setCurrentRow(1)
    assert window.compare.right._cleaned is not None
    assert not window.batch_running


def test_batch_runs_to_the_end_and_writes_every_page(qtbot, window, open_and_wait, pages_dir, tmp_path):
    out = tmp_path / "out"
    window.format_combo.setCurrentText("tiff")
    open_and_wait(window, pages_dir, 3)
    window.output_edit.setText(str(out))
    with qtbot.waitSignal(window.batch_finished, timeout=90000) as finished:
        window.run_batch()
    assert finished.args == ["done"]
    outputs = _outputs(out)
    assert len(outputs) == 3 and all(p.suffix == ".tif" for p in outputs)
    for key in window.page_list.keys():
        assert window.page_list.status(key) is Status.DONE
        assert window.page_list.output(key) in outputs
    assert window.progress_bar.value() == 3
    assert window.open_output_button.isEnabled()


def test_a_second_run_skips_pages_already_cleaned(qtbot, window, open_and_wait, pages_dir, tmp_path):
    out = tmp_path / "out"
    open_and_wait(window, pages_dir, 3)
    window.output_edit.setText(str(out))
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
    first = {p: p.read_bytes() for p in _outputs(out)}
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
    assert {p: p.read_bytes() for p in _outputs(out)} == first
    assert all(window.page_list.status(k) is Status.ALREADY for k in window.page_list.keys())
    assert "0 cleaned, 3 already clean" in window.progress_label.text()
    _choose(window.existing_combo, "keep-both")
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
    assert len(_outputs(out)) == 6 and window.settings.on_existing(out) == "keep-both"


def test_an_output_folder_that_cannot_be_written_is_refused_before_starting(
        qtbot, window, open_and_wait, pages_dir, tmp_path, monkeypatch):
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr("gui.error_report.show_error", lambda parent, title, message: shown.append((title, message)))
    taken = tmp_path / "taken"
    taken.write_text("a file where the folder should be")
    open_and_wait(window, pages_dir, 3)
    window.output_edit.setText(str(taken))
    window.run_batch()
    assert not window.batch_running
    assert shown and shown[0][0] == f"Can't write to {taken}" and "not a folder" in shown[0][1]
    assert taken.read_text() == "a file where the folder should be"


def test_cancel_midway_leaves_no_partial_file(qtbot, window, open_and_wait, many_pages_dir, tmp_path):
    out = tmp_path / "out"
    open_and_wait(window, many_pages_dir, 6)
    window.output_edit.setText(str(out))
    done: list[object] = []

    def on_item(result):
        done.append(result)
        if len(done) == 1:
            window.cancel()

    with qtbot.waitSignal(window.batch_finished, timeout=90000) as finished:
        window.run_batch()
        window.batch.page_done.connect(lambda result, key: on_item(result))
    assert finished.args == ["cancelled"]
    outputs = _outputs(out)
    assert 1 <= len(outputs) < 6
    assert not [p for p in outputs if "partial" in p.name or p.name.startswith(".")]
    for path in outputs:
        with Image.open(path) as image:
            image.load()  # every file left behind is complete
    statuses = [window.page_list.status(k) for k in window.page_list.keys()]
    assert Status.WORKING not in statuses and Status.WAITING in statuses


def test_a_corrupt_file_fails_while_the_rest_succeed(qtbot, window, open_and_wait, pages_dir, tmp_path):
    (pages_dir / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    out = tmp_path / "out"
    open_and_wait(window, pages_dir, 4)
    window.output_edit.setText(str(out))
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
    broken = next(k for k in window.page_list.keys() if k[0].endswith("broken.png"))
    assert window.page_list.status(broken) is Status.FAILED
    assert window.page_list.reason(broken)
    assert window.page_list.tooltip(broken).startswith("Failed:")
    others = [k for k in window.page_list.keys() if k != broken]
    assert all(window.page_list.status(k) is Status.DONE for k in others)
    assert len(_outputs(out)) == 3
    assert window.failures.count() == 1 and "broken.png" in window.failures.item(0).text()


def test_ui_thread_keeps_answering_while_a_batch_runs(qtbot, window, open_and_wait, many_pages_dir, tmp_path):
    open_and_wait(window, many_pages_dir, 6)
    window.output_edit.setText(str(tmp_path / "out"))
    # The CPU time the UI thread spends between two ticks of a 50 ms timer: cleaning or any other
    # long work done on it shows there, while time spent waiting for a shared CPU does not.
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: ticks.append(time.thread_time()))
    timer.start()
    with qtbot.waitSignal(window.batch_finished, timeout=120000):
        window.run_batch()
    timer.stop()
    assert len(ticks) > 5
    busy = [b - a for a, b in zip(ticks, ticks[1:])]
    assert max(busy) < 0.200, f"UI thread busy for {max(busy):.3f} s of CPU between two ticks"


def test_window_remembers_its_settings(qtbot, isolated_settings, tmp_path, pages_dir):
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    first = MainWindow(AppSettings())
    qtbot.addWidget(first)
    first.resize(700, 500)
    first.format_combo.setCurrentText("jpeg")
    first.open_folder(pages_dir)
    first.output_edit.setText(str(tmp_path / "cleaned"))
    first.close()

    second = MainWindow(AppSettings())
    qtbot.addWidget(second)
    assert (second.size().width(), second.size().height()) == (700, 500)
    assert second.output_edit.text() == str(tmp_path / "cleaned")
    assert second.format_combo.currentText() == "jpeg"
    assert second.settings.input_folder == pages_dir
    assert (isolated_settings / "DocClean" / "DocClean.ini").exists()
    second.close()


def test_shortcuts_for_common_actions(window):
    def keys(action):
        return {s.toString() for s in action.shortcuts()}

    assert "Ctrl+O" in keys(window.open_action)
    assert "Ctrl+R" in keys(window.run_action)
    assert "Esc" in keys(window.cancel_action)
    assert "PgDown" in keys(window.next_action) and "PgUp" in keys(window.previous_action)
    assert "Ctrl+=" in keys(window.zoom_in_action) and "Ctrl+-" in keys(window.zoom_out_action)
    assert "Ctrl+0" in keys(window.fit_action) and "Ctrl+1" in keys(window.actual_action)
    assert keys(window.swipe_action)
    window.swipe_action.trigger()
    assert window.compare.swipe


def test_next_and_previous_page(qtbot, window, open_and_wait, pages_dir):
    open_and_wait(window, pages_dir, 3)
    window.page_list.setCurrentRow(0)
    window.next_action.trigger()
    assert window.page_list.currentRow() == 1
    window.previous_action.trigger()
    window.previous_action.trigger()
    assert window.page_list.currentRow() == 0


def test_dropping_files_and_folders_adds_their_pages(qtbot, window, pages_dir, tmp_path, noisyoffice_dir):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent
    extra = tmp_path / "extra"
    (extra / "sub").mkdir(parents=True)
    import shutil

    shutil.copy(noisyoffice_dir / "noisy" / "10.png", extra / "sub" / "10.png")
    loose = tmp_path / "loose.png"
    shutil.copy(noisyoffice_dir / "noisy" / "11.png", loose)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(pages_dir)), QUrl.fromLocalFile(str(extra)), QUrl.fromLocalFile(str(loose))])
    event = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    # Qt only routes synthetic drops during a real drag, so hand the event to the window.
    with qtbot.waitSignal(window.pages_loaded, timeout=30000):
        window.dropEvent(event)
    assert event.isAccepted()
    names = sorted(Path(r.path).name for r in window.page_list.refs())
    assert names == sorted([p.name for p in pages_dir.iterdir()] + ["10.png", "loose.png"])


def test_black_and_white_mode_writes_one_bit_pages_and_is_remembered(qtbot, window, open_and_wait, pages_dir,
                                                                     tmp_path):
    from gui.settings import AppSettings

    out = tmp_path / "bw"
    window.mode_combo.setCurrentIndex(window.mode_combo.findData("bw"))
    open_and_wait(window, pages_dir, 3)
    window.output_edit.setText(str(out))
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
    for path in _outputs(out):
        with Image.open(path) as image:
            assert image.mode == "1"
        assert read_provenance(path).model == "docclean-ink.keras"  # the general model's ink model
    assert AppSettings().output_mode == "bw"
    qtbot.waitUntil(lambda: "runs on" in window.model_label.text(), timeout=60000)
    assert "Black and white pages: the ink model (docclean-ink.keras)" in window.model_label.text()
    window.mode_combo.setCurrentIndex(window.mode_combo.findData("grey"))
    assert "ink model" not in window.model_label.text()


def test_bundled_models_are_offered_by_name(window):
    from engine.models.bundled import BUNDLED_MODELS

    labels = [window.model_choice.itemText(i) for i in range(window.model_choice.count())]
    for bundled in BUNDLED_MODELS.values():
        assert bundled.label in labels
    window.model_choice.select_model(BUNDLED_MODELS["noisyoffice"].path)
    assert window.model_choice.current_model() == BUNDLED_MODELS["noisyoffice"].path
    assert labels.count(BUNDLED_MODELS["noisyoffice"].label) == 1


@pytest.mark.slow
def test_a_page_the_model_would_erase_is_marked_for_checking(qtbot, window, open_and_wait, tmp_path, blank_model,
                                                             faded_page):
    from engine.io import write_page

    folder = tmp_path / "faded"
    write_page(faded_page, folder / "faded.png")
    window.model_choice.add_model(blank_model)
    open_and_wait(window, folder, 1)
    window.output_edit.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
    key = window.page_list.keys()[0]
    assert window.page_list.status(key) is Status.CHECK
    assert "erased" in window.page_list.reason(key)
    assert "1 done" in window.page_count_label.text()
    # The viewer outlines where the ink was put back on the saved page.
    places = window.workspace.get(key).places
    assert places
    qtbot.waitUntil(lambda: window.compare.right.places() == places, timeout=30000)
    assert "outlined place" in window.compare.right.title()


def test_the_runtime_choice_loads_the_model_there_and_is_remembered(qtbot, isolated_settings):
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    first = MainWindow(AppSettings())
    qtbot.addWidget(first)
    qtbot.waitUntil(lambda: "runs on OpenVINO" in first.model_label.text(), timeout=60000)
    with qtbot.waitSignal(first.model_ready, timeout=120000) as loaded:
        first.backend_combo.setCurrentIndex(first.backend_combo.findData("keras"))
    assert "runs on Keras (reference)" in loaded.args[0]
    first.runner.wait(30000)
    first.close()

    second = MainWindow(AppSettings())
    qtbot.addWidget(second)
    assert second.backend_combo.currentData() == "keras" and second.denoisers.runtime == "keras"
    second.runner.wait(60000)
    second.close()


_GUI_WITHOUT_TENSORFLOW = without(("tensorflow", "keras"), """
from pathlib import Path
from PySide6.QtCore import QSettings, QTimer
from gui.app import create_application
from gui.main_window import MainWindow

app = create_application()
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[2])
window = MainWindow()
done = []
window.preview_ready.connect(lambda ref: (done.append(ref), app.quit()))
window.open_folder(Path(sys.argv[1]))
QTimer.singleShot(120000, app.quit)
app.exec()
window.runner.cancel_all()
window.runner.wait(30000)
assert done, 'no cleaned preview within two minutes'
assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules
""")


def test_the_app_cleans_pages_without_tensorflow(pages_dir, tmp_path):
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _GUI_WITHOUT_TENSORFLOW, str(pages_dir), str(tmp_path)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                               "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == 0, done.stderr[-3000:]


def test_sigterm_closes_the_window_like_its_close_button(qtbot, window, open_and_wait, pages_dir):
    import os
    import signal

    from gui.app import close_on_signals

    open_and_wait(window, pages_dir, 3)
    window.show()
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        close_on_signals(window)
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10000)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert window.closing and all(task.cancelled for task in window.runner.running())


def test_picture_zones_are_outlined_and_a_marked_region_makes_the_page_wait_again(qtbot, window, open_and_wait,
                                                                                   tmp_path, realscans_dir):
    """A photograph's zone is outlined on the original; marking it as text keeps the mark, the page waits to be
    cleaned again, and the batch cleans it with the mark; clearing the marks finds the first output again."""
    from engine.cleaning.pictures import TEXT
    from engine.io import read_page, write_page
    from engine.io.provenance import read_provenance

    folder = tmp_path / "book"
    spread = read_page(realscans_dir / "set0002-page-021.jpg").pixels
    write_page(spread[560:1400, 1850:2900], folder / "photo.png")  # a half-tone photograph and paper around
    open_and_wait(window, folder, 1)
    key = window.page_list.keys()[0]
    qtbot.waitUntil(lambda: len(window.compare.left.zones()) > 0, timeout=60000)
    top, left, bottom, right = max(window.compare.left.zones(), key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    assert top < 200 and left < 200 and bottom > 650 and right > 850  # around the photograph (110, 110, 730, 940)
    out = tmp_path / "out"
    window.output_edit.setText(str(out))
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
    assert window.workspace.get(key).state.finished  # done (or "check it": the content check's places)
    first = window.workspace.get(key).output
    assert not window.clear_marks_action.isEnabled()

    # Mark the page, photograph and all, as text, with a drag on the original from corner to corner.
    window.mark_text_action.trigger()
    assert window.compare.mark_mode == TEXT and window.mark_text_action.isChecked()
    canvas = window.compare.left
    start, end = QPoint(1, 1), QPoint(canvas.width() - 2, canvas.height() - 2)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    entry = window.workspace.get(key)
    (top, left, bottom, right), = entry.zones.text
    assert top <= 5 and left <= 5 and bottom >= 835 and right >= 1045 and not entry.zones.pictures
    assert not window.mark_text_action.isChecked() and window.clear_marks_action.isEnabled()
    assert window.page_list.status(key) is Status.WAITING and "1 done" not in window.page_count_label.text()
    assert canvas.marks() == entry.zones
    qtbot.waitUntil(lambda: canvas.zones() == (), timeout=60000)  # no picture is left where text was marked
    # The output check does not call the page clean with its earlier output.
    qtbot.wait(500)
    assert window.page_list.status(key) is Status.WAITING

    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
    assert window.workspace.get(key).state.finished
    second = window.workspace.get(key).output
    assert second != first and read_provenance(second).settings.endswith(entry.zones.settings_text())

    # Clearing the marks: the outline of the photograph is back, and so is the first output.
    with qtbot.waitSignal(window.outputs_checked, timeout=30000):
        window.clear_marks_action.trigger()
    assert window.workspace.get(key).zones.empty and canvas.marks().empty
    assert window.page_list.status(key) is Status.ALREADY and window.workspace.get(key).output == first
    qtbot.waitUntil(lambda: len(canvas.zones()) > 0, timeout=60000)
