"""The main window: imported pages on the left, the before/after viewer, and the batch panel.

The window keeps the layout, the actions and the wiring.  The pages and
their states are the workspace's (engine.workspace), shown by a list view
(gui.page_list); the viewer, the batch and the page loading have
controllers of their own (gui.preview_controller, gui.batch_controller,
gui.page_loader).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QEvent, QObject, QStandardPaths, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QFileDialog, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QMainWindow, QMenu, QMessageBox, QPlainTextEdit, QPushButton, QSplitter,
                               QTextEdit, QToolBar, QVBoxLayout, QWidget)

from engine.cleaning.backends import BACKEND_LABELS, BACKENDS
from engine.cleaning.model_pool import ModelPool
from engine.errors import ConfigurationError, ImageWriteError
from engine.io import SUPPORTED_SUFFIXES, check_output_folder
from engine.models.bundled import SAMPLES_FOLDER
from engine.models.modelfile import page_model_problem
from engine.options import BatchOptions
from engine.workspace import PageKey, PageState, Workspace
from gui.batch_controller import BatchController
from gui.batch_panel import BatchPanel
from gui.desktop import open_in_system
from gui.error_report import log_file
from gui.fields import choice_combo
from gui.help import about_dialog, shortcuts_dialog
from gui.model_choice import ModelChoice
from gui.model_summary import describe_model
from gui.output_options import OutputOptions
from gui.page_list import PageList
from gui.page_loader import PageLoader
from gui.preferences import PreferencesDialog, apply_theme
from gui.preview_controller import PreviewController
from gui.settings import AppSettings
from gui.viewer_panel import ViewerPanel
from gui.workers import TaskRunner

# Widgets where Space is typed, not a request to see the original.
_TYPING_WIDGETS = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


class MainWindow(QMainWindow):
    pages_loaded = Signal(int)  # number of pages now in the list
    thumbnails_done = Signal()
    outputs_checked = Signal()  # the pages' states say what the output folder holds for the current settings
    page_shown = Signal(object)  # the PageRef whose original is now in the viewer
    preview_ready = Signal(object)  # the PageRef whose cleaned preview is now in the viewer
    preview_stage = Signal(str)  # "quick" or "region": a first look reached the viewer
    batch_finished = Signal(str)  # "done", "cancelled" or "failed"
    model_ready = Signal(str)  # description of the loaded model, or the error

    def __init__(self, settings: Optional[AppSettings] = None, runner: Optional[TaskRunner] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.runner = runner or TaskRunner(self)
        self.denoisers = ModelPool(self.settings.backend, self.settings.threads)
        self.workspace = Workspace()
        self.setWindowTitle("DocClean")
        self.setAcceptDrops(True)
        self.input_folder: Optional[Path] = None
        self.training_dialog: Any = None
        self.lab_window: Any = None
        self.model_problem: Optional[str] = None  # why the chosen model cannot clean, while it cannot
        self.closing = False
        self._quit_confirmed = False
        self._reshow_after_check = False

        self._build_widgets()
        self.preview = PreviewController(self.runner, self.denoisers, self.compare, self.preview_progress, self)
        self.batch = BatchController(self.runner, self.denoisers, self.workspace, self)
        self.loader = PageLoader(self.runner, self.workspace, self.page_list.page_model, self)
        self._build_actions()
        self._connect()
        self._restore_settings()
        self._update_actions()
        # Hold Space for the original wherever the focus is (a thumbnail, a button), except while typing.
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    # ================================================================ building
    def _build_widgets(self) -> None:
        self.page_list = PageList(self.workspace)
        self.page_count_label = QLabel(self.workspace.counts().text())
        self.page_count_label.setWordWrap(True)
        pages = QWidget()
        pages_layout = QVBoxLayout(pages)
        pages_layout.setContentsMargins(4, 4, 4, 4)
        pages_layout.addWidget(self.page_count_label)
        pages_layout.addWidget(self.page_list)
        self.view_stack = ViewerPanel()
        self.compare, self.view_toolbar = self.view_stack.compare, self.view_stack.toolbar
        self.hold_button, self.empty_state = self.view_stack.hold_button, self.view_stack.empty_state
        self.preview_progress = self.view_stack.preview_progress
        self.view_status = QLabel("")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget, stretch in ((pages, 0), (self.view_stack, 1), (self._build_side_panel(), 0)):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        self.splitter.setSizes([270, 900, 300])
        self.setCentralWidget(self.splitter)
        self.statusBar().showMessage("Ready")

    def _build_side_panel(self) -> QWidget:
        panel = QWidget()
        panel.setMinimumWidth(260)
        layout = self._panel_layout = QVBoxLayout(panel)
        layout.setContentsMargins(4, 4, 4, 4)
        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        self.model_choice = ModelChoice()
        self.model_label = QLabel("Loading model…")
        self.model_label.setWordWrap(True)
        self.train_button = QPushButton("Train a model…")
        self.backend_combo = choice_combo(BACKENDS, BACKEND_LABELS)
        self.backend_combo.setToolTip("The runtime that runs the model; all give the same pages, "
                                      "Keras (the reference) is slower")
        runtime_row = QHBoxLayout()
        runtime_row.addWidget(QLabel("Runtime"))
        runtime_row.addWidget(self.backend_combo, 1)
        model_layout.addWidget(self.model_choice)
        model_layout.addLayout(runtime_row)
        model_layout.addWidget(self.model_label)
        model_layout.addWidget(self.train_button)

        self.output_options = OutputOptions(self.settings, self.choose_output_folder)
        # The window's own names for the fields it reads and restores.
        self.output_edit = self.output_options.folder_edit
        self.format_combo, self.mode_combo = self.output_options.format_combo, self.output_options.mode_combo
        self.existing_combo = self.output_options.existing_combo
        self.recursive_check = self.output_options.recursive_check
        self.batch_panel = BatchPanel(self.workspace)
        for name in ("run_button", "cancel_button", "progress_bar", "progress_label", "failures", "failures_label",
                     "open_output_button"):
            setattr(self, name, getattr(self.batch_panel, name))
        for widget in (model_box, self.output_options, self.batch_panel):
            layout.addWidget(widget)
        layout.addStretch(1)
        return panel

    def _action(self, text: str, slot: Any, shortcuts: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcuts is not None:
            keys = [QKeySequence(k) for k in (shortcuts if isinstance(shortcuts, list) else [shortcuts])]
            action.setShortcuts([k for k in keys if not k.isEmpty()])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip or text} ({shown})" if shown else (tip or text))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a, keys = self._action, QKeySequence.StandardKey
        self.open_action = a("Open folder…", self.choose_input_folder, keys.Open)
        self.add_files_action = a("Add files…", self.choose_input_files, "Ctrl+Shift+O")
        self.run_action = a("Clean all", self.run_batch, "Ctrl+R", "Clean every page")
        self.clean_selected_action = a("Clean selected", self.clean_selected, "Ctrl+Shift+R",
                                       "Clean the selected pages")
        self.clean_remaining_action = a("Clean remaining", self.clean_remaining, None,
                                        "Clean the pages not cleaned yet (waiting or failed)")
        self.remove_action = a("Remove from list", self.remove_selected, "Del",
                               "Take the selected pages off the list (their files stay)")
        # Delete removes pages only while the list has focus, never while typing a folder name.
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.page_list.addAction(self.remove_action)
        self.show_output_action = a("Show output", self.show_output, None, "Open the cleaned page in the system's viewer")
        self.show_input_folder_action = a("Open containing folder", self.show_input_folder, None,
                                          "Open the folder that holds the scan")
        self.cancel_action = a("Cancel", self.cancel, "Esc", "Cancel the batch")
        self.open_output_action = a("Open output folder", self.open_output_folder, "Ctrl+Shift+E")
        self.train_action = a("Train…", self.open_training, "Ctrl+T", "Train a model")
        self.lab_action = a("Lab…", self.open_lab, None, "Run an autoencoder experiment of the lab")
        self.quit_action = a("Quit", self.close, keys.Quit)
        # Ctrl+, everywhere (the README's), besides the platform's own key where it has one.
        self.preferences_action = a("Preferences…", self.open_preferences, [keys.Preferences, "Ctrl+,"])
        self.next_action = a("Next page", self.page_list.select_next, ["PgDown", "Alt+Down", "Alt+Right"])
        self.previous_action = a("Previous page", self.page_list.select_previous, ["PgUp", "Alt+Up", "Alt+Left"])
        self.zoom_in_action = a("Zoom in", self.compare.zoom_in, ["Ctrl+=", "Ctrl++"])
        self.zoom_out_action = a("Zoom out", self.compare.zoom_out, "Ctrl+-")
        self.fit_action = a("Fit", self.compare.fit, "Ctrl+0", "Fit to window")
        self.actual_action = a("1:1", self.compare.actual_size, "Ctrl+1", "Actual pixels")
        self.swipe_action = a("Swipe", lambda: self._set_swipe(not self.compare.swipe), "Ctrl+E",
                              "Swipe between original and cleaned")
        self.swipe_action.setCheckable(True)
        # Short toolbar labels (menus keep the full names) so the viewer fits a 1024-pixel screen.
        for action, short in ((self.previous_action, "◀ Page"), (self.next_action, "Page ▶"),
                              (self.zoom_out_action, "−"), (self.zoom_in_action, "+")):
            action.setIconText(short)

        toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.setMovable(False)
        _fill(toolbar, (self.open_action, self.add_files_action, None, self.run_action, self.cancel_action,
                        self.open_output_action, None, self.train_action))
        self.addToolBar(toolbar)
        _fill(self.view_toolbar, (self.previous_action, self.next_action, None, self.fit_action, self.actual_action,
                                  self.zoom_out_action, self.zoom_in_action, None, self.swipe_action))
        self.view_toolbar.addWidget(self.hold_button)
        # The page's name sits in the status bar, so the viewer's tools fit a narrow window.
        self.statusBar().addPermanentWidget(self.view_status)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open recent")
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        _fill(file_menu, (self.add_files_action, self.open_output_action, None, self.preferences_action, None,
                          self.quit_action))
        _fill(menu.addMenu("&Batch"), (self.run_action, self.clean_selected_action, self.clean_remaining_action,
                                       self.cancel_action, None, self.train_action, self.lab_action))
        _fill(menu.addMenu("&View"), (self.next_action, self.previous_action, None, self.zoom_in_action,
                                      self.zoom_out_action, self.fit_action, self.actual_action, None,
                                      self.swipe_action))
        help_menu = menu.addMenu("&Help")
        help_menu.addAction("Keyboard shortcuts", lambda: shortcuts_dialog(self, self.actions()).exec())
        help_menu.addAction("Show log file", self.show_log)
        help_menu.addAction("About DocClean", lambda: about_dialog(self, str(log_file())).exec())

    def _connect(self) -> None:
        space, loader, preview, batch = self.workspace, self.loader, self.preview, self.batch
        for event in (space.inserted, space.removed, space.reset, space.changed):
            event.connect(lambda *args: self._update_counts())
        space.progress.connect(self._on_progress)
        self.page_list.current_page_changed.connect(lambda ref: self._show_current())
        self.page_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.page_list.customContextMenuRequested.connect(self._page_menu)
        self.empty_state.open_requested.connect(self.choose_input_folder)
        self.empty_state.samples_requested.connect(lambda: self.open_folder(SAMPLES_FOLDER))
        loader.pages_added.connect(self._on_pages_added)
        loader.thumbnails_done.connect(self.thumbnails_done)
        loader.outputs_checked.connect(self._on_outputs_checked)
        loader.failed.connect(lambda message: self._show_error("Could not open the pages", message))
        preview.page_shown.connect(self.page_shown)
        preview.preview_ready.connect(self.preview_ready)
        preview.stage.connect(self.preview_stage)
        batch.note.connect(self.statusBar().showMessage)
        batch.page_done.connect(self._on_page_done)
        batch.finished.connect(self._on_batch_end)
        batch.failed.connect(self._on_batch_failed)
        self.batch_panel.failure_chosen.connect(self.page_list.select_key)
        self.run_button.clicked.connect(self.run_batch)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_output_button.clicked.connect(self.open_output_folder)
        self.train_button.clicked.connect(self.open_training)
        self.model_choice.model_changed.connect(self._on_model_changed)
        self.model_choice.refused.connect(lambda message: self._show_error("Can't use this model", message))
        self.format_combo.currentTextChanged.connect(self.settings.setter(AppSettings.output_format))
        self.mode_combo.currentIndexChanged.connect(
            lambda: setattr(self.settings, "output_mode", self.output_mode()))
        self.output_options.changed.connect(self._on_outputs_changed)
        self.existing_combo.activated.connect(
            lambda: self.settings.set_on_existing(str(self.existing_combo.currentData()), self.output_folder()))
        self.backend_combo.currentIndexChanged.connect(self._on_backend_changed)
        self.recursive_check.toggled.connect(self.settings.setter(AppSettings.include_subfolders))
        self.output_edit.editingFinished.connect(self._remember_output_folder)

    def _restore_settings(self) -> None:
        geometry = self.settings.window_geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 860)
        for state, restore in ((self.settings.window_state, self.restoreState),
                               (self.settings.splitter_state, self.splitter.restoreState)):
            if state is not None:
                restore(state)
        if self.settings.output_folder:
            self.output_edit.setText(str(self.settings.output_folder))
        self.format_combo.setCurrentText(self.settings.output_format)
        self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(self.settings.output_mode)))
        self._show_existing_choice()
        self.backend_combo.blockSignals(True)  # the model loads once, below
        self.backend_combo.setCurrentIndex(max(0, self.backend_combo.findData(self.denoisers.runtime)))
        self.backend_combo.blockSignals(False)
        self.recursive_check.setChecked(self.settings.include_subfolders)
        self.model_choice.set_models(self.settings.recent_models, self.settings.model_path)
        self._set_swipe(self.settings.swipe_mode)
        self._load_model(self.model_choice.current_model())

    # ================================================================ importing pages
    def choose_input_folder(self) -> None:
        start = str(self.input_folder or self.settings.input_folder or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of scanned pages", start)
        if folder:
            self.open_folder(Path(folder))

    def choose_input_files(self) -> None:
        start = str(self.input_folder or self.settings.input_folder or Path.home())
        patterns = " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES))
        names, _ = QFileDialog.getOpenFileNames(self, "Add scanned pages", start, f"Images ({patterns})")
        if names:
            self.add_inputs([Path(n) for n in names])

    def open_folder(self, folder: Path) -> None:
        """Replace the list with every supported page in ``folder``."""
        folder = Path(folder)
        self.input_folder = self.settings.input_folder = folder
        self._update_title()
        # Each input folder has its own output folder, so two projects never mix.
        self.output_edit.setText(str(self.settings.output_folder_for[folder] or self.proposed_output(folder)))
        self._remember_output_folder()
        self.clear_pages()
        self.add_inputs([folder])

    def proposed_output(self, folder: Path) -> Path:
        """Where a folder's pages go unless the user said: beside it, or under Documents for the bundled samples."""
        if self.settings.output_base:
            return self.settings.output_base / f"{folder.name}-cleaned"
        if folder == SAMPLES_FOLDER or SAMPLES_FOLDER.parent in folder.parents:
            documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
            return Path(documents or Path.home()) / "DocClean" / "samples-cleaned"
        return folder.parent / f"{folder.name}-cleaned"

    def add_inputs(self, inputs: list[Path]) -> None:
        """Add the pages of files and folders (dropped or chosen) to the list, on a worker."""
        if self.batch_running:
            self.statusBar().showMessage("Wait for the batch to finish before adding pages")
            return
        self.statusBar().showMessage("Looking for pages…")
        self.loader.scan(inputs, self.recursive_check.isChecked())

    def clear_pages(self) -> None:
        self.loader.cancel()
        self.preview.clear_cache()
        self.workspace.clear()
        self.batch_panel.show_progress()
        self._update_counts()

    def _on_pages_added(self, added: list) -> None:
        if self.page_list.currentRow() < 0 and self.page_list.count():
            # Open on a page that can be shown, not on a file that failed to list.
            readable = [entry for entry in added if entry.error is None]
            self.page_list.select_key(readable[0].key if readable else self.workspace.keys()[0])
        self.statusBar().showMessage(f"Found {len(added)} new page(s)" if added else "No supported images found")
        self.pages_loaded.emit(self.page_list.count())
        self._update_actions()
        self._check_outputs()

    def _update_counts(self) -> None:
        self.view_stack.show_viewer(len(self.workspace) > 0)
        self.page_count_label.setText(self.workspace.counts().text())
        self._panel_layout.setStretchFactor(self.batch_panel, 1 if self.batch_panel.show_failures() else 0)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_inputs(paths)

    # ================================================================ the viewer and what the folder holds
    def _show_current(self) -> None:
        row = self.page_list.currentRow()
        entry = self.workspace.entry(row) if row >= 0 else None
        self.view_status.setText(entry.label if entry is not None else "")
        self.preview.show(entry, self.model_choice.current_model(), self.output_mode(), self.batch_running)

    def _set_swipe(self, on: bool) -> None:
        self.compare.set_swipe(on)
        self.swipe_action.setChecked(on)
        self.settings.swipe_mode = on

    def _check_outputs(self) -> None:
        """Read what the output folder holds for the current settings (the viewer follows once known)."""
        try:
            options: Optional[BatchOptions] = self.output_options.options()
        except ConfigurationError:
            options = None
        self.loader.check_outputs(self._batch_inputs(self.page_list.refs()), self.output_folder(), self.denoisers,
                                  self.model_choice.current_model(), options)

    def _on_outputs_changed(self) -> None:
        self._reshow_after_check = True
        self._check_outputs()

    def _on_outputs_checked(self) -> None:
        if self._reshow_after_check:
            self._reshow_after_check = False
            self._show_current()
        self.outputs_checked.emit()

    # ================================================================ the model
    def _on_model_changed(self, path: Optional[Path]) -> None:
        self.settings.model_path = path
        self.preview.clear_cache()
        self._load_model(path)
        self._on_outputs_changed()

    def _on_backend_changed(self) -> None:
        self.settings.backend = str(self.backend_combo.currentData())
        self.denoisers.configure(runtime=self.settings.backend)
        self._load_model(self.model_choice.current_model())

    def _load_model(self, path: Optional[Path]) -> None:
        self.model_label.setText("Loading model…")
        self.model_label.setStyleSheet("")
        self.model_problem = None
        self.runner.start(lambda t: describe_model(self.denoisers.get(path)), "preview", name="load model", owner=self,
                          on_result=lambda text: self._on_model_loaded(path, text, None),
                          on_failed=lambda message: self._on_model_loaded(path, f"Cannot use this model: {message}",
                                                                          message))

    def _on_model_loaded(self, path: Optional[Path], text: str, problem: Optional[str]) -> None:
        if path != self.model_choice.current_model():
            return
        self.model_label.setText(text)
        self.model_label.setStyleSheet("color: #c01010" if problem else "")
        self.model_problem = problem
        self._update_actions()
        self.model_ready.emit(problem or text)

    # ================================================================ the batch
    @property
    def batch_running(self) -> bool:
        return self.batch.running

    def choose_output_folder(self) -> None:
        start = self.output_edit.text() or str(self.input_folder or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Folder for cleaned pages", start)
        if folder:
            self.output_edit.setText(folder)
            self._remember_output_folder()
            self._on_outputs_changed()

    def _remember_output_folder(self) -> None:
        output = self.output_folder()
        if output is not None:
            self.settings.output_folder = output
            if self.input_folder is not None:
                self.settings.output_folder_for[self.input_folder] = output
        self._show_existing_choice()

    def _show_existing_choice(self) -> None:
        """The re-run choice made last for this output folder."""
        choice = self.settings.on_existing(self.output_folder())
        self.existing_combo.setCurrentIndex(max(0, self.existing_combo.findData(choice)))

    def output_mode(self) -> str:
        return self.output_options.mode()

    def output_folder(self) -> Optional[Path]:
        return self.output_options.folder()

    def run_batch(self) -> None:
        """Clean every listed page into the output folder, on the batch worker."""
        self._start_batch(self.page_list.refs())

    def clean_selected(self) -> None:
        """Clean the pages selected in the list (Ctrl+Shift+R, or the list's context menu)."""
        self._start_batch(self.page_list.selected_refs())

    def clean_remaining(self) -> None:
        """Clean the pages not cleaned yet: waiting, or failed last time."""
        keys = set(self.workspace.keys_in(PageState.WAITING, PageState.FAILED))
        self._start_batch([entry.ref for entry in self.workspace if entry.key in keys])

    def _start_batch(self, refs: list[Any]) -> None:
        if self.batch_running:
            return
        if self.model_problem:
            self._show_error("Can't clean with this model", self.model_problem)
            return
        problem = self.output_options.problem()
        if problem:
            self._show_error("Can't write the pages this way", problem[0].upper() + problem[1:])
            return
        self.output_options.remember()
        if not refs:
            self.statusBar().showMessage("No pages to clean" if self.page_list.count()
                                         else "Open a folder first (Ctrl+O)")
            return
        out_dir = self.output_folder()
        if out_dir is None:
            self.choose_output_folder()
            out_dir = self.output_folder()
            if out_dir is None:
                return
        try:
            check_output_folder(out_dir)
        except ImageWriteError as error:
            self._show_error(f"Can't write to {out_dir}", f"{error.reason[0].upper()}{error.reason[1:]}.")
            return
        self._remember_output_folder()
        self.loader.drop_check()
        self.batch.start(refs, self._batch_inputs(refs), out_dir, self.output_options.options(),
                         self.model_choice.current_model())
        self.statusBar().showMessage(f"Cleaning {len(refs)} page(s) into {out_dir}")
        self._update_actions()

    def _batch_inputs(self, refs: list[Any]) -> list[Path]:
        """The opened folder when every page is in it, so its sub-folders are mirrored in the output;
        else the pages' files (the batch cleans only the pages chosen, either way)."""
        folder = self.input_folder
        if folder is not None and all(folder in Path(ref.path).parents for ref in refs):
            return [folder]
        return list(dict.fromkeys(Path(ref.path) for ref in refs))

    def _on_progress(self) -> None:
        self.batch_panel.show_progress()
        self._update_title()

    def _on_page_done(self, result: Any, key: PageKey) -> None:
        if result.warning:
            self.statusBar().showMessage(f"{result.ref.label}: {result.warning}")
        if result.error is None and result.output:  # the list shows the cleaned page from now on
            self.loader.output_thumbnail(key, Path(result.output), result.output_page)
            if self.workspace.row(key) == self.page_list.currentRow():
                self._show_current()

    def _on_batch_end(self, how: str) -> None:
        text = self.workspace.summary()
        self.progress_label.setText(text)
        self.statusBar().showMessage(text)
        self._update_title()
        self._update_actions()
        self.batch_finished.emit(how)

    def _on_batch_failed(self, message: str) -> None:
        self.progress_label.setText(f"The batch stopped: {message}")
        self._show_error("The batch stopped", message)

    def cancel(self) -> None:
        """Esc: stop the batch within one page (and any preview in progress)."""
        if self.batch_running:
            self.batch.cancel()
            self.progress_label.setText("Cancelling after the current page…")
        self.preview.cancel()

    # ================================================================ files, menus, dialogs
    def open_output_folder(self) -> None:
        folder = self.batch.out_dir or self.output_folder()
        if folder is not None:
            open_in_system(folder, self.statusBar().showMessage, "output folder")

    def show_log(self) -> None:
        path = log_file()
        if not path.exists():
            self.statusBar().showMessage(f"Nothing has been logged yet ({path})")
            return
        open_in_system(path, self.statusBar().showMessage, "log file")

    def show_output(self) -> None:
        row = self.page_list.currentRow()
        entry = self.workspace.entry(row) if row >= 0 else None
        if entry is None or entry.output is None or not entry.output.exists():
            self.statusBar().showMessage("This page has no cleaned file yet")
            return
        open_in_system(entry.output, self.statusBar().showMessage, "cleaned page")

    def show_input_folder(self) -> None:
        ref = self.page_list.current_ref()
        if ref is not None:
            open_in_system(Path(ref.path).parent, self.statusBar().showMessage, "folder")

    def open_preferences(self) -> None:
        dialog = PreferencesDialog(self.settings, self)
        if dialog.exec() != PreferencesDialog.DialogCode.Accepted:
            return
        apply_theme(self.settings.theme)
        self.denoisers.configure(threads=self.settings.threads)
        if self.settings.backend != self.backend_combo.currentData():
            self.backend_combo.setCurrentIndex(self.backend_combo.findData(self.settings.backend))  # reloads it
        else:
            self._load_model(self.model_choice.current_model())
        self.preview.clear_cache()

    def fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        folders = [f for f in self.settings.recent_input_folders if f.is_dir()]
        for folder in folders:
            self.recent_menu.addAction(str(folder), lambda f=folder: self.open_folder(f))
        if not folders:
            self.recent_menu.addAction("No recent folders").setEnabled(False)

    def _page_menu(self, position: Any) -> None:
        menu = QMenu(self)
        _fill(menu, (self.clean_selected_action, None, self.show_output_action, self.show_input_folder_action,
                     None, self.remove_action))
        menu.exec(self.page_list.viewport().mapToGlobal(position))

    def remove_selected(self) -> None:
        """Take the selected pages off the list; their files are not touched."""
        if self.batch_running:
            self.statusBar().showMessage("Wait for the batch to finish before removing pages")
            return
        removed = self.workspace.remove(PageKey.of(ref) for ref in self.page_list.selected_refs())
        self.statusBar().showMessage(f"Removed {removed} page(s) from the list; their files are untouched")
        self._update_actions()

    def _update_actions(self) -> None:
        running = self.batch_running
        has_pages = self.page_list.count() > 0
        can_clean = has_pages and not running and self.model_problem is None
        for widget in (self.run_action, self.run_button, self.clean_selected_action, self.clean_remaining_action):
            widget.setEnabled(can_clean)
        self.remove_action.setEnabled(has_pages and not running)
        for widget in (self.cancel_action, self.cancel_button):
            widget.setEnabled(running)
        self.run_button.setToolTip(f"Choose another model: {self.model_problem}" if self.model_problem
                                   else "Run the batch (Ctrl+R)")
        for widget in (self.open_action, self.add_files_action, self.model_choice):
            widget.setEnabled(not running)
        folder = self.batch.out_dir or self.output_folder()
        self.open_output_button.setEnabled(folder is not None)
        self.open_output_action.setEnabled(folder is not None)

    # ================================================================ training and the lab
    def open_training(self) -> None:
        from gui.training_dialog import TrainingDialog

        if self.training_dialog is None:
            self.training_dialog = TrainingDialog(self.settings, self.runner, self)
            self.training_dialog.model_saved.connect(self._on_model_trained)
        self.training_dialog.show()
        self.training_dialog.raise_()
        self.training_dialog.activateWindow()

    def open_lab(self) -> None:
        from gui.lab_window import LabWindow

        if self.lab_window is None:
            self.lab_window = LabWindow(self.runner, self)
        self.lab_window.show()
        self.lab_window.raise_()

    def _on_model_trained(self, path: Path) -> None:
        if page_model_problem(path):  # a digit model: it has no place among the page cleaners
            self.statusBar().showMessage(f"New model saved: {path}")
            return
        self.settings.add_recent_model(path)
        self.model_choice.add_model(path, select=False)
        self.statusBar().showMessage(f"New model saved: {path}. Choose it under Model to use it.")

    # ================================================================ errors and closing
    def _show_error(self, title: str, message: str) -> None:
        from gui import error_report

        self.statusBar().showMessage(f"{title}: {message}")
        if not self.closing:
            error_report.show_error(self, title, message)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
                and event.key() == Qt.Key.Key_Space and not event.isAutoRepeat()
                and watched is QApplication.focusWidget() and isinstance(watched, QWidget)
                and watched.window() is self and not isinstance(watched, _TYPING_WIDGETS)):
            self.compare.set_flash(event.type() == QEvent.Type.KeyPress)
            return True
        return super().eventFilter(watched, event)

    def _update_title(self) -> None:
        """The folder in the title, and the batch's progress so it shows in the task bar too."""
        folder = self.input_folder
        title = f"DocClean – {folder.name or folder}" if folder else "DocClean"
        batch = self.workspace.batch
        if batch is not None and batch.running:
            title = f"{batch.done}/{batch.total} cleaned · {title}"
        self.setWindowTitle(title)

    def work_under_way(self) -> str:
        """What closing the window would stop, in words ("" when nothing runs)."""
        work = []
        batch = self.workspace.batch
        if self.batch_running and batch is not None:
            work.append(f"cleaning pages ({batch.done} of {batch.total} done)")
        if self.training_dialog is not None and self.training_dialog.running:
            work.append("training a model")
        return " and ".join(work)

    def ask(self, title: str, question: str, go: str, stay: str) -> bool:
        """A yes/no question with worded buttons; True for ``go``."""
        box = QMessageBox(QMessageBox.Icon.Question, title, question, parent=self)
        go_button = box.addButton(go, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(box.addButton(stay, QMessageBox.ButtonRole.RejectRole))
        box.exec()
        return box.clickedButton() is go_button

    def quit_now(self) -> None:
        """Close without asking (a signal from the system): the work stops as cleanly as on Cancel."""
        self._quit_confirmed = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        work = self.work_under_way()
        if work and not self._quit_confirmed and not self.ask(
                "Quit DocClean?", f"DocClean is {work}. Stop and quit? Pages already cleaned are kept.",
                "Stop and quit", "Keep working"):
            event.ignore()
            return
        self.closing = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.settings.window_geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        self.settings.splitter_state = self.splitter.saveState()
        self._remember_output_folder()
        self.settings.sync()
        if self.training_dialog is not None:
            self.training_dialog.abandon()
        self.runner.cancel_all()
        # Workers stop within one page or batch; wait so no file is left half-written.
        self.runner.wait(15000)
        super().closeEvent(event)


def _fill(target: Any, actions: tuple) -> None:
    """Add actions to a menu or toolbar, None being a separator."""
    for action in actions:
        target.addSeparator() if action is None else target.addAction(action)
