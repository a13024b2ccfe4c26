"""Finding pages, making their thumbnails and reading what earlier runs made, on the io worker.

Results go into the workspace (engine.workspace) and its list model; the
window hears about them through typed signals.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from engine.cleaning.made_before import outputs_made_before
from engine.cleaning.model_pool import ModelPool
from engine.cleaning.page_fixes import PageFixes
from engine.cleaning.prepared import written_look
from engine.geometry import GeometryFix, GeometryOptions
from engine.models.bundled import model_for_mode
from engine.errors import ImageReadError
from engine.io import PageKey, PageRef, find_images, list_pages
from engine.options import BatchOptions
from engine.workspace import Workspace
from gui.page_model import PageListModel
from gui.qimage import page_qimage, pixels_to_qimage, thumbnail
from gui.workers import Task, TaskRunner

THUMBNAIL_PIXELS = 192  # twice the list's icon size so HiDPI screens stay sharp


class PageLoader(QObject):
    """Adds the pages of files and folders to the workspace, with thumbnails and earlier outputs."""

    pages_added = Signal(object)  # the PageEntries added (a list, maybe empty)
    thumbnails_done = Signal()
    outputs_checked = Signal()  # the pages' states now say what the output folder holds
    failed = Signal(str)

    def __init__(self, runner: TaskRunner, workspace: Workspace, model: PageListModel,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.runner, self.workspace, self.model = runner, workspace, model
        self._scan: Optional[Task] = None
        self._thumbs: Optional[Task] = None
        self._check: Optional[Task] = None
        self._looks: Optional[Task] = None
        self._looks_shown = False  # whether the thumbnails show what the geometry will make
        self._check_generation = 0

    def cancel(self) -> None:
        for task in (self._scan, self._thumbs, self._check, self._looks):
            if task is not None:
                task.cancel()
        self._check_generation += 1

    def drop_check(self) -> None:
        """Forget a check of the output folder under way (a batch starts: it says what it makes)."""
        self._check_generation += 1
        if self._check is not None:
            self._check.cancel()

    def scan(self, inputs: list[Path], recursive: bool) -> None:
        self._scan = self.runner.start(lambda task: _scan_inputs(inputs, recursive, task), "io", name="scan", owner=self,
                                       on_result=self._on_scanned, on_failed=self.failed.emit)

    def _on_scanned(self, found: list[tuple[Any, Optional[ImageReadError]]]) -> None:
        added = self.workspace.add(found)
        self.pages_added.emit(added)
        readable = [entry.ref for entry in added if entry.error is None]
        self._looks_shown = False
        if readable:
            self._thumbs = self.runner.start(lambda task: _make_thumbnails(readable, task), "io", name="thumbnails", owner=self,
                                             on_item=self._on_thumbnail, on_finished=self.thumbnails_done.emit)
        else:
            self.thumbnails_done.emit()

    def _on_thumbnail(self, item: tuple[PageKey, Optional[QImage], Optional[ImageReadError]]) -> None:
        key, image, error = item
        if image is not None:
            self.model.set_thumbnail(key, image)
        elif error is not None:
            self.workspace.set_failed(key, error)

    def written_thumbnails(self, refs: list[Any], geometry: GeometryOptions, out_dir: Optional[Path]) -> None:
        """Show in the list what the geometry stage will make of ``refs`` (after their thumbnails as read: it takes
        a second a page), with the corrections made here or kept in ``out_dir``'s record."""
        if self._looks is not None:
            self._looks.cancel()
        self._looks = None
        if not refs or not (geometry.active or self._looks_shown):
            return  # the list shows the pages as read already
        self._looks_shown = geometry.active
        fixes = self.workspace.geometry_fixes()
        self._looks = self.runner.start(lambda task: _make_written_looks(refs, geometry, fixes, out_dir, task), "io",
                                        name="written thumbnails", owner=self, on_item=self._on_thumbnail)

    def output_thumbnail(self, key: PageKey, output: Path, index: int) -> None:
        """Show the cleaned page in the list from now on."""
        self.runner.start(lambda task: thumbnail(page_qimage(output, index), THUMBNAIL_PIXELS), "io",
                          name="result thumbnail", owner=self, on_result=lambda image: self.model.set_thumbnail(key, image))

    def check_outputs(self, inputs: list[Path], out_dir: Optional[Path], pool: ModelPool, model: Optional[Path],
                      options: Optional[BatchOptions]) -> None:
        """Read what ``out_dir`` holds for the current settings: pages made that way read "already clean"."""
        self._check_generation += 1
        generation = self._check_generation
        if self._check is not None:
            self._check.cancel()
        keys = self.workspace.keys()
        # A page cleaned with other marks or other corrections is not "already clean".
        zones, fixes = self.workspace.zone_edits(), self.workspace.geometry_fixes()
        if out_dir is None or options is None or not keys or self.workspace.batch_running:
            self.outputs_checked.emit()
            return
        self._check = self.runner.start(
            # On the batch's worker: a check and a batch never read and write the output folder at once.
            lambda task: outputs_made_before(inputs, keys, out_dir, pool.get(model_for_mode(model, options.mode)), options, task.cancel_token,
                                             zones, fixes), "batch",
            name="earlier outputs", owner=self,
            on_result=lambda found: self._on_checked(generation, found),
            on_failed=lambda message: self._on_checked(generation, None))

    def _on_checked(self, generation: int, found: Optional[dict[Any, Any]]) -> None:
        if generation != self._check_generation:
            return  # the settings, the folder or the pages changed since: a newer check follows
        if found is not None:
            self.workspace.cleaned_before(found)
        self.outputs_checked.emit()


def _scan_inputs(inputs: list[Path], recursive: bool, task: Task) -> list[tuple[Any, Optional[ImageReadError]]]:
    found: list[tuple[Any, Optional[ImageReadError]]] = []
    for path in find_images(inputs, recursive=recursive):
        task.cancel_token.raise_if_cancelled()
        try:
            found.extend((ref, None) for ref in list_pages(path))
        except ImageReadError as error:
            found.append((PageRef(Path(path), 0, 1), error))
    return found


def _make_written_looks(refs: list[Any], geometry: GeometryOptions, fixes: dict[PageKey, GeometryFix],
                        out_dir: Optional[Path], task: Task) -> None:
    # The output folder's record is read once for all the pages, as the batch reads it.
    corrections = PageFixes(out_dir, fixes) if out_dir is not None else None
    for ref in refs:
        task.cancel_token.raise_if_cancelled()
        fix = corrections.of(ref) if corrections is not None else fixes.get(ref.key, GeometryFix())
        try:
            look = pixels_to_qimage(written_look(ref, geometry, fix))
        except ImageReadError:
            continue  # its thumbnail as read says why
        task.emit_item((ref.key, thumbnail(look, THUMBNAIL_PIXELS), None))


def _make_thumbnails(refs: list[Any], task: Task) -> None:
    for ref in refs:
        task.cancel_token.raise_if_cancelled()
        try:
            image = page_qimage(ref)
        except ImageReadError as error:
            task.emit_item((ref.key, None, error))
            continue
        task.emit_item((ref.key, thumbnail(image, THUMBNAIL_PIXELS), None))
