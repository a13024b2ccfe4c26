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
    window._fill_recent_menu()
    entries = [a.text() for a in window.recent_menu.actions()]
    assert entries == [str(pages_dir)]
    window._clear_pages()
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
    second.show()
    # The screen may be smaller than the saved window: the page list keeps a larger share than
    # its default (270 of 1470 pixels), as the user left it.
    qtbot.waitUntil(lambda: second.splitter.sizes()[0] / sum(second.splitter.sizes()) > 0.22, timeout=3000)
    second.close()
