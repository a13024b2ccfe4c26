"""Defects found trying the app on real scans (issue 19), each end to end in the window."""
from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image

from engine.models.bundled import SAMPLES_FOLDER
from engine.workspace import PageState


def _states(window) -> list[PageState]:
    return [window.page_list.status(key) for key in window.page_list.keys()]


def _clean_all(qtbot, window, out: Path) -> None:
    window.output_edit.setText(str(out))
    window.output_edit.editingFinished.emit()
    with qtbot.waitSignal(window.batch_finished, timeout=120000):
        window.run_batch()


def test_pages_cleaned_before_read_already_clean_after_a_restart(qtbot, isolated_settings, pages_dir, tmp_path):
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    first = MainWindow(AppSettings())
    qtbot.addWidget(first)
    with qtbot.waitSignal(first.outputs_checked, timeout=60000):
        first.open_folder(pages_dir)
    _clean_all(qtbot, first, tmp_path / "out")
    assert _states(first) == [PageState.DONE] * 3
    first.close()

    second = MainWindow(AppSettings())
    qtbot.addWidget(second)
    with qtbot.waitSignal(second.outputs_checked, timeout=60000):
        second.open_folder(pages_dir)  # the output folder is remembered for this input folder
    qtbot.waitUntil(lambda: _states(second) == [PageState.ALREADY] * 3, timeout=60000)
    assert "3 done" in second.page_count_label.text()
    assert all(second.page_list.output(key).exists() for key in second.page_list.keys())
    second.runner.wait(30000)
    second.close()


def test_another_format_or_black_and_white_is_not_already_clean(qtbot, window, open_and_wait, pages_dir, tmp_path):
    open_and_wait(window, pages_dir, 3)
    _clean_all(qtbot, window, tmp_path / "out")
    assert _states(window) == [PageState.DONE] * 3
    with qtbot.waitSignal(window.outputs_checked, timeout=60000):
        window.mode_combo.setCurrentIndex(window.mode_combo.findData("bw"))
    assert _states(window) == [PageState.WAITING] * 3
    # The viewer shows what black and white makes, not the grey page saved before.
    window.page_list.setCurrentRow(0)
    # (The title shown before may still be "Cleaned (preview)" while the page is read again.)
    qtbot.waitUntil(lambda: "other settings" in window.compare.right._title, timeout=60000)
    assert window.compare.right._title.startswith("Cleaned (preview)")
    with qtbot.waitSignal(window.outputs_checked, timeout=60000):
        window.mode_combo.setCurrentIndex(window.mode_combo.findData("grey"))
    assert _states(window) == [PageState.ALREADY] * 3  # back to the settings they were cleaned with
    with qtbot.waitSignal(window.outputs_checked, timeout=60000):
        window.format_combo.setCurrentText("pdf")
    assert _states(window) == [PageState.WAITING] * 3


def test_one_combined_pdf_shows_progress_as_pages_are_cleaned(qtbot, window, open_and_wait, pages_dir, tmp_path):
    open_and_wait(window, pages_dir, 3)
    window.output_options.combine_check.setChecked(True)
    results: list[object] = []
    seen: list[tuple[int, int]] = []  # (progress bar value, results arrived) each time the bar moves
    window.batch.page_done.connect(lambda result, key: results.append(result))
    window.progress_bar.valueChanged.connect(lambda value: seen.append((value, len(results))))
    _clean_all(qtbot, window, tmp_path / "out")
    assert (tmp_path / "out" / "all pages.pdf").exists()
    # The document's results come once it is written; the bar moved page by page before that.
    assert [value for value, arrived in seen if arrived == 0] == [1, 2, 3]


def test_the_samples_go_to_the_documents_folder_not_into_the_program(qtbot, window):
    with qtbot.waitSignal(window.thumbnails_done, timeout=30000):
        window.empty_state.samples_button.click()
    output = window.output_folder()
    assert output is not None and SAMPLES_FOLDER.parent not in output.parents
    package = Path(__import__("engine").__file__).resolve().parents[1]
    assert package not in output.resolve().parents
    assert output.parent.name == "DocClean"


def test_ctrl_comma_opens_preferences(window):
    assert "Ctrl+," in {s.toString() for s in window.preferences_action.shortcuts()}


def test_opening_a_folder_without_a_file_manager_says_so(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    from gui.error_report import log_file

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: False))
    out = tmp_path / "out"
    out.mkdir()
    window.output_edit.setText(str(out))
    window.open_output_folder()
    message = window.statusBar().currentMessage()
    assert "No program could open" in message and str(out) in message
    log = log_file()
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    window.show_log()
    assert str(log) in window.statusBar().currentMessage()


def test_colour_pages_are_shown_in_colour(qtbot, window, open_and_wait, tmp_path, noisyoffice_dir):
    folder = tmp_path / "colour"
    folder.mkdir()
    with Image.open(noisyoffice_dir / "noisy" / "0.png") as grey:
        page = grey.convert("RGB")
    page.paste((200, 40, 40), (10, 10, 120, 60))  # a red stamp
    page.save(folder / "stamped.png")
    shutil.copy(noisyoffice_dir / "noisy" / "1.png", folder / "plain.png")
    open_and_wait(window, folder, 2)
    row = [Path(ref.path).name for ref in window.page_list.refs()].index("stamped.png")
    window.page_list.setCurrentRow(row)
    qtbot.waitUntil(lambda: window.compare.original() is not None
                    and window.view_status.text() == "stamped.png", timeout=30000)
    qtbot.waitUntil(lambda: not window.compare.original().toImage().isGrayscale(), timeout=30000)
    assert not window.page_list.icon(row).pixmap(96).toImage().isGrayscale()


def test_the_first_start_shows_the_whole_invitation(qtbot, window):
    from PySide6.QtWidgets import QLabel

    text = next(label for label in window.empty_state.findChildren(QLabel) if "drop files" in label.text())
    qtbot.waitUntil(lambda: text.isVisible(), timeout=3000)
    assert text.height() >= text.heightForWidth(text.width())  # every wrapped line, not the first alone
