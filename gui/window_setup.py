"""The main window's actions with their shortcuts, its toolbars and menus, and what it restores and saves.

Functions of the window (gui.main_window.MainWindow), kept apart so the
window itself holds the layout and the wiring.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QLabel, QLineEdit, QListWidget, QMainWindow, QMenu, QProgressBar,
                               QPushButton, QToolBar, QToolButton, QVBoxLayout, QWidget)

from engine.cleaning.pictures import PICTURE, TEXT
from gui.batch_panel import BatchPanel
from gui.error_report import log_file
from gui.geometry_options import GeometryOptionsBox
from gui.help import about_dialog, shortcuts_dialog
from gui.model_box import ModelBox
from gui.model_choice import ModelChoice
from gui.output_options import OutputOptions


class WindowParts:
    """What these functions give the main window, declared for the type checker (MainWindow inherits it)."""

    open_action: QAction
    add_files_action: QAction
    run_action: QAction
    clean_selected_action: QAction
    clean_remaining_action: QAction
    remove_action: QAction
    show_output_action: QAction
    show_input_folder_action: QAction
    cancel_action: QAction
    watch_action: QAction
    open_output_action: QAction
    train_action: QAction
    lab_action: QAction
    quit_action: QAction
    preferences_action: QAction
    next_action: QAction
    previous_action: QAction
    zoom_in_action: QAction
    zoom_out_action: QAction
    fit_action: QAction
    actual_action: QAction
    swipe_action: QAction
    zones_action: QAction
    mark_picture_action: QAction
    mark_text_action: QAction
    clear_marks_action: QAction
    edit_geometry_action: QAction
    turn_left_action: QAction
    turn_right_action: QAction
    straighten_action: QAction
    split_action: QAction
    reset_geometry_action: QAction
    zones_button: QToolButton
    geometry_button: QToolButton
    geometry_box: GeometryOptionsBox
    recent_menu: QMenu
    side_layout: QVBoxLayout
    model_box: ModelBox
    model_choice: ModelChoice
    model_label: QLabel
    train_button: QPushButton
    backend_combo: QComboBox
    output_options: OutputOptions
    output_edit: QLineEdit
    format_combo: QComboBox
    mode_combo: QComboBox
    existing_combo: QComboBox
    recursive_check: QCheckBox
    batch_panel: BatchPanel
    run_button: QPushButton
    cancel_button: QPushButton
    progress_bar: QProgressBar
    progress_label: QLabel
    failures: QListWidget
    failures_label: QLabel
    open_output_button: QPushButton


def build_side_panel(w: Any) -> QWidget:
    """The right-hand panel: the model, the output and the batch boxes; their fields under the window's names."""
    panel = QWidget()
    panel.setMinimumWidth(260)
    layout = w.side_layout = QVBoxLayout(panel)
    layout.setContentsMargins(4, 4, 4, 4)
    w.model_box = ModelBox(w.runner, w.denoisers)
    w.geometry_box = GeometryOptionsBox(w.settings)
    w.output_options = OutputOptions(w.settings, w.choose_output_folder, w.geometry_box.options)
    w.batch_panel = BatchPanel(w.workspace)
    for box, names in ((w.model_box, ("model_choice", "model_label", "train_button", "backend_combo")),
                       (w.output_options, ("format_combo", "mode_combo", "existing_combo", "recursive_check")),
                       (w.batch_panel, ("run_button", "cancel_button", "progress_bar", "progress_label", "failures",
                                        "failures_label", "open_output_button"))):
        for name in names:
            setattr(w, name, getattr(box, name))
        layout.addWidget(box)
        if box is w.output_options:
            layout.addWidget(w.geometry_box)
    w.output_edit = w.output_options.folder_edit
    w.mode_combo.currentIndexChanged.connect(lambda: w.model_box.set_mode(w.output_options.mode()))
    layout.addStretch(1)
    return panel


def fill(target: Any, actions: tuple[Any, ...]) -> None:
    """Add actions to a menu or toolbar, None being a separator."""
    for action in actions:
        target.addSeparator() if action is None else target.addAction(action)


def action(window: QMainWindow, text: str, slot: Any, shortcuts: Any = None, tip: str = "") -> QAction:
    """An action of the window, its shortcuts (those the platform has: an empty standard key is left out)."""
    made = QAction(text, window)
    if shortcuts is not None:
        keys = [QKeySequence(k) for k in (shortcuts if isinstance(shortcuts, list) else [shortcuts])]
        made.setShortcuts([k for k in keys if not k.isEmpty()])
        made.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    shown = made.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    made.setToolTip(f"{tip or text} ({shown})" if shown else (tip or text))
    made.triggered.connect(slot)
    window.addAction(made)
    return made


