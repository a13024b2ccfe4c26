"""The viewer's controller: reads the page on screen and its saved output, and runs the staged preview.

The preview policy (quick look, the part on screen, the whole page) is the
engine's (engine.cleaning.preview.staged_preview); this controller runs it on
the preview worker, keeps a few finished previews, and drops what arrives for
a page no longer on screen.  It also has the page's picture zones found on an
io worker (engine.cleaning.pictures.find_picture_boxes) and outlined on the
original with the user's marks.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QProgressBar

from engine.cleaning.model_pool import ModelPool
from engine.cleaning.pictures import ZoneEdits, find_picture_boxes
from engine.cleaning.preview import staged_preview
from engine.files import file_sha256_cached
from engine.cleaning.prepared import view_page
from engine.geometry import GeometryFix, GeometryOptions, PageGeometry, side_by_side
from engine.io import list_pages, read_output_provenances
from engine.io.display import display_pixels
from engine.io.naming import right_part
from engine.models.bundled import model_for_mode, resolve_model
from engine.workspace import PageEntry
from gui.compare_view import CompareView
from gui.qimage import pixels_to_qimage
from gui.workers import Task, TaskRunner

PREVIEW_CACHE_SIZE = 12
# Picture zones of this many (page, edits) are kept: finding them takes a few hundred milliseconds.
ZONES_CACHE_SIZE = 32

Box = tuple[int, int, int, int]


@dataclass
class ViewerPage:
    """A page read for the viewer, with its saved output and who made it."""

    pixels: Any  # grey, what the model cleans: after the geometry, a spread's pages side by side
    original: QImage  # as a person sees it (colour pages in colour), after the geometry
    saved: Optional[QImage]
    made_by: str  # the model named in the saved file ("" if it names none)
    by_chosen_model: bool  # the saved file was made by the model chosen now (or says nothing)
    as_read: Optional[QImage] = None  # the original before the geometry (None: the geometry changed nothing)
    geometry: Optional[PageGeometry] = None  # what the geometry stage did, with the user's corrections
    fix: GeometryFix = GeometryFix()  # those corrections: the app's, or those the output folder's record kept
    parts: tuple[tuple[int, int], ...] = ()  # a split spread's pages' columns in ``pixels``
    colour: Any = None  # ``pixels`` in colour (uint8 RGB), for the colour modes; None for a grey page


class PreviewController(QObject):
    """Shows the current page in the compare view: its saved output, or a preview cleaned in stages."""

    page_shown = Signal(object)  # the PageRef whose original is now in the viewer
    geometry_shown = Signal(object, object)  # the PageRef shown and its ViewerPage: its geometry, as read
    preview_ready = Signal(object)  # the PageRef whose cleaned page (saved or preview) is now in the viewer
    stage = Signal(str)  # "quick" or "region": a first look reached the viewer

    def __init__(self, runner: TaskRunner, denoisers: ModelPool, compare: CompareView, progress: QProgressBar,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.runner, self.denoisers, self.compare, self.progress = runner, denoisers, compare, progress
        self._tasks: list[Task] = []
        self._generation = 0
        self._previews: OrderedDict[tuple[Any, ...], QImage] = OrderedDict()
        self._zones: OrderedDict[tuple[Any, ...], list[Box]] = OrderedDict()
        self._zones_of: Any = None  # the page whose zones the viewer outlines
        # What the geometry stage may do, and the folder whose record keeps corrections (set by the window).
        self.geometry = GeometryOptions.off()
        self.out_dir: Optional[Path] = None

    def clear_cache(self) -> None:
        self._previews.clear()

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []

    def show(self, entry: Optional[PageEntry], model: Optional[Path], mode: str, quick_only: bool) -> None:
        """Show ``entry``'s page (None: nothing); ``quick_only`` while a batch has the model."""
        self._generation += 1
        generation = self._generation
        self.progress.hide()
        self.cancel()
        if entry is None:
            self.compare.set_page(None)
            self._zones_of = None
            return
        ref, output, output_page = entry.ref, entry.output, entry.output_page
        geometry, fix, out_dir = self.geometry, entry.fix, self.out_dir
        self.compare.set_cleaned_message("Reading page…")
        self._tasks.append(self.runner.start(
            lambda t: read_for_viewer(ref, output, output_page, model, geometry, fix, out_dir, t), "io",
            name="read page", owner=self, on_item=lambda image: self._on_first_look(generation, image),
            on_result=lambda page: self._on_read(generation, entry, page, model, mode, quick_only),
            on_failed=lambda message: self._on_read_failed(generation, message)))

    def _on_first_look(self, generation: int, original: QImage) -> None:
        """The page as read, while its geometry is found."""
        if self._current(generation):
            if self.compare.editing_geometry:  # the last page's outline does not belong to this one
                self.compare.set_geometry_edit(None, None)
            self.compare.first_look(original)
            self.compare.set_cleaned_message("Finding the page's edges, turn and skew…")

    def _current(self, generation: int) -> bool:
        return generation == self._generation

    def _on_read(self, generation: int, entry: PageEntry, page: ViewerPage, model: Optional[Path], mode: str,
                 quick_only: bool) -> None:
        if not self._current(generation):
            return
        ref = entry.ref
        self.geometry_shown.emit(ref, page)
        if page.saved is not None and page.by_chosen_model and entry.state.finished:
            # The content check's places belong to this saved file: the batch that wrote it found them.
            self.compare.set_page(page.original, page.saved, entry.places)
            self._show_zones(generation, entry, page)
            title = f"Cleaned (saved, by {page.made_by})" if page.made_by else "Cleaned (saved)"
            if entry.places:
                count = len(entry.places)
                title += f" · check the {count} outlined place{'s' if count > 1 else ''}"
            self.compare.set_cleaned_title(title)
            self.page_shown.emit(ref)
            self.preview_ready.emit(ref)
            return
        # The saved file was made by another model: show what the chosen one makes, and say so.
        title = "Cleaned (preview)"
        if page.saved is not None:  # made by another model, or this one with other settings (format, pages)
            title += (f" · the saved file is by {page.made_by}" if not page.by_chosen_model
                      else " · the saved file was made with other settings")
        zones = entry.zones
        cache_key = (entry.key, self.denoisers.key(model), mode, zones, self.geometry, page.fix)
        cached = self._previews.get(cache_key)
        self.compare.set_page(page.original, cached)
        self._show_zones(generation, entry, page)
        self.compare.set_cleaned_title(title)
        self.page_shown.emit(ref)
        if cached is not None:
            self.preview_ready.emit(ref)
            return
        self.compare.set_cleaned_message("Cleaning a quick preview…")
        pixels, box, parts, colour = page.pixels, self.visible_box(), page.parts, page.colour
        self._tasks.append(self.runner.start(
            lambda t: clean_preview(self.denoisers, model, pixels, mode, box, quick_only, t, zones, parts, colour),
            "preview",
            name="preview", owner=self,
            on_item=lambda stage: self._on_stage(generation, stage, quick_only),
            on_result=lambda image: self._on_preview(generation, ref, cache_key, image),
            on_failed=lambda message: self._on_preview_failed(generation, message),
            on_progress=lambda p: self._on_progress(generation, p)))

    def _show_zones(self, generation: int, entry: PageEntry, page: ViewerPage) -> None:
        """Outline ``entry``'s picture zones (as its edits make them) and its marks on the original.

        The marks show at once; the zones of another page go at once, and the
        new ones follow from the io worker unless they were found before.
        """
        zones = entry.zones
        if self._zones_of != entry.key:
            self.compare.set_zones((), zones)
            self._zones_of = entry.key
        else:
            self.compare.set_marks(zones)
        # The zones lie on the page as its geometry makes it: other options or corrections, other zones.
        key = (entry.key, zones, self.geometry, page.fix)
        known = self._zones.get(key)
        if known is not None:
            self.compare.set_zones(known, zones)
            return
        self._tasks.append(self.runner.start(
            lambda t: _picture_boxes(page.pixels, zones, t, page.parts), "io", name="picture zones", owner=self,
            on_result=lambda boxes: self._on_zones(generation, key, boxes)))

    def _on_zones(self, generation: int, key: tuple[Any, ...], boxes: list[Box]) -> None:
        self._zones[key] = boxes
        while len(self._zones) > ZONES_CACHE_SIZE:
            self._zones.popitem(last=False)
        if self._current(generation):
            self.compare.set_zones(boxes, key[1])

    def visible_box(self) -> Optional[Box]:
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

    def _on_stage(self, generation: int, stage: tuple[str, QImage], quick_only: bool) -> None:
        if not self._current(generation):
            return
        name, image = stage
        if name == "quick" and quick_only:
            note = "Quick preview · full resolution after the batch"
        elif name == "quick":
            note = "Quick preview · cleaning at full resolution…"
        else:
            note = "This part at full resolution · cleaning the rest…"
        self.compare.set_cleaned(image, note)
        self.stage.emit(name)

    def _on_read_failed(self, generation: int, message: str) -> None:
        if self._current(generation):
            self.compare.set_page(None)
            self.compare.set_message(f"Cannot show this page:\n{message}")

    def _on_progress(self, generation: int, progress: Any) -> None:
        if self._current(generation) and progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
            self.progress.setVisible(progress.done < progress.total)

    def _on_preview(self, generation: int, ref: Any, cache_key: tuple[Any, ...], image: Optional[QImage]) -> None:
        if image is None:  # only the quick look (during a batch); nothing to keep
            if self._current(generation):
                self.preview_ready.emit(ref)
            return
        self._previews[cache_key] = image
        while len(self._previews) > PREVIEW_CACHE_SIZE:
            self._previews.popitem(last=False)
        if not self._current(generation):
            return
        self.progress.hide()
        self.compare.set_cleaned(image)
        self.preview_ready.emit(ref)

    def _on_preview_failed(self, generation: int, message: str) -> None:
        if self._current(generation):
            self.progress.hide()
            self.compare.set_cleaned(None, f"Preview failed: {message}")


