"""Working with the page list and the model choice: subsets, removal, per-folder memory, model refusals, quitting."""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel

from gui.page_list import Status

PROJECT = Path(__file__).resolve().parents[2]
FAST = PROJECT / "resources" / "models" / "docclean-fast.keras"


def _model_copy(target: Path, metadata: dict | None = None, drop: str = "") -> Path:
    """The bundled fast model, with its metadata changed or one member left out."""
    with zipfile.ZipFile(FAST) as source, zipfile.ZipFile(target, "w") as copy:
        for name in source.namelist():
            data = source.read(name)
            if name == drop:
                continue
            if name == "docclean.json" and metadata:
                data = json.dumps({**json.loads(data), **metadata}).encode()
            copy.writestr(name, data)
    return target


def _select_rows(window, rows: list[int]) -> None:
    window.page_list.clearSelection()
    for row in rows:
        index = window.page_list.model().index(row, 0)
        window.page_list.selectionModel().select(index, QItemSelectionModel.SelectionFlag.Select)


def _statuses(window) -> list[Status]:
    return [window.page_list.status(ref.key) for ref in window.page_list.refs()]


def test_clean_selected_then_remaining_keeps_earlier_statuses(qtbot, window, open_and_wait, pages_dir, tmp_path):
    open_and_wait(window, pages_dir, 3)
    out = tmp_path / "out"
    window.output_edit.setText(str(out))
    _select_rows(window, [1])
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.clean_selected()
    assert _statuses(window) == [Status.WAITING, Status.DONE, Status.WAITING]
    assert len(list(out.glob("*_clean.png"))) == 1
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.clean_remaining()
    assert _statuses(window) == [Status.DONE] * 3  # the page cleaned first was not reset
    assert len(list(out.glob("*_clean.png"))) == 3


def test_removing_pages_leaves_their_files(qtbot, window, open_and_wait, pages_dir):
    open_and_wait(window, pages_dir, 3)
    first = window.page_list.refs()[0]
    _select_rows(window, [0])
    window.remove_selected()
    assert window.page_list.count() == 2 and first.key not in window.page_list.keys()
    assert Path(first.path).exists()


def test_each_input_folder_has_its_own_output_folder_and_rerun_choice(qtbot, window, open_and_wait, tmp_path,
                                                                       pages_dir):
    other = tmp_path / "other"
    shutil.copytree(pages_dir, other)
    open_and_wait(window, pages_dir, 3)
    assert window.output_folder() == pages_dir.parent / "pages-cleaned"
    chosen = tmp_path / "chosen"
    window.output_edit.setText(str(chosen))
    window.output_edit.editingFinished.emit()
    index = window.existing_combo.findData("overwrite")
    window.existing_combo.setCurrentIndex(index)
    window.existing_combo.activated.emit(index)

    open_and_wait(window, other, 3)
    assert window.output_folder() == tmp_path / "other-cleaned"  # not the first project's folder
    assert window.existing_combo.currentData() == "overwrite"  # a new folder starts from the last choice
    window.existing_combo.setCurrentIndex(window.existing_combo.findData("skip"))
    window.existing_combo.activated.emit(window.existing_combo.currentIndex())

    open_and_wait(window, pages_dir, 3)
    assert window.output_folder() == chosen and window.existing_combo.currentData() == "overwrite"


def test_digit_models_are_not_offered_for_pages(qtbot, window, tmp_path, monkeypatch):
    digits = _model_copy(tmp_path / "digits.keras", {"architecture": "dense"})
    refusals: list[str] = []
    window.model_choice.refused.connect(refusals.append)
    shown: list[str] = []
    monkeypatch.setattr("gui.error_report.show_error", lambda parent, title, message: shown.append(message))
    window.model_choice.add_model(digits)
    assert digits not in window.model_choice.model_paths()
    assert refusals and "digit" in refusals[0] and str(digits) in refusals[0]
    window.model_choice.set_models([digits], digits)  # a digit model among the recent files
    assert digits not in window.model_choice.model_paths()


def test_a_model_that_fails_to_load_disables_cleaning_with_the_reason(qtbot, window, open_and_wait, pages_dir,
                                                                       tmp_path):
    open_and_wait(window, pages_dir, 3)
    qtbot.waitUntil(lambda: window.run_button.isEnabled(), timeout=60000)
    broken = _model_copy(tmp_path / "broken.keras", drop="model.weights.h5")
    with qtbot.waitSignal(window.model_ready, timeout=60000):
        window.model_choice.add_model(broken)
    assert not window.run_button.isEnabled() and not window.run_action.isEnabled()
    assert "Choose another model" in window.run_button.toolTip() and str(broken) in window.run_button.toolTip()
    assert window.model_label.text().startswith("Cannot use this model")
    with qtbot.waitSignal(window.model_ready, timeout=60000):
        window.model_choice.select_model(None)  # back to the bundled default
    assert window.run_button.isEnabled()


