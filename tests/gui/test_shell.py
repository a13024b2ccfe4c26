"""The shell of the app: how to start, recent folders, help, what it remembers."""
from __future__ import annotations

from PySide6.QtWidgets import QTableWidget

from engine.models.bundled import SAMPLES_FOLDER


def test_the_empty_window_offers_a_folder_or_the_samples(qtbot, window):
    assert window.view_stack.currentWidget() is window.empty_state
    with qtbot.waitSignal(window.thumbnails_done, timeout=30000):
        window.empty_state.samples_button.click()
    qtbot.waitUntil(lambda: window.page_list.count() == len(list(SAMPLES_FOLDER.glob("*.png"))), timeout=5000)
    assert window.view_stack.currentWidget() is not window.empty_state


def test_recent_folders_reopen(qtbot, window, open_and_wait, pages_dir, tmp_path):
    open_and_wait(window, pages_dir, 3)
    window.fill_recent_menu()
    entries = [a.text() for a in window.recent_menu.actions()]
    assert entries == [str(pages_dir)]
    window.clear_pages()
    with qtbot.waitSignal(window.thumbnails_done, timeout=30000):
        window.recent_menu.actions()[0].trigger()
    assert window.page_list.count() == 3


def test_help_lists_shortcuts_and_versions(qtbot, window):
    from gui.help import about_dialog, shortcuts_dialog, versions

    table = shortcuts_dialog(window, window.actions()).findChild(QTableWidget)
    texts = {table.item(row, 0).text(): table.item(row, 1).text() for row in range(table.rowCount())}
    assert texts["Clean all"] == "Ctrl+R" and "Space" in texts["Show the original while held"]
    names = dict(versions())
    assert names["docclean"] != "not installed" and names["Python"].startswith("3.")
    # Installed as tensorflow-cpu on x86-64: still TensorFlow's version, not "not installed".
    assert names["tensorflow"][0].isdigit() and names["openvino"][0].isdigit()
    about = about_dialog(window, "/tmp/docclean.log")
    assert about.findChild(QTableWidget).rowCount() == len(versions())


def test_splitter_sizes_are_remembered(qtbot, isolated_settings):
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    first = MainWindow(AppSettings())
    qtbot.addWidget(first)
    first.resize(1200, 700)
    first.show()
    first.splitter.setSizes([400, 500, 300])
    first.close()
    second = MainWindow(AppSettings())
    qtbot.addWidget(second)
    second.resize(1200, 700)  # the offscreen screen is smaller than the saved geometry
    second.show()
    qtbot.waitUntil(lambda: abs(second.splitter.sizes()[0] - 400) <= 10, timeout=3000)
    second.close()


def test_preferences_change_runtime_threads_output_base_and_theme(qtbot, window, open_and_wait, pages_dir,
                                                                   tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from gui.preferences import PreferencesDialog, apply_theme

    def set_and_accept(dialog) -> int:
        dialog.threads_spin.setValue(1)
        dialog.output_edit.setText(str(tmp_path / "all-outputs"))
        dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
        dialog.backend_combo.setCurrentIndex(dialog.backend_combo.findData("openvino"))
        dialog.accept()
        return PreferencesDialog.DialogCode.Accepted

    monkeypatch.setattr(PreferencesDialog, "exec", set_and_accept)
    try:
        with qtbot.waitSignal(window.model_ready, timeout=60000):
            window.open_preferences()
        assert window.denoisers.threads == 1 and window.settings.threads == 1
        assert window.backend_combo.currentData() == "openvino"
        assert QApplication.instance().palette().window().color().lightness() < 80  # dark
        open_and_wait(window, pages_dir, 3)
        assert window.output_folder() == tmp_path / "all-outputs" / "pages-cleaned"
        with qtbot.waitSignal(window.preview_ready, timeout=60000):
            window.page_list.setCurrentRow(1)  # the model cleans with one thread
    finally:
        apply_theme("system")