# ==================================================================== on worker threads: engine calls and QImage

def read_for_viewer(ref: Any, output: Optional[Path], output_page: int, model: Optional[Path],
                    geometry: GeometryOptions = GeometryOptions.off(), fix: Optional[GeometryFix] = None,
                    out_dir: Optional[Path] = None, task: Optional[Task] = None) -> ViewerPage:
    """The page for the viewer; with ``task``, the page as read goes to it first, as an item."""
    viewed = view_page(ref, geometry, fix, out_dir,
                       None if task is None else lambda pixels: task.emit_item(pixels_to_qimage(pixels)))
    saved, made_by, by_chosen = None, "", True
    if output is not None and output.exists():
        saved = _saved(output, output_page, bool(viewed.geometry.parts))
        records = read_output_provenances(output)
        provenance = records[output_page] if output_page < len(records) else None
        if provenance is not None:
            made_by = provenance.model
            by_chosen = provenance.model_sha256 == _model_sha256(model)
    as_read = pixels_to_qimage(viewed.as_read) if viewed.as_read is not viewed.display else None
    colour = viewed.display if viewed.display.ndim == 3 else None
    return ViewerPage(viewed.pixels, pixels_to_qimage(viewed.display), saved, made_by, by_chosen, as_read,
                      viewed.geometry, viewed.fix, tuple(viewed.parts), colour)