def build_actions(w: Any) -> None:
    """Every action of the window, as ``w.<name>_action``."""
    def a(*args: Any) -> QAction:
        return action(w, *args)

    keys = QKeySequence.StandardKey
    w.open_action = a("Open folder…", w.choose_input_folder, keys.Open)
    w.add_files_action = a("Add files…", w.choose_input_files, "Ctrl+Shift+O")
    w.run_action = a("Clean all", w.run_batch, "Ctrl+R", "Clean every page")
    w.clean_selected_action = a("Clean selected", w.clean_selected, "Ctrl+Shift+R", "Clean the selected pages")
    w.clean_remaining_action = a("Clean remaining", w.clean_remaining, None,
                                 "Clean the pages not cleaned yet (waiting or failed)")
    w.remove_action = a("Remove from list", w.remove_selected, "Del",
                        "Take the selected pages off the list (their files stay)")
    # Delete removes pages only while the list has focus, never while typing a folder name.
    w.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    w.page_list.addAction(w.remove_action)
    w.show_output_action = a("Show output", w.show_output, None, "Open the cleaned page in the system's viewer")
    w.show_input_folder_action = a("Open containing folder", w.show_input_folder, None,
                                   "Open the folder that holds the scan")
    w.cancel_action = a("Cancel", w.cancel, "Esc", "Cancel the batch")
    w.watch_action = a("Watch the folder", w.toggle_watch, None,
                       "Clean every page that appears in the opened folder, as a scanner saves it, until unchecked")
    w.watch_action.setCheckable(True)
    w.open_output_action = a("Open output folder", w.open_output_folder, "Ctrl+Shift+E")
    w.train_action = a("Train…", w.open_training, "Ctrl+T", "Train a model")
    w.lab_action = a("Lab…", w.open_lab, None, "Run an autoencoder experiment of the lab")
    w.quit_action = a("Quit", w.close, keys.Quit)
    # Ctrl+, everywhere (the README's), besides the platform's own key where it has one.
    w.preferences_action = a("Preferences…", w.open_preferences, [keys.Preferences, "Ctrl+,"])
    w.next_action = a("Next page", w.page_list.select_next, ["PgDown", "Alt+Down", "Alt+Right"])
    w.previous_action = a("Previous page", w.page_list.select_previous, ["PgUp", "Alt+Up", "Alt+Left"])
    w.zoom_in_action = a("Zoom in", w.compare.zoom_in, ["Ctrl+=", "Ctrl++"])
    w.zoom_out_action = a("Zoom out", w.compare.zoom_out, "Ctrl+-")
    w.fit_action = a("Fit", w.compare.fit, "Ctrl+0", "Fit to window")
    w.actual_action = a("1:1", w.compare.actual_size, "Ctrl+1", "Actual pixels")
    w.swipe_action = a("Swipe", lambda: w.set_swipe(not w.compare.swipe), "Ctrl+E",
                       "Swipe between original and cleaned")
    w.swipe_action.setCheckable(True)
    w.zones_action = a("Show picture zones", w.compare.set_zones_visible, None,
                       "Outline the picture zones on the original: pictures keep their tones, the rest is cleaned")
    w.zones_action.setCheckable(True)
    w.zones_action.setChecked(True)
    # Marking: the next drag on the original marks a region; the page is cleaned again with it.
    w.mark_picture_action = a("Mark as picture", lambda on: w.set_mark_mode(PICTURE if on else None), None,
                              "Drag a rectangle on the original to keep it as a picture (tones kept)")
    w.mark_text_action = a("Mark as text", lambda on: w.set_mark_mode(TEXT if on else None), None,
                           "Drag a rectangle on the original to clean it as text")
    for marking in (w.mark_picture_action, w.mark_text_action):
        marking.setCheckable(True)
    w.clear_marks_action = a("Clear marks", w.clear_marks, None, "Forget this page's marked regions")
    # The page's geometry: edited on the page as scanned; a turn, an angle, a split or a reset for every selected page.
    edits = w.geometry_edits
    w.edit_geometry_action = a("Edit page geometry", edits.set_editing, "Ctrl+G",
                               "Show the page as scanned with its outline and split line, to drag")
    w.edit_geometry_action.setCheckable(True)
    w.turn_left_action = a("Turn left", lambda: edits.turn(-1), "Ctrl+[", "Turn the selected pages 90° anticlockwise")
    w.turn_right_action = a("Turn right", lambda: edits.turn(1), "Ctrl+]", "Turn the selected pages 90° clockwise")
    w.straighten_action = a("Straighten…", lambda: edits.straighten(w), None,
                            "Set the angle the selected pages' lines lean by")
    w.split_action = a("Split into two pages", edits.split, None,
                       "Write the selected pages as two pages each (an open book), or keep them whole")
    w.split_action.setCheckable(True)
    w.reset_geometry_action = a("Find geometry again", edits.reset, None,
                                "Forget the selected pages' corrections: turn, straighten, crop and split as found")
    # Short toolbar labels (menus keep the full names) so the viewer fits a 1024-pixel screen.
    for named, short in ((w.previous_action, "◀ Page"), (w.next_action, "Page ▶"), (w.zoom_out_action, "−"),
                         (w.zoom_in_action, "+")):
        named.setIconText(short)


