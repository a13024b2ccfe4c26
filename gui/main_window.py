"""The main window: imported pages on the left, the before/after viewer, and the batch panel."""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QEvent, QObject, QPointF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QImage,
    QKeySequence,
    QPainter,
)
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTextEdit,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.cleaning.backends import BACKEND_LABELS, BACKENDS
from engine.cleaning.model_pool import ModelPool
from engine.options import BatchOptions
from engine.cleaning.batch import plan_batch, run_batch
from engine.cleaning.page import clean_page
from engine.cleaning.preview import clean_region, quick_preview
from engine.files import file_sha256
from engine.io.documents import read_output_provenances
from engine.models.bundled import SAMPLES_FOLDER, resolve_model
from engine.models.modelfile import page_model_problem
from engine.io import (SUPPORTED_SUFFIXES, ImageReadError, ImageWriteError, PageRef, check_output_folder, find_images,
                       list_pages, read_page)
from gui.compare_view import CompareView
from gui.empty_state import EmptyState
from gui.fields import choice_combo
from gui.output_options import OutputOptions
from gui.error_report import log_file
from gui.help import about_dialog, shortcuts_dialog
from gui.preferences import PreferencesDialog, apply_theme
from gui.model_summary import describe_model
from gui.formatting import format_duration
from gui.model_choice import ModelChoice
from gui.page_list import PageKey, PageList, Status, page_key, page_label
from gui.qimage import pixels_to_qimage, thumbnail
from gui.settings import AppSettings
from gui.workers import Task, TaskRunner

PREVIEW_CACHE_SIZE = 12
THUMBNAIL_PIXELS = 192  # twice the list's icon size so HiDPI screens stay sharp


