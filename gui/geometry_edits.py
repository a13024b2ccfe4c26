"""The user's corrections of the pages' geometry: turning, straightening, the paper's corners and the split.

The viewer tells what the geometry stage did to the page on screen
(PreviewController.geometry_shown); while editing, the page as scanned is
shown with its outline and split line to drag (gui.geometry_handles).  A turn,
an angle, a split or a reset applies to every selected page; a corner or
the split line to the page on screen.  The workspace keeps each page's
correction (engine.geometry.GeometryFix), the batch keeps it in the output
folder's record, and a page whose geometry changed waits to be cleaned again.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QPointF, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from engine.geometry import GeometryFix, gutter_at, outline_points, split_line, turned_by
from engine.geometry.corrections import MAX_SKEW
from engine.io import PageKey
from engine.workspace import Workspace
from gui.compare_view import CompareView
from gui.geometry_handles import GeometryOverlay
from gui.preview_controller import ViewerPage


# The edge of the page as scanned that a turn of so many quarters clockwise makes its top.
TOP_EDGE = {0: 0, 1: 3, 2: 2, 3: 1}


class GeometryEdits(QObject):
    """Turns the user's gestures on the page into corrections of the selected pages."""

    # The pages whose corrections changed: the window reads the output folder again and shows the page anew.
    edited = Signal(str)  # what was done, for the status bar

    def __init__(self, workspace: Workspace, compare: CompareView, selected: Callable[[], list[PageKey]],
                 set_thumbnail: Callable[[PageKey, Any], None], parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.workspace, self.compare, self.selected, self.set_thumbnail = workspace, compare, selected, set_thumbnail
        self.editing = False
        self.key: Optional[PageKey] = None  # the page on screen
        self.page: Optional[ViewerPage] = None  # and what the viewer read of it
        self.compare.left.handles.corners_moved.connect(self._on_corners)
        self.compare.left.handles.split_moved.connect(self._on_split)

    # What the viewer shows ------------------------------------------------------------------
    def page_shown(self, ref: Any, page: ViewerPage) -> None:
        self.key, self.page = ref.key, page
        if page.as_read is not None:  # the list shows what will be written
            self.set_thumbnail(ref.key, page.original)
        self._show()

    def forget_page(self) -> None:
        self.key, self.page = None, None
        self._show()

    def set_editing(self, on: bool) -> None:
        self.editing = bool(on)
        self._show()

    def _show(self) -> None:
        page = self.page
        if not self.editing or page is None or page.geometry is None:
            self.compare.set_geometry_edit(None, None)
            return
        geometry = page.geometry
        line = split_line(geometry)
        around = geometry.surroundings
        cleared = [] if around is None else [[QPointF(x, y) for x, y in polygon]
                                             for polygon in (*around.areas, *around.holes)]
        overlay = GeometryOverlay([QPointF(x, y) for x, y in outline_points(geometry)],
                                  [QPointF(x, y) for x, y in line] if line is not None else [],
                                  TOP_EDGE[geometry.turns % 4], cleared)
        hint = "drag a corner or the split line" if line is not None else "drag a corner"
        if cleared:
            hint += " (the hatched surroundings are made paper; dragging a corner crops to it instead)"
        self.compare.set_geometry_edit(page.as_read, overlay, f"As scanned: {geometry.summary()} · {hint}")

    # Corrections ----------------------------------------------------------------------------
    def current_fix(self) -> GeometryFix:
        """The page on screen's corrections: made here, or kept in the output folder's record."""
        entry = self.workspace.get(self.key) if self.key is not None else None
        if entry is not None and entry.fix is not None:
            return entry.fix
        return self.page.fix if self.page is not None else GeometryFix()

    def turn(self, quarters: int) -> None:
        """Turn the page on screen by ``quarters`` quarter turns clockwise, and every selected page as it."""
        if self.page is None or self.page.geometry is None:
            return
        turns = turned_by(self.page.geometry, self.current_fix(), quarters).turns
        self._apply_to_selected(lambda fix: replace(fix, turns=turns),
                                f"Turned {'right' if quarters > 0 else 'left'}")

    def split(self, on: bool) -> None:
        """Split the selected pages in two (at their middle, to be dragged where the gutter is), or keep them whole."""
        self._apply_to_selected(lambda fix: replace(fix, gutter=0.5 if on else 0.0),
                                "Split into two pages: drag the line onto the gutter" if on else "Kept as one page")

    def straighten(self, parent: QWidget) -> None:
        """Ask for the angle the selected pages' lines lean by, and undo it."""
        page = self.page
        current = page.geometry.skew if page is not None and page.geometry is not None else 0.0
        angle, ok = QInputDialog.getDouble(
            parent, "Straighten", "The lines lean anticlockwise by (degrees; clockwise below 0):", current,
            -MAX_SKEW, MAX_SKEW, 2)
        if ok:
            self._apply_to_selected(lambda fix: replace(fix, skew=angle), f"Straightened by {angle:.2f}°")

    def reset(self) -> None:
        """Forget the selected pages' corrections: their geometry is found again."""
        self._apply_to_selected(lambda fix: GeometryFix(), "The geometry will be found again")

    def _on_corners(self, corners: tuple[float, ...]) -> None:
        self._apply_to_shown(replace(self.current_fix(), corners=corners), "Moved the page's corner")

    def _on_split(self, x: float, y: float) -> None:
        if self.page is not None and self.page.geometry is not None:
            gutter = gutter_at(self.page.geometry, x, y)
            self._apply_to_shown(replace(self.current_fix(), gutter=gutter), "Moved the split line")

    def _apply_to_shown(self, fix: GeometryFix, said: str) -> None:
        if self.key is not None:
            self.workspace.set_fix(self.key, fix)
            self.edited.emit(said)

    def _apply_to_selected(self, change: Callable[[GeometryFix], GeometryFix], said: str) -> None:
        keys = self.selected() or ([self.key] if self.key is not None else [])
        for key in keys:
            entry = self.workspace.get(key)
            if entry is None:
                continue
            fix = self.current_fix() if key == self.key else entry.fix or GeometryFix()
            self.workspace.set_fix(key, change(fix))
        if keys:
            self.edited.emit(f"{said} ({len(keys)} page{'s' if len(keys) > 1 else ''})")