def test_quitting_during_a_batch_asks_first(qtbot, window, open_and_wait, many_pages_dir, tmp_path):
    open_and_wait(window, many_pages_dir, 6)
    window.output_edit.setText(str(tmp_path / "out"))
    questions: list[str] = []
    answer = {"go": False}

    def ask(title, question, go, stay):
        questions.append(question)
        return answer["go"]

    window.ask = ask
    window.run_batch()
    assert window.batch_running
    window.close()
    assert window.isVisible() and window.batch_running  # "Keep working"
    assert "cleaning pages" in questions[0]
    answer["go"] = True
    window.close()
    assert not window.isVisible()
    qtbot.waitUntil(lambda: not window.runner.running(), timeout=60000)
    assert not [p for p in (tmp_path / "out").glob(".*") if "partial" in p.name]


def test_space_shows_the_original_after_clicking_a_thumbnail(qtbot, window, open_and_wait, pages_dir):
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    open_and_wait(window, pages_dir, 3)
    window.page_list.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.page_list, timeout=5000)
    QApplication.sendEvent(window.page_list, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Space,
                                                       Qt.KeyboardModifier.NoModifier))
    assert window.compare.flashing
    QApplication.sendEvent(window.page_list, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Space,
                                                       Qt.KeyboardModifier.NoModifier))
    assert not window.compare.flashing
    window.output_edit.setFocus()  # typing a folder name: Space is a space
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.output_edit, timeout=5000)
    QApplication.sendEvent(window.output_edit, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Space,
                                                         Qt.KeyboardModifier.NoModifier, " "))
    assert not window.compare.flashing


def test_idle_window_shows_no_page_count_and_no_cancel(qtbot, window, open_and_wait, pages_dir, tmp_path):
    (pages_dir / "000-broken.png").write_bytes(b"not an image")
    assert window.progress_bar.isHidden()
    assert not window.cancel_button.isEnabled() and not window.cancel_action.isEnabled()
    open_and_wait(window, pages_dir, 4)
    current = window.page_list.current_ref()
    assert current is not None and Path(current.path).name != "000-broken.png"  # opens on a readable page
    window.output_edit.setText(str(tmp_path / "out"))
    titles: list[str] = []
    window.windowTitleChanged.connect(titles.append)
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
        assert window.cancel_button.isEnabled() and window.cancel_action.isEnabled()
    assert any(title.startswith("1/4 cleaned") for title in titles)
    assert window.windowTitle() == "DocClean – pages" and window.progress_bar.text() == "4 / 4 pages"


def test_the_viewer_says_which_model_made_a_saved_page(qtbot, window, open_and_wait, pages_dir, tmp_path):
    open_and_wait(window, pages_dir, 3)
    window.output_edit.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
    with qtbot.waitSignal(window.preview_ready, timeout=60000):
        window.page_list.setCurrentRow(1)
    assert window.compare.right._title == "Cleaned (saved, by docclean-general.keras)"
    fast = next(p for p in window.model_choice.model_paths() if p is not None and "fast" in p.name)
    with qtbot.waitSignal(window.preview_ready, timeout=60000):
        window.model_choice.select_model(fast)
    # Another model is chosen: its preview is shown, not the other model's saved page.
    assert window.compare.right._title == "Cleaned (preview) · the saved file is by docclean-general.keras"


@pytest.mark.slow
def test_a_preview_comes_in_stages_quick_then_full(qtbot, window, open_and_wait, tmp_path, realscans_dir):
    folder = tmp_path / "book"
    folder.mkdir()
    for copy in ("a.jpg", "b.jpg"):  # one size: the zoom stays when the next page comes
        shutil.copy(realscans_dir / "set0002-page-010.jpg", folder / copy)
    open_and_wait(window, folder, 2)
    stages: list[str] = []
    window.preview_stage.connect(stages.append)
    window.preview_ready.connect(lambda ref: stages.append("full"))
    qtbot.waitUntil(lambda: "full" in stages, timeout=120000)
    assert stages[:2] == ["quick", "full"]
    assert window.compare.right._cleaned.width() == window.compare.left._original.width()
    # Zoomed in, the part on screen comes at full resolution before the rest.
    window.compare.actual_size()
    stages.clear()
    window.page_list.setCurrentRow(1)
    qtbot.waitUntil(lambda: "full" in stages, timeout=120000)
    assert stages == ["quick", "region", "full"]


def test_cleaned_pages_show_their_result_in_the_list(qtbot, window, open_and_wait, pages_dir, tmp_path):
    open_and_wait(window, pages_dir, 3)
    window.output_edit.setText(str(tmp_path / "out"))
    before = [window.page_list.icon(row).cacheKey() for row in range(3)]
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
    qtbot.waitUntil(lambda: all(window.page_list.icon(row).cacheKey() != before[row] for row in range(3)),
                    timeout=10000)