def build_bars_and_menus(w: Any) -> None:
    """The main toolbar, the viewer's toolbar and the menu bar."""
    toolbar = QToolBar("Main")
    toolbar.setObjectName("main_toolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    toolbar.setMovable(False)
    fill(toolbar, (w.open_action, w.add_files_action, None, w.run_action, w.cancel_action, w.open_output_action,
                   None, w.train_action, None))
    # The zones' tools are one button of the main bar: the viewer's bar is full on a 1024-pixel screen.
    zones_menu = QMenu("Zones", w)
    fill(zones_menu, (w.zones_action, None, w.mark_picture_action, w.mark_text_action, w.clear_marks_action))
    w.zones_button = QToolButton()
    w.zones_button.setText("Picture zones")
    w.zones_button.setToolTip("Show the picture zones on the original, or mark a region of the page shown "
                              "as picture or text")
    w.zones_button.setMenu(zones_menu)
    w.zones_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    toolbar.addWidget(w.zones_button)
    w.geometry_button = QToolButton()
    w.geometry_button.setText("Page geometry")
    w.geometry_button.setToolTip("Edit the outline, the split, the turn and the angle of the selected pages")
    w.geometry_button.setMenu(geometry_menu(w))
    w.geometry_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    toolbar.addWidget(w.geometry_button)
    w.addToolBar(toolbar)
    fill(w.view_toolbar, (w.previous_action, w.next_action, None, w.fit_action, w.actual_action, w.zoom_out_action,
                          w.zoom_in_action, None, w.swipe_action))
    w.view_toolbar.addWidget(w.hold_button)
    # The page's name sits in the status bar, so the viewer's tools fit a narrow window.
    w.statusBar().addPermanentWidget(w.view_status)

    menu = w.menuBar()
    file_menu = menu.addMenu("&File")
    file_menu.addAction(w.open_action)
    w.recent_menu = file_menu.addMenu("Open recent")
    w.recent_menu.aboutToShow.connect(w.fill_recent_menu)
    fill(file_menu, (w.add_files_action, w.open_output_action, None, w.preferences_action, None, w.quit_action))
    fill(menu.addMenu("&Batch"), (w.run_action, w.clean_selected_action, w.clean_remaining_action, w.cancel_action,
                                  None, w.watch_action, None, w.train_action, w.lab_action))
    fill(menu.addMenu("&View"), (w.next_action, w.previous_action, None, w.zoom_in_action, w.zoom_out_action,
                                 w.fit_action, w.actual_action, None, w.swipe_action, None, w.zones_action,
                                 w.mark_picture_action, w.mark_text_action, w.clear_marks_action))
    menu.addMenu(geometry_menu(w)).setText("&Page")
    help_menu = menu.addMenu("&Help")
    help_menu.addAction("Keyboard shortcuts", lambda: shortcuts_dialog(w, w.actions()).exec())
    help_menu.addAction("Show log file", w.show_log)
    help_menu.addAction("About DocClean", lambda: about_dialog(w, str(log_file())).exec())


def geometry_menu(w: Any) -> QMenu:
    made = QMenu("Page geometry", w)
    fill(made, (w.edit_geometry_action, None, w.turn_left_action, w.turn_right_action, w.straighten_action,
                w.split_action, None, w.reset_geometry_action))
    return made


def fill_recent_menu(w: Any) -> None:
    """File > Open recent: the folders opened last that still exist."""
    w.recent_menu.clear()
    folders = [f for f in w.settings.recent_input_folders if f.is_dir()]
    for folder in folders:
        w.recent_menu.addAction(str(folder), lambda f=folder: w.open_folder(f))
    if not folders:
        w.recent_menu.addAction("No recent folders").setEnabled(False)


def page_menu(w: Any) -> QMenu:
    """The page list's context menu."""
    menu = QMenu(w)
    fill(menu, (w.clean_selected_action, None, w.show_output_action, w.show_input_folder_action, None,
                w.remove_action))
    return menu


def restore_settings(w: Any) -> None:
    """The window's size and layout, and the choices of the last session."""
    settings = w.settings
    geometry = settings.window_geometry
    if geometry is None or not w.restoreGeometry(geometry):
        w.resize(1400, 860)
    for state, restore in ((settings.window_state, w.restoreState), (settings.splitter_state, w.splitter.restoreState)):
        if state is not None:
            restore(state)
    if settings.output_folder:
        w.output_edit.setText(str(settings.output_folder))
    w.format_combo.setCurrentText(settings.output_format)
    w.mode_combo.setCurrentIndex(max(0, w.mode_combo.findData(settings.output_mode)))
    w.model_box.set_mode(w.output_options.mode())
    w.output_options.show_existing_choice()
    w.backend_combo.blockSignals(True)  # the model loads once, below
    w.backend_combo.setCurrentIndex(max(0, w.backend_combo.findData(w.denoisers.runtime)))
    w.backend_combo.blockSignals(False)
    w.recursive_check.setChecked(settings.include_subfolders)
    w.model_choice.set_models(settings.recent_models, settings.model_path)
    w.set_swipe(settings.swipe_mode)
    w.model_box.load()


def save_settings(w: Any) -> None:
    """What the next session restores (on closing)."""
    w.settings.window_geometry = w.saveGeometry()
    w.settings.window_state = w.saveState()
    w.settings.splitter_state = w.splitter.saveState()
    w.output_options.remember_folder(w.input_folder)
    w.settings.sync()