def _saved(output: Path, index: int, split: bool) -> Optional[QImage]:
    """The saved page; a split spread's two, side by side as the viewer shows them (None: its right page's
    file is not there)."""
    left = display_pixels(output, index)  # a page written in colour is shown in colour
    if not split:
        return pixels_to_qimage(left)
    right_file = right_part(output)
    if right_file is None and index + 1 < len(list_pages(output)):  # a document: the next page
        right = display_pixels(output, index + 1)
    elif right_file is not None and right_file.exists():
        right = display_pixels(right_file)
    else:
        return None
    return pixels_to_qimage(side_by_side([left, right], 160))


def _picture_boxes(pixels: Any, zones: ZoneEdits, task: Task, parts: tuple[tuple[int, int], ...] = ()) -> list[Box]:
    """The page's picture zones as its edits make them; none looked for once the page left the viewer
    (a task queued behind thumbnails may start after the user moved on)."""
    task.cancel_token.raise_if_cancelled()
    return find_picture_boxes(pixels, zones, parts)


def _model_sha256(model: Optional[Path]) -> str:
    """The model file's SHA-256, hashed again only when the file changed (a model retrained in place)."""
    try:
        return file_sha256_cached(resolve_model(model))
    except OSError:
        return ""


def clean_preview(pool: ModelPool, model: Optional[Path], pixels: Any, mode: str, box: Optional[Box],
                  quick_only: bool, task: Task, zones: Optional[ZoneEdits] = None,
                  parts: tuple[tuple[int, int], ...] = (), colour: Any = None) -> Optional[QImage]:
    """Run the engine's staged preview, with the user's ``zones`` edits: the quick look and the region as
    items, the whole page as the result."""
    denoiser: Any = pool.get(model_for_mode(model, mode))  # shared: one lock per loaded model (engine.cleaning.model_pool)
    height, width = pixels.shape[:2]
    first_look: Optional[QImage] = None
    for stage in staged_preview(denoiser, pixels, mode, box, quick_only, cancel=task.cancel_token,
                                progress=task.report, zones=zones, parts=parts, colour=colour):
        if stage.name == "quick":
            first_look = pixels_to_qimage(stage.pixels).scaled(
                width, height, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
            task.emit_item(("quick", first_look))
        elif stage.name == "region" and first_look is not None and stage.box is not None:
            painter = QPainter(first_look)
            painter.drawImage(stage.box[0], stage.box[1], pixels_to_qimage(stage.pixels))
            painter.end()
            task.emit_item(("region", first_look))
        elif stage.name == "full":
            return pixels_to_qimage(stage.pixels)
    return None