def test_documents_out_a_pdf_per_document_one_combined_pdf_and_checked_names(
        qtbot, window, open_and_wait, tmp_path, noisyoffice_dir, monkeypatch):
    from PIL import Image

    folder = tmp_path / "docs"
    folder.mkdir()
    pages = [Image.open(noisyoffice_dir / "noisy" / name).convert("L") for name in ("0.png", "1.png", "2.png")]
    pages[0].save(folder / "report.pdf", save_all=True, append_images=pages[1:], resolution=150)
    pages[0].save(folder / "letter.png")
    open_and_wait(window, folder, 4)
    options = window.output_options
    out = tmp_path / "out"
    window.output_edit.setText(str(out))
    window.format_combo.setCurrentText("pdf")
    with qtbot.waitSignal(window.batch_finished, timeout=120000):
        window.run_batch()
    assert sorted(p.name for p in out.iterdir()) == ["letter_clean.pdf", "report_clean.pdf"]

    options.combine_check.setChecked(True)
    options.combine_edit.setText("everything.pdf")
    assert not options.format_combo.isEnabled() and not options.name_edit.isEnabled()
    window.existing_combo.setCurrentIndex(window.existing_combo.findData("overwrite"))
    with qtbot.waitSignal(window.batch_finished, timeout=120000):
        window.run_batch()
    assert (out / "everything.pdf").exists()

    shown: list[str] = []
    monkeypatch.setattr("gui.error_report.show_error", lambda parent, title, message: shown.append(message))
    options.combine_check.setChecked(False)
    options.name_edit.setText("{name}/{page}")
    window.run_batch()
    assert not window.batch_running and shown and "path separator" in shown[0]


def test_sub_folders_of_the_opened_folder_are_mirrored_in_the_output(qtbot, window, open_and_wait, tmp_path,
                                                                     noisyoffice_dir):
    folder = tmp_path / "archive"
    for part in ("a", "b"):
        (folder / part).mkdir(parents=True)
        shutil.copy(noisyoffice_dir / "noisy" / "0.png", folder / part / "page.png")  # one name, two folders
    open_and_wait(window, folder, 2)
    out = tmp_path / "out"
    window.output_edit.setText(str(out))
    with qtbot.waitSignal(window.batch_finished, timeout=90000):
        window.run_batch()
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.png")) == ["a/page_clean.png", "b/page_clean.png"]


def test_the_window_fits_a_small_screen(qtbot, window, open_and_wait, pages_dir):
    open_and_wait(window, pages_dir, 3)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() <= 1024, timeout=3000)
    toolbar = window.view_toolbar
    qtbot.waitUntil(lambda: toolbar.width() > 0, timeout=3000)
    # Every viewer tool is on the bar, none behind the overflow arrow.
    assert all(toolbar.widgetForAction(action).isVisible() for action in toolbar.actions()
               if not action.isSeparator() and toolbar.widgetForAction(action) is not None)
    assert window.page_list.horizontalScrollBarPolicy().name == "ScrollBarAlwaysOff"


def test_a_searchable_pdf_is_chosen_from_the_installed_languages_and_written(
        qtbot, window, open_and_wait, tmp_path, noisyoffice_dir):
    import pypdfium2 as pdfium

    open_and_wait(window, _letter_folder(tmp_path, noisyoffice_dir), 1)
    options = window.output_options
    combo = options.ocr_combo
    assert combo.findData("eng") > 0, "Tesseract's English data is installed by .ci/run"
    window.format_combo.setCurrentText("png")
    assert not combo.isEnabled()  # a text layer is a PDF's
    window.format_combo.setCurrentText("pdf")
    assert combo.isEnabled()
    combo.setCurrentIndex(combo.findData("eng"))
    out = tmp_path / "out"
    window.output_edit.setText(str(out))
    with qtbot.waitSignal(window.batch_finished, timeout=120000):
        window.run_batch()
    document = pdfium.PdfDocument(str(out / "letter_clean.pdf"))
    assert "Spanish" in document[0].get_textpage().get_text_range()
    document.close()
    assert window.settings.ocr == "eng"  # the next session offers it again


