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

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from engine.cleaning.model_pool import ModelPool
from engine.cleaning.watch import check_watchable
from engine.distributed.cluster import ClusterOptions
from engine.cleaning.pictures import PICTURE, TEXT
from engine.errors import ConfigurationError, ImageWriteError
from engine.io import PageKey, check_output_folder
from engine.models.bundled import SAMPLES_FOLDER
from engine.options import BatchOptions
from engine.workspace import PageState, Workspace
from gui import window_dialogs as dialogs
from gui.batch_controller import BatchController
from gui.geometry_edits import GeometryEdits
from gui.page_list import PageList
from gui.page_loader import THUMBNAIL_PIXELS, PageLoader
from gui.qimage import thumbnail
from gui.preview_controller import PreviewController
from gui.settings import AppSettings
from gui.viewer_panel import HoldSpace, ViewerPanel
from gui.window_setup import (WindowParts, build_actions, build_bars_and_menus, build_side_panel, fill_recent_menu,
                              page_menu, restore_settings, save_settings)
from gui.workers import TaskRunner


class MainWindow(WindowParts, QMainWindow):
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
        self.closing = False
        self._quit_confirmed = False
        self._reshow_after_check = False

        self._build_widgets()
        self.preview = PreviewController(self.runner, self.denoisers, self.compare, self.preview_progress, self)
        self.batch = BatchController(self.runner, self.denoisers, self.workspace, self)
        self.loader = PageLoader(self.runner, self.workspace, self.page_list.page_model, self)
        self.geometry_edits = GeometryEdits(
            self.workspace, self.compare, lambda: [ref.key for ref in self.page_list.selected_refs()],
            lambda key, image: self.page_list.page_model.set_thumbnail(key, thumbnail(image, THUMBNAIL_PIXELS)), self)
        build_actions(self)
        build_bars_and_menus(self)
        self._connect()
        restore_settings(self)
        self._update_actions()
        self.hold_space = HoldSpace(self, self.compare)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.hold_space)

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
        for widget, stretch in ((pages, 0), (self.view_stack, 1), (build_side_panel(self), 0)):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        self.splitter.setSizes([270, 900, 300])
        self.setCentralWidget(self.splitter)
        self.statusBar().showMessage("Ready")

    def _connect(self) -> None:
        space, loader, preview, batch = self.workspace, self.loader, self.preview, self.batch
        for event in (space.inserted, space.removed, space.reset, space.changed):
            event.connect(lambda *args: self._update_counts())
        space.progress.connect(self._on_progress)
        self.page_list.current_page_changed.connect(lambda ref: self._on_current_changed())
        self.page_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.page_list.customContextMenuRequested.connect(self._page_menu)
        self.empty_state.open_requested.connect(self.choose_input_folder)
        self.empty_state.samples_requested.connect(lambda: self.open_folder(SAMPLES_FOLDER))
        loader.pages_added.connect(self._on_pages_added)
        loader.thumbnails_done.connect(self.thumbnails_done)
        loader.thumbnails_done.connect(self._show_written_looks)
        loader.outputs_checked.connect(self._on_outputs_checked)
        loader.failed.connect(lambda message: self._show_error("Could not open the pages", message))
        preview.page_shown.connect(self.page_shown)
        preview.geometry_shown.connect(self._on_geometry_shown)
        self.geometry_edits.edited.connect(self._on_geometry_edited)
        self.geometry_box.changed.connect(self._on_outputs_changed)
        self.geometry_box.changed.connect(self._update_actions)
        self.geometry_box.changed.connect(self._show_written_looks)
        preview.preview_ready.connect(self.preview_ready)
        preview.stage.connect(self.preview_stage)
        self.compare.region_marked.connect(self.mark_region)
        self.compare.mark_mode_changed.connect(self._on_mark_mode)
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
        self.model_box.ready.connect(self._on_model_ready)
        self.output_options.changed.connect(self._on_outputs_changed)
        self.backend_combo.currentIndexChanged.connect(self._on_backend_changed)
        self.output_edit.editingFinished.connect(self._remember_output_folder)

    # ================================================================ importing pages
    def choose_input_folder(self) -> None:
        dialogs.choose_input_folder(self)

    def choose_input_files(self) -> None:
        dialogs.choose_input_files(self)

    def open_folder(self, folder: Path) -> None:
        """Replace the list with every supported page in ``folder``."""
        folder = Path(folder)
        self.input_folder = self.settings.input_folder = folder
        self._update_title()
        # Each input folder has its own output folder, so two projects never mix.
        self.output_edit.setText(str(self.output_options.folder_for(folder)))
        self._remember_output_folder()
        self.clear_pages()
        self.add_inputs([folder])

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

    def _on_pages_added(self, added: list[Any]) -> None:
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
        self.side_layout.setStretchFactor(self.batch_panel, 1 if self.batch_panel.show_failures() else 0)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_inputs(paths)

    # ================================================================ the viewer and what the folder holds
    def _on_current_changed(self) -> None:
        self.compare.set_mark_mode(None)  # a mark asked for on one page is not made on the next
        self._update_actions()
        self._show_current()

    def _show_current(self) -> None:
        row = self.page_list.currentRow()
        entry = self.workspace.entry(row) if row >= 0 else None
        self.view_status.setText(entry.label if entry is not None else "")
        if entry is None:
            self.geometry_edits.forget_page()
        self.preview.geometry, self.preview.out_dir = self.geometry_box.options(), self.output_folder()
        self.preview.show(entry, self.model_choice.current_model(), self.output_mode(), self.batch_running)

    def set_swipe(self, on: bool) -> None:
        self.compare.set_swipe(on)
        self.swipe_action.setChecked(on)
        self.settings.swipe_mode = on

    # ================================================================ the user's picture zone marks
    def current_entry(self) -> Optional[Any]:
        row = self.page_list.currentRow()
        return self.workspace.entry(row) if row >= 0 else None

    def set_mark_mode(self, kind: Optional[str]) -> None:
        """The next drag on the original marks a region as ``kind`` (picture or text); None: it pans."""
        self.compare.set_mark_mode(kind)
        if kind is not None:
            # The marks are drawn with the zones: a mark made while they are hidden would not be seen.
            self.zones_action.setChecked(True)
            self.compare.set_zones_visible(True)
            self.statusBar().showMessage(f"Drag a rectangle on the original to mark it as {kind}")

    def _on_mark_mode(self, kind: Optional[str]) -> None:
        self.mark_picture_action.setChecked(kind == PICTURE)
        self.mark_text_action.setChecked(kind == TEXT)

    def mark_region(self, kind: str, box: Any) -> None:
        """The user marked ``box`` (page pixels) of the page shown as ``kind``: the workspace keeps it, the page
        waits to be cleaned again with it, and the preview follows."""
        entry = self.current_entry()
        if entry is None or self.batch_running:
            return
        self.workspace.mark_zone(entry.key, kind, box)
        self.compare.set_marks(entry.zones)  # at once; the zones they make follow from a worker
        self.statusBar().showMessage(f"Marked a region of {entry.label} as {kind}; clean the page to apply it")
        self._after_marks()

    def clear_marks(self) -> None:
        entry = self.current_entry()
        if entry is None or self.batch_running or entry.zones.empty:
            return
        self.workspace.clear_zones(entry.key)
        self.compare.set_marks(entry.zones)
        self.statusBar().showMessage(f"Cleared the marks of {entry.label}")
        self._after_marks()

    # ================================================================ the user's geometry corrections
    def _on_geometry_shown(self, ref: Any, page: Any) -> None:
        self.geometry_edits.page_shown(ref, page)
        self.split_action.setChecked(page.geometry is not None and bool(page.geometry.parts))

    def _show_written_looks(self) -> None:
        """The list's thumbnails show what the geometry stage will make of each page."""
        self.loader.written_thumbnails([entry.ref for entry in self.workspace if entry.error is None],
                                       self.geometry_box.options(), self.output_folder())

    def _on_geometry_edited(self, said: str) -> None:
        self.statusBar().showMessage(f"{said}; clean the pages to apply it")
        self._after_marks()

    def _after_marks(self) -> None:
        self._update_actions()
        # An output made with these marks may be there already (marks cleared, or made again as before):
        # the folder is read again, and the viewer follows.
        self._on_outputs_changed()

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
        self.model_box.load(path)
        self._on_outputs_changed()

    def _on_backend_changed(self) -> None:
        self.settings.backend = str(self.backend_combo.currentData())
        self.denoisers.configure(runtime=self.settings.backend)
        self.model_box.load()

    def _on_model_ready(self, text: str) -> None:
        self._update_actions()
        self.model_ready.emit(text)

    # ================================================================ the batch
    @property
    def batch_running(self) -> bool:
        return self.batch.running

    def choose_output_folder(self) -> None:
        if dialogs.choose_output_folder(self):
            self._remember_output_folder()
            self._on_outputs_changed()

    def _remember_output_folder(self) -> None:
        self.output_options.remember_folder(self.input_folder)

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
        if self.batch_running or not self._can_write():
            return
        if not refs:
            self.statusBar().showMessage("No pages to clean" if self.page_list.count()
                                         else "Open a folder first (Ctrl+O)")
            return
        out_dir = self._writable_output_folder()
        if out_dir is None:
            return
        cluster = (ClusterOptions(address=self.settings.cluster_address or None) if self.settings.engine == "ray"
                   else None)
        self.batch.start(refs, self._batch_inputs(refs), out_dir, self.output_options.options(),
                         self.model_choice.current_model(), cluster, self.settings.backend)
        where = " on Ray" if cluster is not None else ""
        self.statusBar().showMessage(f"Cleaning {len(refs)} page(s) into {out_dir}{where}")
        self._update_actions()

    def toggle_watch(self, on: bool) -> None:
        """Batch > Watch the folder: clean every page that appears in the opened folder, until unchecked."""
        if not on:
            self.batch.cancel()
            return
        folder = self.input_folder
        problem = None if folder is not None else "Open the folder to watch first (Ctrl+O)"
        if problem is None and not self.batch_running and self._can_write():
            try:
                check_watchable(self.output_options.options())
            except ConfigurationError as error:
                problem = str(error)[0].upper() + str(error)[1:]
            out_dir = self._writable_output_folder() if problem is None else None
            if folder is not None and out_dir is not None:
                self.batch.watch(folder, out_dir, self.output_options.options(), self.model_choice.current_model())
                self.statusBar().showMessage(f"Watching {folder}: the pages that appear in it are cleaned "
                                             f"into {out_dir}")
                self._update_actions()
                return
        if problem is not None:
            self._show_error("Can't watch the folder", problem)
        self.watch_action.setChecked(False)

    def _can_write(self) -> bool:
        """Whether the model and the output options can clean and write pages; says why not."""
        if self.model_box.problem:
            self._show_error("Can't clean with this model", self.model_box.problem)
            return False
        problem = self.output_options.problem()
        if problem:
            self._show_error("Can't write the pages this way", problem[0].upper() + problem[1:])
            return False
        self.output_options.remember()
        return True

    def _writable_output_folder(self) -> Optional[Path]:
        """The output folder, chosen now if none is, once it is known to be writable; None (said why) if not."""
        out_dir = self.output_folder()
        if out_dir is None:
            self.choose_output_folder()
            out_dir = self.output_folder()
            if out_dir is None:
                return None
        try:
            check_output_folder(out_dir)
        except ImageWriteError as error:
            self._show_error(f"Can't write to {out_dir}", f"{error.reason[0].upper()}{error.reason[1:]}.")
            return None
        self._remember_output_folder()
        self.loader.drop_check()
        return out_dir

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
        if self.watch_action.isChecked():  # the watch ended: cancelled, or stopped by a failure
            self.watch_action.setChecked(False)
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
        self.compare.set_mark_mode(None)

    # ================================================================ files, menus, dialogs
    def open_output_folder(self) -> None:
        dialogs.open_output_folder(self)

    def show_log(self) -> None:
        dialogs.show_log(self)

    def show_output(self) -> None:
        dialogs.show_output(self)

    def show_input_folder(self) -> None:
        dialogs.show_input_folder(self)

    def open_preferences(self) -> None:
        dialogs.open_preferences(self)

    def fill_recent_menu(self) -> None:
        fill_recent_menu(self)

    def _page_menu(self, position: Any) -> None:
        page_menu(self).exec(self.page_list.viewport().mapToGlobal(position))

    def remove_selected(self) -> None:
        """Take the selected pages off the list; their files are not touched."""
        if self.batch_running:
            self.statusBar().showMessage("Wait for the batch to finish before removing pages")
            return
        removed = self.workspace.remove(ref.key for ref in self.page_list.selected_refs())
        self.statusBar().showMessage(f"Removed {removed} page(s) from the list; their files are untouched")
        self._update_actions()

    def _update_actions(self) -> None:
        running = self.batch_running
        has_pages = self.page_list.count() > 0
        can_clean = has_pages and not running and self.model_box.problem is None
        widget: Any
        for widget in (self.run_action, self.run_button, self.clean_selected_action, self.clean_remaining_action):
            widget.setEnabled(can_clean)
        self.remove_action.setEnabled(has_pages and not running)
        # Marks wait while a batch runs: it cleans with the marks it was started with.
        entry = self.current_entry() if has_pages else None
        for widget in (self.mark_picture_action, self.mark_text_action):
            widget.setEnabled(entry is not None and not running)
        self.clear_marks_action.setEnabled(entry is not None and not running and not entry.zones.empty)
        # Corrections wait while a batch runs, as marks do; they need the geometry stage on.
        geometry = entry is not None and not running and self.geometry_box.isChecked()
        for widget in (self.edit_geometry_action, self.turn_left_action, self.turn_right_action,
                       self.straighten_action, self.split_action, self.reset_geometry_action):
            widget.setEnabled(geometry)
        if not geometry and self.edit_geometry_action.isChecked():
            self.edit_geometry_action.setChecked(False)
            self.geometry_edits.set_editing(False)
        if running:
            self.compare.set_mark_mode(None)
        for widget in (self.cancel_action, self.cancel_button):
            widget.setEnabled(running)
        self.watch_action.setEnabled(self.input_folder is not None and (not running or self.batch.watching))
        self.run_button.setToolTip(f"Choose another model: {self.model_box.problem}" if self.model_box.problem
                                   else "Run the batch (Ctrl+R)")
        for widget in (self.open_action, self.add_files_action, self.model_choice):
            widget.setEnabled(not running)
        folder = self.batch.out_dir or self.output_folder()
        self.open_output_button.setEnabled(folder is not None)
        self.open_output_action.setEnabled(folder is not None)

    def open_training(self) -> None:
        dialogs.open_training(self)

    def open_lab(self) -> None:
        dialogs.open_lab(self)

    # ================================================================ errors and closing
    def _show_error(self, title: str, message: str) -> None:
        from gui import error_report

        self.statusBar().showMessage(f"{title}: {message}")
        if not self.closing:
            error_report.show_error(self, title, message)

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
        return dialogs.ask(self, title, question, go, stay)

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
            app.removeEventFilter(self.hold_space)
        save_settings(self)
        if self.training_dialog is not None:
            self.training_dialog.abandon()
        self.runner.cancel_all()
        # Workers stop within one page or batch; wait so no file is left half-written.
        self.runner.wait(15000)
        super().closeEvent(event)