class MainWindow(QMainWindow):
    pages_loaded = Signal(int)  # number of pages now in the list
    thumbnails_done = Signal()
    page_shown = Signal(object)  # the PageRef whose original is now in the viewer
    preview_ready = Signal(object)  # the PageRef whose cleaned preview is now in the viewer
    preview_stage = Signal(str)  # "quick" or "region": a first look reached the viewer
    batch_finished = Signal(str)  # "done", "cancelled" or "failed"
    model_ready = Signal(str)  # description of the loaded model, or the error

    def __init__(
        self,
        settings: Optional[AppSettings] = None,
        runner: Optional[TaskRunner] = None,
        parent: Optional[QWidget] = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.runner = runner or TaskRunner(self)
        self.denoisers = ModelPool(self.settings.backend, self.settings.threads)
        self.setWindowTitle("DocClean")
        self.setAcceptDrops(True)

        self._input_folder: Optional[Path] = None
        self._scan_task: Optional[Task] = None
        self._thumb_task: Optional[Task] = None
        self._view_tasks: list[Task] = []
        self._view_generation = 0
        self._previews: OrderedDict[tuple[PageKey, str], QImage] = OrderedDict()
        self._batch_task: Optional[Task] = None
        self._batch_started = 0.0
        self._batch_done = 0
        self._batch_total = 0
        self._batch_order: list[PageKey] = []
        self._batch_out_dir: Optional[Path] = None
        self._last_out_dir: Optional[Path] = None
        self._training_dialog: Any = None
        self._model_problem: Optional[str] = None  # why the chosen model cannot clean, while it cannot
        self._closing = False
        self._quit_confirmed = False

        self._build_widgets()
        self._build_actions()
        self._restore_settings()
        self._update_actions()
        # Hold Space for the original wherever the focus is (a thumbnail, a button), except while typing.
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    # ================================================================ building
    def _build_widgets(self) -> None:
        self.page_list = PageList()
        self.page_list.current_page_changed.connect(self._show_page)
        self.page_count_label = QLabel("No pages. Open a folder (Ctrl+O) or drop files here.")
        self.page_count_label.setWordWrap(True)
        pages = QWidget()
        pages_layout = QVBoxLayout(pages)
        pages_layout.setContentsMargins(4, 4, 4, 4)
        pages_layout.addWidget(self.page_count_label)
        pages_layout.addWidget(self.page_list)

        self.compare = CompareView()
        self.compare.set_message("Open a folder (Ctrl+O) or drop scanned pages here")
        self.view_toolbar = QToolBar("Viewer")
        self.view_toolbar.setIconSize(QSize(16, 16))
        self.view_toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.hold_button = QToolButton()
        self.hold_button.setText("Hold for original")
        self.hold_button.setToolTip("Press and hold (or hold Space, or the right mouse button) to see the original")
        self.hold_button.pressed.connect(lambda: self.compare.set_flash(True))
        self.hold_button.released.connect(lambda: self.compare.set_flash(False))
        self.view_status = QLabel("")
        viewer = QWidget()
        self.empty_state = EmptyState()
        self.empty_state.open_requested.connect(self.choose_input_folder)
        self.empty_state.samples_requested.connect(lambda: self.open_folder(SAMPLES_FOLDER))
        self.view_stack = QStackedWidget()
        self.view_stack.addWidget(self.empty_state)
        self.view_stack.addWidget(viewer)
        viewer_layout = QVBoxLayout(viewer)
        viewer_layout.setContentsMargins(0, 0, 0, 0)
        viewer_layout.setSpacing(2)
        viewer_layout.addWidget(self.view_toolbar)
        self.preview_progress = QProgressBar()
        self.preview_progress.setMaximumHeight(6)  # a thin line under the tools while a preview is cleaned
        self.preview_progress.setTextVisible(False)
        self.preview_progress.hide()
        viewer_layout.addWidget(self.preview_progress)
        viewer_layout.addWidget(self.compare, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(pages)
        self.splitter.addWidget(self.view_stack)
        self.splitter.addWidget(self._build_batch_panel())
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([270, 900, 300])
        self.setCentralWidget(self.splitter)
        self.statusBar().showMessage("Ready")

    def _build_batch_panel(self) -> QWidget:
        panel = QWidget()
        panel.setMinimumWidth(260)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(4, 4, 4, 4)

        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        self.model_choice = ModelChoice()
        self.model_choice.model_changed.connect(self._on_model_changed)
        self.model_choice.refused.connect(lambda message: self._show_error("Can't use this model", message))
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

        output_box = self.output_options = OutputOptions(self.settings, self.choose_output_folder)
        # The window's own names for the fields it reads and restores.
        self.output_edit = output_box.folder_edit
        self.format_combo, self.mode_combo = output_box.format_combo, output_box.mode_combo
        self.existing_combo, self.recursive_check = output_box.existing_combo, output_box.recursive_check

        batch_box = QGroupBox("Batch")
        batch_layout = QVBoxLayout(batch_box)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Clean all pages")
        self.run_button.setToolTip("Run the batch (Ctrl+R)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current page (Esc)")
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("%v / %m pages")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.hide()  # "0 / 100 pages" before any batch would mean nothing
        self.progress_label = QLabel("")
        self.progress_label.setWordWrap(True)
        self.failures = QListWidget()
        self.failures.setWordWrap(True)
        self.failures.setToolTip("Pages that could not be cleaned")
        self.failures.itemActivated.connect(self._select_failure)
        self.open_output_button = QPushButton("Open output folder")
        self.open_output_button.clicked.connect(self.open_output_folder)
        batch_layout.addLayout(buttons)
        batch_layout.addWidget(self.progress_bar)
        batch_layout.addWidget(self.progress_label)
        self.failures_label = QLabel("Failures")
        batch_layout.addWidget(self.open_output_button)
        batch_layout.addWidget(self.failures_label)
        batch_layout.addWidget(self.failures, 1)
        # An empty failure list is just a grey box: show it only when something failed.
        self.failures_label.hide()
        self.failures.hide()

        layout.addWidget(model_box)
        layout.addWidget(output_box)
        layout.addWidget(batch_box)
        layout.addStretch(1)
        self._batch_box = batch_box
        self._panel_layout = layout
        return panel

    def _action(self, text: str, slot: Any, shortcuts: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcuts is not None:
            keys = shortcuts if isinstance(shortcuts, list) else [shortcuts]
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip or text} ({shown})" if shown else (tip or text))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action("Open folder…", self.choose_input_folder, QKeySequence.StandardKey.Open)
        self.add_files_action = self._action("Add files…", self.choose_input_files, "Ctrl+Shift+O")
        self.run_action = self._action("Clean all", self.run_batch, "Ctrl+R", "Clean every page")
        self.clean_selected_action = self._action("Clean selected", self.clean_selected, "Ctrl+Shift+R",
                                                  "Clean the selected pages")
        self.clean_remaining_action = self._action("Clean remaining", self.clean_remaining, None,
                                                   "Clean the pages not cleaned yet (waiting or failed)")
        self.remove_action = self._action("Remove from list", self.remove_selected, "Del",
                                          "Take the selected pages off the list (their files stay)")
        # Delete removes pages only while the list has focus, never while typing a folder name.
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.page_list.addAction(self.remove_action)
        self.show_output_action = self._action("Show output", self.show_output, None,
                                               "Open the cleaned page in the system's viewer")
        self.show_input_folder_action = self._action("Open containing folder", self.show_input_folder, None,
                                                     "Open the folder that holds the scan")
        self.cancel_action = self._action("Cancel", self.cancel, "Esc", "Cancel the batch")
        self.open_output_action = self._action("Open output folder", self.open_output_folder, "Ctrl+Shift+E")
        self.train_action = self._action("Train…", self.open_training, "Ctrl+T", "Train a model")
        self.lab_action = self._action("Lab…", self.open_lab, None, "Run an autoencoder experiment of the lab")
        self.quit_action = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        self.preferences_action = self._action("Preferences…", self.open_preferences,
                                               QKeySequence.StandardKey.Preferences)
        self.next_action = self._action("Next page", self.page_list.select_next, ["PgDown", "Alt+Down", "Alt+Right"])
        self.previous_action = self._action("Previous page", self.page_list.select_previous, ["PgUp", "Alt+Up", "Alt+Left"])
        self.zoom_in_action = self._action("Zoom in", self.compare.zoom_in, ["Ctrl+=", "Ctrl++"])
        self.zoom_out_action = self._action("Zoom out", self.compare.zoom_out, "Ctrl+-")
        self.fit_action = self._action("Fit", self.compare.fit, "Ctrl+0", "Fit to window")
        self.actual_action = self._action("1:1", self.compare.actual_size, "Ctrl+1", "Actual pixels")
        self.swipe_action = self._action("Swipe", self._toggle_swipe, "Ctrl+E", "Swipe between original and cleaned")
        self.swipe_action.setCheckable(True)
        # Short toolbar labels (menus keep the full names) so the viewer fits a 1024-pixel screen.
        for action, short in ((self.previous_action, "◀ Page"), (self.next_action, "Page ▶"),
                              (self.zoom_out_action, "−"), (self.zoom_in_action, "+")):
            action.setIconText(short)

        self.run_button.clicked.connect(self.run_batch)
        self.cancel_button.clicked.connect(self.cancel)
        self.train_button.clicked.connect(self.open_training)

        toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.setMovable(False)
        for action in (self.open_action, self.add_files_action, None, self.run_action, self.cancel_action,
                       self.open_output_action, None, self.train_action):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self.addToolBar(toolbar)

        for action in (self.previous_action, self.next_action, None, self.fit_action, self.actual_action,
                       self.zoom_out_action, self.zoom_in_action, None, self.swipe_action):
            self.view_toolbar.addSeparator() if action is None else self.view_toolbar.addAction(action)
        self.view_toolbar.addWidget(self.hold_button)
        # The page's name sits in the status bar, so the viewer's tools fit a narrow window.
        self.statusBar().addPermanentWidget(self.view_status)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        for action in (self.add_files_action, self.open_output_action, None, self.preferences_action, None,
                       self.quit_action):
            file_menu.addSeparator() if action is None else file_menu.addAction(action)
        batch_menu = menu.addMenu("&Batch")
        for action in (self.run_action, self.clean_selected_action, self.clean_remaining_action,
                       self.cancel_action, None, self.train_action, self.lab_action):
            batch_menu.addSeparator() if action is None else batch_menu.addAction(action)
        view_menu = menu.addMenu("&View")
        for action in (self.next_action, self.previous_action, None, self.zoom_in_action, self.zoom_out_action,
                       self.fit_action, self.actual_action, None, self.swipe_action):
            view_menu.addSeparator() if action is None else view_menu.addAction(action)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction("Keyboard shortcuts", lambda: shortcuts_dialog(self, self.actions()).exec())
        help_menu.addAction("Show log file", self.show_log)
        help_menu.addAction("About DocClean", lambda: about_dialog(self, str(log_file())).exec())

        self.page_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.page_list.customContextMenuRequested.connect(self._page_menu)
        self.format_combo.currentTextChanged.connect(self.settings.setter(AppSettings.output_format))
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        self.existing_combo.activated.connect(
            lambda: self.settings.set_on_existing(str(self.existing_combo.currentData()), self.output_folder()))
        self.backend_combo.currentIndexChanged.connect(self._on_backend_changed)
        self.recursive_check.toggled.connect(self.settings.setter(AppSettings.include_subfolders))
        self.output_edit.editingFinished.connect(self._remember_output_folder)

    def _restore_settings(self) -> None:
        geometry = self.settings.window_geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 860)
        state = self.settings.window_state
        if state is not None:
            self.restoreState(state)
        splitter = self.settings.splitter_state
        if splitter is not None:
            self.splitter.restoreState(splitter)
        output = self.settings.output_folder
        if output:
            self.output_edit.setText(str(output))
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
        start = str(self._input_folder or self.settings.input_folder or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of scanned pages", start)
        if folder:
            self.open_folder(Path(folder))

    def choose_input_files(self) -> None:
        start = str(self._input_folder or self.settings.input_folder or Path.home())
        patterns = " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES))
        names, _ = QFileDialog.getOpenFileNames(self, "Add scanned pages", start, f"Images ({patterns})")
        if names:
            self.add_inputs([Path(n) for n in names])

    def open_folder(self, folder: Path) -> None:
        """Replace the list with every supported page in ``folder``."""
        folder = Path(folder)
        self._input_folder = folder
        self.settings.input_folder = folder
        self._update_title()
        # Each input folder has its own output folder, so two projects never mix.
        base = self.settings.output_base or folder.parent
        output = self.settings.output_folder_for[folder] or base / f"{folder.name}-cleaned"
        self.output_edit.setText(str(output))
        self._remember_output_folder()
        self._clear_pages()
        self.add_inputs([folder])

    def add_inputs(self, inputs: list[Path]) -> None:
        """Add the pages of files and folders (dropped or chosen) to the list, on a worker."""
        if self.batch_running:
            self.statusBar().showMessage("Wait for the batch to finish before adding pages")
            return
        recursive = self.recursive_check.isChecked()
        self.statusBar().showMessage("Looking for pages…")
        self._scan_task = self.runner.start(
            lambda task: _scan_inputs(inputs, recursive, task),
            "io",
            name="scan",
            on_result=self._on_scanned,
            on_failed=lambda message: self._show_error("Could not open the pages", message),
        )

    def _clear_pages(self) -> None:
        for task in (self._scan_task, self._thumb_task):
            if task is not None:
                task.cancel()
        self.page_list.clear_pages()
        self._previews.clear()
        self.failures.clear()
        self.progress_bar.hide()
        self.progress_label.setText("")
        self.compare.set_page(None)
        self._update_counts()

    def _on_scanned(self, found: list[tuple[Any, str]]) -> None:
        added = self.page_list.add_pages(ref for ref, _ in found)
        added_keys = {page_key(ref) for ref in added}
        for ref, error in found:
            if error and page_key(ref) in added_keys:
                self.page_list.set_status(page_key(ref), Status.FAILED, error)
        readable = [ref for ref, error in found if not error and page_key(ref) in added_keys]
        if self.page_list.currentItem() is None and self.page_list.count():
            # Open on a page that can be shown, not on a file that failed to list.
            self.page_list.select_key(page_key(readable[0]) if readable else self.page_list.keys()[0])
        self._update_counts()
        if not found:
            self.statusBar().showMessage("No supported images found")
        else:
            self.statusBar().showMessage(f"Found {len(added)} new page(s)")
        self.pages_loaded.emit(self.page_list.count())
        if readable:
            self._thumb_task = self.runner.start(
                lambda task: _make_thumbnails(readable, task),
                "io",
                name="thumbnails",
                on_item=self._on_thumbnail,
                on_finished=self.thumbnails_done.emit,
            )
        else:
            self.thumbnails_done.emit()
        self._update_actions()

    def _on_thumbnail(self, item: tuple[PageKey, Optional[QImage], str]) -> None:
        key, image, error = item
        if image is not None:
            self.page_list.set_thumbnail(key, image)
        elif self.page_list.status(key) is Status.WAITING:
            self.page_list.set_status(key, Status.FAILED, error)

    def _update_counts(self) -> None:
        count = self.page_list.count()
        self.view_stack.setCurrentIndex(1 if count else 0)  # the viewer, or how to start
        if not count:
            self.page_count_label.setText("No pages. Open a folder (Ctrl+O) or drop files here.")
            return
        failed = sum(1 for key in self.page_list.keys() if self.page_list.status(key) is Status.FAILED)
        done = sum(1 for key in self.page_list.keys()
                   if self.page_list.status(key) in (Status.DONE, Status.CHECK, Status.ALREADY))
        text = f"{count} page(s)"
        if done:
            text += f", {done} done"
        if failed:
            text += f", {failed} failed"
        self.page_count_label.setText(text)

    # Drag and drop -------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_inputs(paths)

    # ================================================================ the viewer
    def _show_page(self, ref: Any) -> None:
        self._view_generation += 1
        generation = self._view_generation
        self.preview_progress.hide()
        for task in self._view_tasks:
            task.cancel()
        self._view_tasks = []
        if ref is None:
            self.compare.set_page(None)
            self.view_status.setText("")
            return
        key = page_key(ref)
        output, output_page = self.page_list.output(key), self.page_list.output_page(key)
        self.view_status.setText(page_label(ref))
        self.compare.set_cleaned_message("Reading page…")
        task = self.runner.start(
            lambda t: _read_for_viewer(ref, output, output_page, self.model_choice.current_model()),
            "io",
            name="read page",
            on_result=lambda result: self._on_page_read(generation, ref, result),
            on_failed=lambda message: self._on_page_read_failed(generation, ref, message),
        )
        self._view_tasks.append(task)

    def _on_page_read(self, generation: int, ref: Any, result: "_ViewerPage") -> None:
        if generation != self._view_generation:
            return
        pixels, original, cleaned = result.pixels, result.original, result.saved
        key = page_key(ref)
        if cleaned is not None and result.by_chosen_model:
            self.compare.set_page(original, cleaned)
            self.compare.set_cleaned_title(f"Cleaned (saved, by {result.made_by})" if result.made_by
                                           else "Cleaned (saved)")
            self.page_shown.emit(ref)
            self.preview_ready.emit(ref)
            return
        # The saved file was made by another model: show what the chosen one makes, and say so.
        preview_title = (f"Cleaned (preview) · the saved file is by {result.made_by}" if cleaned is not None
                         else "Cleaned (preview)")
        mode = self.output_mode()
        cache_key = (key, self.denoisers.key(self.model_choice.current_model()), mode)
        cached = self._previews.get(cache_key)
        self.compare.set_page(original, cached)
        self.compare.set_cleaned_title(preview_title)
        self.page_shown.emit(ref)
        if cached is not None:
            self.preview_ready.emit(ref)
            return
        self.compare.set_cleaned_message("Cleaning a quick preview…")
        model = self.model_choice.current_model()
        # The batch has the model first: during one, a preview stops at the quick look.
        quick_only = self.batch_running
        box = self._visible_box()
        task = self.runner.start(
            lambda t: _clean_preview(self.denoisers, model, pixels, mode, box, quick_only, t),
            "preview",
            name="preview",
            on_item=lambda stage: self._on_preview_stage(generation, stage, quick_only),
            on_result=lambda image: self._on_preview(generation, ref, cache_key, image),
            on_failed=lambda message: self._on_preview_failed(generation, message),
            on_progress=lambda p: self._on_preview_progress(generation, p),
        )
        self._view_tasks.append(task)

    def _visible_box(self) -> Optional[tuple[int, int, int, int]]:
        """The part of the page on screen, in page pixels, when zoomed in (None: the whole page shows)."""
        canvas = self.compare.right
        size = canvas.image_size()
        if self.compare.state.fit or size.isEmpty():
            return None
        corner = canvas.widget_to_image(QPointF(0, 0))
        far = canvas.widget_to_image(QPointF(canvas.width(), canvas.height()))
        box = (max(0, int(corner.x())), max(0, int(corner.y())),
               min(size.width(), int(far.x()) + 1), min(size.height(), int(far.y()) + 1))
        whole = box == (0, 0, size.width(), size.height())
        return None if whole or box[2] <= box[0] or box[3] <= box[1] else box

    def _on_preview_stage(self, generation: int, stage: tuple[str, QImage], quick_only: bool) -> None:
        if generation != self._view_generation:
            return
        name, image = stage
        if name == "quick" and quick_only:
            note = "Quick preview · full resolution after the batch"
        elif name == "quick":
            note = "Quick preview · cleaning at full resolution…"
        else:
            note = "This part at full resolution · cleaning the rest…"
        self.compare.set_cleaned(image, note)
        self.preview_stage.emit(name)

    def _on_page_read_failed(self, generation: int, ref: Any, message: str) -> None:
        if generation != self._view_generation:
            return
        self.compare.set_page(None)
        self.compare.set_message(f"Cannot show this page:\n{message}")

    def _on_preview_progress(self, generation: int, progress: Any) -> None:
        if generation == self._view_generation and progress.total:
            self.preview_progress.setRange(0, progress.total)
            self.preview_progress.setValue(progress.done)
            self.preview_progress.setVisible(progress.done < progress.total)

    def _on_preview(self, generation: int, ref: Any, cache_key: tuple[PageKey, str],
                    image: Optional[QImage]) -> None:
        if image is None:  # only the quick look (during a batch); nothing to keep
            if generation == self._view_generation:
                self.preview_ready.emit(ref)
            return
        self._previews[cache_key] = image
        while len(self._previews) > PREVIEW_CACHE_SIZE:
            self._previews.popitem(last=False)
        if generation != self._view_generation:
            return
        self.preview_progress.hide()
        self.compare.set_cleaned(image)
        self.preview_ready.emit(ref)

    def _on_preview_failed(self, generation: int, message: str) -> None:
        if generation == self._view_generation:
            self.preview_progress.hide()
            self.compare.set_cleaned(None, f"Preview failed: {message}")

    def _toggle_swipe(self) -> None:
        self._set_swipe(not self.compare.swipe)

    def _set_swipe(self, on: bool) -> None:
        self.compare.set_swipe(on)
        self.swipe_action.setChecked(on)
        self.settings.swipe_mode = on

    # ================================================================ the model
    def _on_model_changed(self, path: Optional[Path]) -> None:
        self.settings.model_path = path
        self._previews.clear()
        self._load_model(path)
        self._show_page(self.page_list.current_ref())

    def _on_backend_changed(self) -> None:
        backend = str(self.backend_combo.currentData())
        self.settings.backend = backend
        self.denoisers.configure(runtime=backend)
        self._load_model(self.model_choice.current_model())

    def _load_model(self, path: Optional[Path]) -> None:
        self.model_label.setText("Loading model…")
        self.model_label.setStyleSheet("")
        self._model_problem = None
        self.runner.start(
            lambda t: describe_model(self.denoisers.get(path)),
            "preview",
            name="load model",
            on_result=lambda text: self._on_model_loaded(path, text),
            on_failed=lambda message: self._on_model_failed(path, message),
        )

    def _on_model_loaded(self, path: Optional[Path], text: str) -> None:
        if path != self.model_choice.current_model():
            return
        self.model_label.setText(text)
        self._update_actions()
        self.model_ready.emit(text)

    def _on_model_failed(self, path: Optional[Path], message: str) -> None:
        if path != self.model_choice.current_model():
            return
        self.model_label.setText(f"Cannot use this model: {message}")
        self.model_label.setStyleSheet("color: #c01010")
        self._model_problem = message
        self._update_actions()
        self.model_ready.emit(message)

    # ================================================================ the batch
    @property
    def batch_running(self) -> bool:
        return self._batch_task is not None

    def choose_output_folder(self) -> None:
        start = self.output_edit.text() or str(self._input_folder or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Folder for cleaned pages", start)
        if folder:
            self.output_edit.setText(folder)
            self._remember_output_folder()

    def _remember_output_folder(self) -> None:
        output = self.output_folder()
        if output is not None:
            self.settings.output_folder = output
            if self._input_folder is not None:
                self.settings.output_folder_for[self._input_folder] = output
        self._show_existing_choice()

    def _show_existing_choice(self) -> None:
        """The re-run choice made last for this output folder."""
        choice = self.settings.on_existing(self.output_folder())
        self.existing_combo.setCurrentIndex(max(0, self.existing_combo.findData(choice)))

    def output_mode(self) -> str:
        return str(self.mode_combo.currentData())

    def _on_mode_changed(self) -> None:
        self.settings.output_mode = self.output_mode()
        ref = self.page_list.current_ref()
        if ref is not None:
            self._show_page(ref)

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
        self._start_batch([ref for ref in self.page_list.refs()
                           if self.page_list.status(page_key(ref)) in (Status.WAITING, Status.FAILED)])

    def _start_batch(self, refs: list[Any]) -> None:
        if self.batch_running:
            return
        if self._model_problem:
            self._show_error("Can't clean with this model", self._model_problem)
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
        inputs = self._batch_inputs(refs)
        options = self.output_options.batch_options()
        mode = self.output_mode()
        existing = str(self.existing_combo.currentData())
        model = self.model_choice.current_model()
        pages = [(Path(ref.path), int(getattr(ref, "index", 0) or 0)) for ref in refs]

        # Only this batch's pages start again; the others keep what earlier runs found.
        self._batch_order = [page_key(ref) for ref in refs]
        self.page_list.reset_statuses(self._batch_order)
        self._forget_failures(self._batch_order)
        self._batch_total = len(refs)
        self._batch_done = 0
        self._batch_started = time.monotonic()
        self._batch_out_dir = out_dir
        self.progress_bar.setRange(0, self._batch_total)
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.progress_label.setText("Loading the model…")
        self._mark_next_working()
        self._batch_task = self.runner.start(
            lambda task: _run_batch(self.denoisers, model, inputs, pages, out_dir, options, mode, existing, task),
            "batch",
            name="batch",
            on_item=self._on_page_result,
            on_result=lambda _: self._on_batch_end("done"),
            on_cancelled=lambda: self._on_batch_end("cancelled"),
            on_failed=self._on_batch_failed,
        )
        self.statusBar().showMessage(f"Cleaning {self._batch_total} page(s) into {out_dir}")
        self._update_title()
        self._update_actions()

    def _mark_next_working(self) -> None:
        for key in self._batch_order:
            if self.page_list.status(key) is Status.WAITING:
                self.page_list.set_status(key, Status.WORKING)
                return

    def _on_page_result(self, result: Any) -> None:
        if isinstance(result, str):  # a note about the output folder, before the first page
            self.statusBar().showMessage(result[0].upper() + result[1:])
            return
        key = page_key(result.ref)
        if not self.page_list.has(key):
            # A file whose pages we listed differently (e.g. unreadable): match by file.
            matches = [k for k in self._batch_order if k[0] == key[0]]
            key = matches[0] if matches else key
        if result.error:
            self.page_list.set_status(key, Status.FAILED, str(result.error))
            self.failures.addItem(f"{page_label(result.ref)}: {_reason(result)}")
            self.failures.item(self.failures.count() - 1).setData(Qt.ItemDataRole.UserRole, key)
            self.failures.item(self.failures.count() - 1).setToolTip(str(result.error))
            self._show_failures(True)
        else:
            if result.warning:
                self.page_list.set_status(key, Status.CHECK, result.warning)
                self.statusBar().showMessage(f"{page_label(result.ref)}: {result.warning}")
            else:
                self.page_list.set_status(key, Status.ALREADY if result.skipped else Status.DONE)
            self.page_list.set_output(key, Path(result.output) if result.output else None, result.output_page)
            if result.output:  # the list shows the cleaned page from now on
                output, index = Path(result.output), result.output_page
                self.runner.start(lambda task: _thumbnail_of(output, index), "io", name="result thumbnail",
                                  on_result=lambda image: self.page_list.set_thumbnail(key, image))
            if self.page_list.current_ref() is not None and page_key(self.page_list.current_ref()) == key:
                self._show_page(self.page_list.current_ref())
        self._batch_done += 1
        self._update_title()
        self.progress_bar.setValue(min(self._batch_done, self._batch_total))
        self.progress_label.setText(self._progress_text())
        self._mark_next_working()
        self._update_counts()

    def _batch_inputs(self, refs: list[Any]) -> list[Path]:
        """The opened folder when every page is in it, so its sub-folders are mirrored in the output;
        else the pages' files (the batch cleans only the pages chosen, either way)."""
        folder = self._input_folder
        if folder is not None and all(folder in Path(ref.path).parents for ref in refs):
            return [folder]
        return list(dict.fromkeys(Path(ref.path) for ref in refs))

    def _forget_failures(self, keys: list[PageKey]) -> None:
        """Take the pages about to be cleaned again off the failure list."""
        cleaning = set(keys)
        for row in reversed(range(self.failures.count())):
            key = self.failures.item(row).data(Qt.ItemDataRole.UserRole)
            if key and tuple(key) in cleaning:
                self.failures.takeItem(row)
        self._show_failures(self.failures.count() > 0)

    def _show_failures(self, on: bool) -> None:
        self.failures_label.setVisible(on)
        self.failures.setVisible(on)
        # The list takes the spare height when shown; otherwise the panel ends after the batch box.
        self._panel_layout.setStretchFactor(self._batch_box, 1 if on else 0)

    def _progress_text(self) -> str:
        done, total = self._batch_done, self._batch_total
        text = f"{done} of {total} pages"
        if 0 < done < total:
            elapsed = time.monotonic() - self._batch_started
            text += f" · about {format_duration(elapsed / done * (total - done))} left"
        return text

    def _on_batch_end(self, how: str) -> None:
        for key in self._batch_order:
            if self.page_list.status(key) is Status.WORKING:
                self.page_list.set_status(key, Status.WAITING)
        elapsed = format_duration(time.monotonic() - self._batch_started)
        statuses = [self.page_list.status(key) for key in self._batch_order]
        failed, already = statuses.count(Status.FAILED), statuses.count(Status.ALREADY)
        if how == "done":
            text = f"Done: {self._batch_done - failed - already} cleaned"
            text += f", {already} already clean" if already else ""
            text += f", {failed} failed, in {elapsed}"
        else:
            text = f"Cancelled after {self._batch_done} of {self._batch_total} pages"
        self.progress_label.setText(text)
        self.statusBar().showMessage(text)
        self._last_out_dir = self._batch_out_dir
        self._batch_task = None
        self._update_title()
        self._update_actions()
        self._update_counts()
        self.batch_finished.emit(how)

    def _on_batch_failed(self, message: str) -> None:
        self._on_batch_end("failed")
        self.progress_label.setText(f"The batch stopped: {message}")
        self._show_error("The batch stopped", message)

    def cancel(self) -> None:
        """Esc: stop the batch within one page (and any preview in progress)."""
        if self._batch_task is not None:
            self._batch_task.cancel()
            self.progress_label.setText("Cancelling after the current page…")
        for task in self._view_tasks:
            task.cancel()

    def open_output_folder(self) -> None:
        folder = self._last_out_dir or self.output_folder()
        if folder is None:
            return
        if not folder.exists():
            self.statusBar().showMessage(f"{folder} does not exist yet")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def open_preferences(self) -> None:
        dialog = PreferencesDialog(self.settings, self)
        if dialog.exec() != PreferencesDialog.DialogCode.Accepted:
            return
        apply_theme(self.settings.theme)
        self.denoisers.configure(threads=self.settings.threads)
        backend = self.settings.backend
        if backend != self.backend_combo.currentData():
            self.backend_combo.setCurrentIndex(self.backend_combo.findData(backend))  # reloads the model
        else:
            self._load_model(self.model_choice.current_model())
        self._previews.clear()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        folders = [f for f in self.settings.recent_input_folders if f.is_dir()]
        for folder in folders:
            self.recent_menu.addAction(str(folder), lambda f=folder: self.open_folder(f))
        if not folders:
            self.recent_menu.addAction("No recent folders").setEnabled(False)

    def show_log(self) -> None:
        path = log_file()
        if not path.exists():
            self.statusBar().showMessage(f"Nothing has been logged yet ({path})")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def _page_menu(self, position: Any) -> None:
        menu = QMenu(self)
        for action in (self.clean_selected_action, None, self.show_output_action, self.show_input_folder_action,
                       None, self.remove_action):
            menu.addSeparator() if action is None else menu.addAction(action)
        menu.exec(self.page_list.viewport().mapToGlobal(position))

    def remove_selected(self) -> None:
        """Take the selected pages off the list; their files are not touched."""
        if self.batch_running:
            self.statusBar().showMessage("Wait for the batch to finish before removing pages")
            return
        keys = [page_key(ref) for ref in self.page_list.selected_refs()]
        self.page_list.remove_pages(keys)
        self._forget_failures(keys)
        self.statusBar().showMessage(f"Removed {len(keys)} page(s) from the list; their files are untouched")
        self._update_counts()
        self._update_actions()

    def show_output(self) -> None:
        ref = self.page_list.current_ref()
        output = self.page_list.output(page_key(ref)) if ref is not None else None
        if output is None or not output.exists():
            self.statusBar().showMessage("This page has no cleaned file yet")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(output)))

    def show_input_folder(self) -> None:
        ref = self.page_list.current_ref()
        if ref is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(ref.path).parent)))

    def _select_failure(self, item: Any) -> None:
        key = item.data(Qt.ItemDataRole.UserRole)
        if key:
            self.page_list.select_key(tuple(key))

    def _update_actions(self) -> None:
        running = self.batch_running
        has_pages = self.page_list.count() > 0
        can_clean = has_pages and not running and self._model_problem is None
        self.run_action.setEnabled(can_clean)
        self.run_button.setEnabled(can_clean)
        for action in (self.clean_selected_action, self.clean_remaining_action):
            action.setEnabled(can_clean)
        self.remove_action.setEnabled(has_pages and not running)
        self.cancel_action.setEnabled(running)
        self.run_button.setToolTip(f"Choose another model: {self._model_problem}" if self._model_problem
                                   else "Run the batch (Ctrl+R)")
        self.cancel_button.setEnabled(running)
        self.open_action.setEnabled(not running)
        self.add_files_action.setEnabled(not running)
        self.model_choice.setEnabled(not running)
        folder = self._last_out_dir or self.output_folder()
        self.open_output_button.setEnabled(folder is not None)
        self.open_output_action.setEnabled(folder is not None)

    # ================================================================ training
    def open_training(self) -> None:
        from gui.training_dialog import TrainingDialog

        if self._training_dialog is None:
            self._training_dialog = TrainingDialog(self.settings, self.runner, self)
            self._training_dialog.model_saved.connect(self._on_model_trained)
        self._training_dialog.show()
        self._training_dialog.raise_()
        self._training_dialog.activateWindow()

    def open_lab(self) -> None:
        from gui.lab_window import LabWindow

        if getattr(self, "lab_window", None) is None:
            self.lab_window = LabWindow(self.runner, self)
        self.lab_window.show()
        self.lab_window.raise_()

    @property
    def training_dialog(self) -> Any:
        return self._training_dialog

    def _on_model_trained(self, path: Path) -> None:
        if page_model_problem(path):  # a digit model: it has no place among the page cleaners
            self.statusBar().showMessage(f"New model saved: {path}")
            return
        self.settings.add_recent_model(path)
        self.model_choice.add_model(path, select=False)
        self.statusBar().showMessage(f"New model saved: {path}. Choose it under Model to use it.")

    # ================================================================ errors and closing
    def _show_error(self, title: str, message: str) -> None:
        from gui.error_report import show_error

        self.statusBar().showMessage(f"{title}: {message}")
        if not self._closing:
            show_error(self, title, message)

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
        title = f"DocClean – {self._input_folder.name or self._input_folder}" if self._input_folder else "DocClean"
        if self.batch_running:
            title = f"{self._batch_done}/{self._batch_total} cleaned · {title}"
        self.setWindowTitle(title)

    def work_under_way(self) -> str:
        """What closing the window would stop, in words ("" when nothing runs)."""
        work = []
        if self.batch_running:
            work.append(f"cleaning pages ({self._batch_done} of {self._batch_total} done)")
        if self._training_dialog is not None and self._training_dialog.running:
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
        self._closing = True
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.settings.window_geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        self.settings.splitter_state = self.splitter.saveState()
        self._remember_output_folder()
        self.settings.sync()
        if self._training_dialog is not None:
            self._training_dialog.abandon()
        self.runner.cancel_all()
        # Workers stop within one page or batch; wait so no file is left half-written.
        self.runner.wait(15000)
        super().closeEvent(event)