def test_how_a_pdf_is_stored_and_pdfa_are_chosen_for_pdfs_and_written(
        qtbot, window, open_and_wait, tmp_path, noisyoffice_dir):
    from pikepdf import pdfa

    open_and_wait(window, _letter_folder(tmp_path, noisyoffice_dir), 1)
    options = window.output_options
    window.format_combo.setCurrentText("png")
    assert not any(widget.isEnabled() for widget in (options.pdf_images_combo, options.pdf_quality_spin,
                                                     options.pdfa_combo))  # a PDF's choices
    window.format_combo.setCurrentText("pdf")
    options.pdfa_combo.setCurrentIndex(options.pdfa_combo.findData("2b"))
    options.pdf_images_combo.setCurrentIndex(options.pdf_images_combo.findData("lossless"))
    assert options.pdfa_combo.isEnabled() and not options.pdf_quality_spin.isEnabled()  # no JPEG, no quality
    chosen = options.options()
    assert (chosen.pdfa, chosen.pdf_images, chosen.document_quality) == ("2b", "lossless", None)
    out = tmp_path / "out"
    window.output_edit.setText(str(out))
    with qtbot.waitSignal(window.batch_finished, timeout=120000):
        window.run_batch()
    document = out / "letter_clean.pdf"
    assert pdfa.validate_written(document, "2b").passed and b"/DCTDecode" not in document.read_bytes()
    assert (window.settings.pdfa, window.settings.pdf_images) == ("2b", "lossless")  # offered again next time


def _letter_folder(tmp_path, noisyoffice_dir):
    """A folder holding one real noisy letter, letter.png."""
    from PIL import Image

    folder = tmp_path / "docs"
    folder.mkdir()
    Image.open(noisyoffice_dir / "noisy" / "5.png").save(folder / "letter.png")
    return folder


def test_watching_the_folder_cleans_a_page_that_appears_and_lists_it(
        qtbot, window, open_and_wait, tmp_path, noisyoffice_dir):
    import shutil

    from engine.workspace import PageState

    folder = _letter_folder(tmp_path, noisyoffice_dir)
    open_and_wait(window, folder, 1)
    window.output_edit.setText(str(tmp_path / "out"))
    assert window.watch_action.isEnabled() and window.watch_action.isCheckable()
    window.watch_action.trigger()
    assert window.watch_action.isChecked() and window.batch.watching
    assert not window.run_action.isEnabled()  # the watch is the batch while it runs
    shutil.copy(noisyoffice_dir / "noisy" / "7.png", folder / "scanned later.png")
    qtbot.waitUntil(lambda: window.page_list.count() == 2, timeout=60000)
    qtbot.waitUntil(lambda: all(entry.state is PageState.DONE for entry in window.workspace), timeout=60000)
    assert (tmp_path / "out" / "scanned later_clean.png").exists() and (tmp_path / "out" / "letter_clean.png").exists()
    with qtbot.waitSignal(window.batch_finished, timeout=30000):
        window.watch_action.trigger()  # unchecked: the watch stops
    assert not window.watch_action.isChecked() and window.run_action.isEnabled()


def test_a_watch_that_cannot_write_as_asked_says_so_and_stays_off(
        qtbot, window, open_and_wait, tmp_path, noisyoffice_dir, monkeypatch):
    shown = []
    monkeypatch.setattr("gui.error_report.show_error", lambda parent, title, message: shown.append(message))
    open_and_wait(window, _letter_folder(tmp_path, noisyoffice_dir), 1)
    window.output_edit.setText(str(tmp_path / "out"))
    window.output_options.combine_check.setChecked(True)
    window.watch_action.trigger()
    assert not window.watch_action.isChecked() and not window.batch.running
    assert shown and "one combined PDF" in shown[-1]


def test_a_batch_runs_on_a_ray_cluster_when_preferences_say_so(
        qtbot, window, open_and_wait, tmp_path, noisyoffice_dir, monkeypatch):
    from gui.preferences import PreferencesDialog

    folder = _letter_folder(tmp_path, noisyoffice_dir)
    open_and_wait(window, folder, 1)
    dialog = PreferencesDialog(window.settings, window)
    assert dialog.engine_combo.isEnabled()  # Ray is installed by the test set-up
    dialog.engine_combo.setCurrentIndex(dialog.engine_combo.findData("ray"))
    assert dialog.address_edit.isEnabled()
    dialog.accept()
    assert window.settings.engine == "ray" and window.settings.cluster_address == ""
    notes = []
    window.batch.note.connect(notes.append)
    window.output_edit.setText(str(tmp_path / "ray"))
    with qtbot.waitSignal(window.batch_finished, timeout=180000) as finished:
        window.run_batch()
    assert finished.args == ["done"]
    assert any(note.startswith("Started Ray on this computer") for note in notes)
    assert (tmp_path / "ray" / "letter_clean.png").exists()
    assert all(entry.state.name == "DONE" for entry in window.workspace)
    window.settings.engine = "local"  # the same pages cleaned here are the same bytes
    window.output_edit.setText(str(tmp_path / "here"))
    with qtbot.waitSignal(window.batch_finished, timeout=120000):
        window.run_batch()
    assert (tmp_path / "here" / "letter_clean.png").read_bytes() == (tmp_path / "ray" / "letter_clean.png").read_bytes()