# Widgets where Space is typed, not a request to see the original.
_TYPING_WIDGETS = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


# ==================================================================== worker functions
# These run on pool threads: engine calls and QImage only, no widgets.

def _scan_inputs(inputs: list[Path], recursive: bool, task: Task) -> list[tuple[Any, str]]:
    found: list[tuple[Any, str]] = []
    for path in find_images(inputs, recursive=recursive):
        task.cancel_token.raise_if_cancelled()
        try:
            found.extend((ref, "") for ref in list_pages(path))
        except ImageReadError as exc:
            found.append((PageRef(Path(path), 0, 1), exc.reason))
    return found


def _make_thumbnails(refs: list[Any], task: Task) -> None:
    for ref in refs:
        task.cancel_token.raise_if_cancelled()
        try:
            image = pixels_to_qimage(read_page(ref).pixels)
        except ImageReadError as exc:
            task.emit_item((page_key(ref), None, exc.reason))
            continue
        task.emit_item((page_key(ref), thumbnail(image, THUMBNAIL_PIXELS), ""))


def _thumbnail_of(path: Path, index: int) -> QImage:
    """A thumbnail of page ``index`` (0-based) of a cleaned file."""
    return thumbnail(pixels_to_qimage(read_page(path, index).pixels), THUMBNAIL_PIXELS)


@dataclass
class _ViewerPage:
    """A page read for the viewer, with its saved output and who made it."""

    pixels: Any
    original: QImage
    saved: Optional[QImage]
    made_by: str  # the model named in the saved file ("" if it names none)
    by_chosen_model: bool  # the saved file was made by the model chosen now (or says nothing)


def _read_for_viewer(ref: Any, output: Optional[Path], output_page: int, model: Optional[Path]) -> _ViewerPage:
    pixels = read_page(ref).pixels
    saved, made_by, by_chosen = None, "", True
    if output is not None and output.exists():
        saved = pixels_to_qimage(read_page(output, output_page).pixels)
        records = read_output_provenances(output)
        provenance = records[output_page] if output_page < len(records) else None
        if provenance is not None:
            made_by = provenance.model
            by_chosen = provenance.model_sha256 == _model_sha256(model)
    return _ViewerPage(pixels, pixels_to_qimage(pixels), saved, made_by, by_chosen)


def _model_sha256(model: Optional[Path]) -> str:
    """The model file's SHA-256, hashed again only when the file changed (a model retrained in place)."""
    path = resolve_model(model)
    try:
        stat = path.stat()
    except OSError:
        return ""
    return _sha256_of_version(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _sha256_of_version(path: Path, mtime_ns: int, size: int) -> str:
    try:
        return file_sha256(path)
    except OSError:
        return ""


def _clean_preview(cache: ModelPool, model: Optional[Path], pixels: Any, mode: str,
                   box: Optional[tuple[int, int, int, int]], quick_only: bool, task: Task) -> Optional[QImage]:
    """The preview in stages: the page small (item "quick"), the part on screen at full
    resolution over it (item "region"), then the whole page (the result; None when ``quick_only``)."""
    denoiser = cache.get(model)
    task.cancel_token.raise_if_cancelled()
    height, width = pixels.shape[:2]
    first_look = pixels_to_qimage(quick_preview(denoiser, pixels, mode)).scaled(
        width, height, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    task.emit_item(("quick", first_look))
    if quick_only:
        return None
    if box is not None:
        task.cancel_token.raise_if_cancelled()
        region = pixels_to_qimage(clean_region(denoiser, pixels, box, mode, cancel=task.cancel_token))
        painter = QPainter(first_look)
        painter.drawImage(box[0], box[1], region)
        painter.end()
        task.emit_item(("region", first_look))
    cleaned = clean_page(denoiser, pixels, mode, progress=task.report, cancel=task.cancel_token)
    return pixels_to_qimage(cleaned.pixels)


def _run_batch(
    cache: ModelPool, model: Optional[Path], inputs: list[Path], pages: list[tuple[Path, int]], out_dir: Path,
    options: dict, mode: str, existing: str, task: Task,
) -> int:
    plan = plan_batch(inputs, out_dir, only=pages)
    for note in plan.notes():
        task.emit_item(note)
    denoiser = cache.get(model)
    count = 0
    batch_options = BatchOptions(mode=mode, existing=existing, **options)
    for result in run_batch(plan, denoiser, batch_options, cancel=task.cancel_token):
        task.emit_item(result)
        count += 1
    return count


def _reason(result: Any) -> str:
    """The part of an engine error after the file name, which the list already shows."""
    text = str(result.error)
    prefix = f"{result.ref.path}: "
    return text[len(prefix):] if text.startswith(prefix) else text
