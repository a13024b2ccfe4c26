"""The workspace: the pages a front end has open, what became of each, and the batch under way.

No Qt here: the app shows a ``Workspace`` through a list model adapter
(gui.page_model) and tests drive it directly, in milliseconds.  A page is
known everywhere by its ``PageKey`` (engine.io: its file's real path and its
page), which the batch's page selection (engine.cleaning.batch) uses too.

Changes are announced through plain callbacks (``Event``): ``about_to_insert``
and ``inserted``, ``about_to_remove`` and ``removed``, ``about_to_reset`` and
``reset``, ``changed`` (a row's state or output) and ``progress`` (the batch's
numbers).  The ``about_to_`` events come before the list changes, as Qt's
item models need.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from engine.cleaning.batch import PageResult
from engine.cleaning.ink import InkPlace
from engine.cleaning.pictures import Box, ZoneEdits
from engine.geometry import GeometryFix
from engine.errors import DocCleanError
from engine.io import PageKey, PageRef
from engine.vocabulary import Stage


class PageState(StrEnum):
    """What became of a page; the value is what the list says under its name."""

    WAITING = "waiting"
    WORKING = "working…"
    DONE = "done"
    ALREADY = "already clean"
    CHECK = "done, check it"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        """The page has a cleaned output (made now or by an earlier run)."""
        return self in (PageState.DONE, PageState.ALREADY, PageState.CHECK)


class Event:
    """A plain-Python signal: ``connect`` callbacks, ``emit`` calls them in order."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)


@dataclass
class PageEntry:
    """One page of the workspace and what became of it."""

    ref: PageRef
    key: PageKey
    state: PageState = PageState.WAITING
    error: Optional[DocCleanError] = None  # why it failed (the object: its ``reason`` is what a user reads)
    warning: str = ""  # "check it": cleaned, but unlike what the model knows
    output: Optional[Path] = None  # the file holding the cleaned page
    output_page: int = 0  # its 0-based place in that file (a PDF or multi-page TIFF)
    # Where the content check put ink back or found it missing, in page pixels: the viewer marks them.
    places: tuple[InkPlace, ...] = ()
    # The user's corrections of its picture zones (regions marked as picture or text), in page pixels.
    zones: ZoneEdits = field(default_factory=ZoneEdits)
    # The user's corrections of its geometry; None: none made here (the output folder's record may hold some).
    fix: Optional[GeometryFix] = None

    @property
    def label(self) -> str:
        return self.ref.label

    @property
    def reason(self) -> str:
        """Why it failed, or what to check; "" otherwise."""
        return self.error.reason if self.error is not None else self.warning

    @property
    def tooltip(self) -> str:
        if self.state is PageState.FAILED and self.reason:
            return f"Failed: {self.reason}"
        if self.state is PageState.CHECK and self.warning:
            return f"Check it: {self.warning}"
        return str(self.ref.path)


@dataclass(frozen=True)
class Counts:
    total: int = 0
    done: int = 0  # cleaned now or before (done, already clean, check it)
    failed: int = 0
    waiting: int = 0
    already: int = 0
    check: int = 0

    def text(self) -> str:
        if not self.total:
            return "No pages. Open a folder (Ctrl+O) or drop files here."
        text = f"{self.total} page(s)"
        if self.done:
            text += f", {self.done} done"
        if self.failed:
            text += f", {self.failed} failed"
        return text


@dataclass
class BatchProgress:
    """A batch under way (or the last one): its pages, how many are done and how long the rest may take."""

    keys: list[PageKey]
    started: float
    done: int = 0  # pages reported done, in any way (cleaned, skipped, failed)
    results: int = 0  # pages whose result arrived
    skipped: int = 0  # pages an earlier run had cleaned: they took no time
    finished: Optional[str] = None  # "done", "cancelled" or "failed" once over
    ended: Optional[float] = None
    # What pages had before: output, warning and places.
    earlier: dict[PageKey, tuple[Optional[Path], str, tuple[InkPlace, ...]]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.keys)

    @property
    def running(self) -> bool:
        return self.finished is None


def format_duration(seconds: float) -> str:
    """'42 s', '3 min 05 s' or '2 h 10 min': a time as the user reads it."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Workspace:
    """The ordered pages, their states and outputs, the counts, and the batch's progress."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._pages: list[PageEntry] = []
        self._rows: dict[PageKey, int] = {}
        self.batch: Optional[BatchProgress] = None
        self.about_to_insert = Event()  # (first, last) rows
        self.inserted = Event()  # (first, last)
        self.about_to_remove = Event()  # (first, last)
        self.removed = Event()  # (first, last)
        self.about_to_reset = Event()
        self.reset = Event()
        self.changed = Event()  # (row,)
        self.progress = Event()  # () the batch's numbers changed

    # ------------------------------------------------------------------ the pages
    def __len__(self) -> int:
        return len(self._pages)

    def __iter__(self) -> Iterator[PageEntry]:
        return iter(list(self._pages))

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def entry(self, row: int) -> PageEntry:
        return self._pages[row]

    def get(self, key: PageKey) -> Optional[PageEntry]:
        row = self._rows.get(key)
        return self._pages[row] if row is not None else None

    def row(self, key: PageKey) -> int:
        """The row of ``key``; -1 when it is not listed."""
        return self._rows.get(key, -1)

    def keys(self) -> list[PageKey]:
        return [entry.key for entry in self._pages]

    def refs(self) -> list[PageRef]:
        return [entry.ref for entry in self._pages]

    def add(self, found: Iterable[tuple[PageRef, Optional[DocCleanError]]]) -> list[PageEntry]:
        """Append pages not listed yet, a page that cannot be read already failed; returns the ones added."""
        added: list[PageEntry] = []
        seen = set(self._rows)
        for ref, error in found:
            key = ref.key
            if key in seen:
                continue
            seen.add(key)
            entry = PageEntry(ref, key)
            if error is not None:
                entry.state, entry.error = PageState.FAILED, error
            added.append(entry)
        if added:
            first = len(self._pages)
            last = first + len(added) - 1
            self.about_to_insert.emit(first, last)
            self._pages.extend(added)
            self._renumber()
            self.inserted.emit(first, last)
        return added

    def clear(self) -> None:
        self.about_to_reset.emit()
        self._pages.clear()
        self._rows.clear()
        self.batch = None
        self.reset.emit()

    def remove(self, keys: Iterable[PageKey]) -> int:
        """Take pages off the workspace (their files are not touched); returns how many."""
        rows = sorted((self._rows[key] for key in set(keys) if key in self._rows), reverse=True)
        for row in rows:
            self.about_to_remove.emit(row, row)
            del self._pages[row]
            self._renumber()
            self.removed.emit(row, row)
        return len(rows)

    def _renumber(self) -> None:
        self._rows = {entry.key: row for row, entry in enumerate(self._pages)}

    def _set(self, key: PageKey, **changes: Any) -> Optional[PageEntry]:
        row = self._rows.get(key)
        if row is None:
            return None
        entry = self._pages[row]
        for name, value in changes.items():
            setattr(entry, name, value)
        self.changed.emit(row)
        return entry

    def set_failed(self, key: PageKey, error: DocCleanError) -> None:
        """A page found unreadable outside a batch (e.g. making its thumbnail); a waiting page only."""
        entry = self.get(key)
        if entry is not None and entry.state is PageState.WAITING:
            self._set(key, state=PageState.FAILED, error=error)

    # ------------------------------------------------------------------ the user's picture zone edits
    def mark_zone(self, key: PageKey, kind: str, box: Box) -> Optional[PageEntry]:
        """Mark ``box`` (page pixels: top, left, bottom, right) of a page as ``kind`` (picture or text)."""
        entry = self.get(key)
        return None if entry is None else self.set_zones(key, entry.zones.marked(kind, box))

    def clear_zones(self, key: PageKey) -> Optional[PageEntry]:
        """Forget a page's marks: its zones are the ones found again."""
        return self.set_zones(key, ZoneEdits())

    def set_zones(self, key: PageKey, zones: ZoneEdits) -> Optional[PageEntry]:
        """A page's zone edits (see _edit)."""
        return self._edit(key, zones=zones)

    def zone_edits(self) -> dict[PageKey, ZoneEdits]:
        """The pages with edits and their edits, for the batch (engine.cleaning.batch.plan_batch's ``zones``)."""
        return {entry.key: entry.zones for entry in self._pages if not entry.zones.empty}

    # ------------------------------------------------------------------ the user's geometry corrections
    def set_fix(self, key: PageKey, fix: GeometryFix) -> Optional[PageEntry]:
        """A page's geometry corrections, an empty fix: as found (see _edit)."""
        return self._edit(key, fix=fix)

    def _edit(self, key: PageKey, **edits: Any) -> Optional[PageEntry]:
        """A page's edits (``zones``, ``fix``); a cleaned page whose edits changed waits again (its output was made
        otherwise, and a batch makes it anew; ``output`` still names that file, as in cleaned_before)."""
        entry = self.get(key)
        if entry is None or all(getattr(entry, name) == value for name, value in edits.items()):
            return entry
        if entry.state.finished:
            return self._set(key, state=PageState.WAITING, warning="", places=(), **edits)
        return self._set(key, **edits)

    def geometry_fixes(self) -> dict[PageKey, GeometryFix]:
        """The pages corrected here and their corrections, for the batch (plan_batch's ``fixes``; an empty one
        forgets what the output folder's record kept)."""
        return {entry.key: entry.fix for entry in self._pages if entry.fix is not None}

    def counts(self, keys: Optional[Sequence[PageKey]] = None) -> Counts:
        entries = self._pages if keys is None else [e for e in (self.get(k) for k in keys) if e is not None]
        states = [entry.state for entry in entries]
        return Counts(
            total=len(states),
            done=sum(1 for state in states if state.finished),
            failed=states.count(PageState.FAILED),
            waiting=states.count(PageState.WAITING) + states.count(PageState.WORKING),
            already=states.count(PageState.ALREADY),
            check=states.count(PageState.CHECK),
        )

    def keys_in(self, *states: PageState) -> list[PageKey]:
        return [entry.key for entry in self._pages if entry.state in states]

    def failures(self) -> list[PageEntry]:
        return [entry for entry in self._pages if entry.state is PageState.FAILED]

    # ------------------------------------------------------------------ what earlier runs made
    def cleaned_before(self, found: dict[PageKey, tuple[Path, int]]) -> None:
        """What the output folder holds for the current settings: those pages read "already clean";
        a page whose output was made otherwise (another format, mode or model) waits again (its
        ``output`` still names that earlier file, which a batch does not skip).

        Ignored while a batch runs (the batch says what it makes).
        """
        if self.batch is not None and self.batch.running:
            return
        for entry in list(self._pages):
            place = found.get(entry.key)
            if place is not None:
                if entry.state.finished and (entry.output, entry.output_page) == place:
                    continue
                same = (entry.output, entry.output_page) == place
                warning, places = (entry.warning, entry.places) if same else ("", ())
                self._set(entry.key, state=PageState.CHECK if warning else PageState.ALREADY, error=None,
                          warning=warning, places=places, output=place[0], output_page=place[1])
            elif entry.state.finished:
                # Its file stays where it is (the viewer says it was made otherwise); a batch makes it anew.
                self._set(entry.key, state=PageState.WAITING, warning="", places=())

    # ------------------------------------------------------------------ the batch
    @property
    def batch_running(self) -> bool:
        return self.batch is not None and self.batch.running

    def start_batch(self, keys: Sequence[PageKey]) -> BatchProgress:
        """These pages are about to be cleaned: they wait again (the others keep what they had)."""
        keys = [key for key in keys if key in self._rows]
        earlier = {}
        for key in keys:
            entry = self._pages[self._rows[key]]
            earlier[key] = (entry.output, entry.warning, entry.places)
            self._set(key, state=PageState.WAITING, error=None, warning="", places=(), output=None, output_page=0)
        self.batch = BatchProgress(keys, self.clock(), earlier=earlier)
        self._mark_next_working()
        self.progress.emit()
        return self.batch

    def page_progress(self, stage: str, done: int, total: int) -> None:
        """A Progress event of the batch: pages of a document count before the document is written."""
        batch = self.batch
        if batch is None or not batch.running or stage != Stage.PAGES:
            return
        if done > batch.done:
            batch.done = min(done, batch.total)
            self.progress.emit()

    def page_result(self, result: PageResult) -> PageKey:
        """A PageResult of the batch (engine.cleaning.batch); returns the key of its page."""
        batch = self.batch
        key: PageKey = result.ref.key
        entry = self.get(key)
        if entry is not None:
            if result.error is not None:
                self._set(key, state=PageState.FAILED, error=result.error, warning="", places=(), output=None)
            else:
                output = Path(result.output) if result.output else None
                warning, places = result.warning or "", result.places
                if result.skipped and not warning and batch is not None:
                    # Skipped because an earlier run made it: what it said to check still holds.
                    earlier_output, earlier_warning, earlier_places = batch.earlier.get(key, (None, "", ()))
                    if earlier_output == output:
                        warning, places = earlier_warning, earlier_places
                if warning:
                    state = PageState.CHECK
                else:
                    state = PageState.ALREADY if result.skipped else PageState.DONE
                self._set(key, state=state, error=None, warning=warning, places=places, output=output,
                          output_page=result.output_page)
        if batch is not None and batch.running:
            batch.results += 1
            batch.skipped += 1 if result.skipped else 0
            batch.done = min(max(batch.done, batch.results), batch.total)
            self._mark_next_working()
            self.progress.emit()
        return key

    def finish_batch(self, how: str) -> str:
        """The batch ended ("done", "cancelled" or "failed"); returns the sentence that says how it went."""
        batch = self.batch
        if batch is None:
            return ""
        for key in batch.keys:
            entry = self.get(key)
            if entry is not None and entry.state is PageState.WORKING:
                self._set(key, state=PageState.WAITING)
        batch.finished, batch.ended = how, self.clock()
        self.progress.emit()
        return self.summary()

    def _mark_next_working(self) -> None:
        batch = self.batch
        if batch is None or not batch.running:
            return
        for key in batch.keys:
            entry = self.get(key)
            if entry is not None and entry.state is PageState.WORKING:
                return
        for key in batch.keys:
            entry = self.get(key)
            if entry is not None and entry.state is PageState.WAITING:
                self._set(key, state=PageState.WORKING)
                return

    def time_left(self) -> Optional[float]:
        """Seconds the batch may still take; None until a page was cleaned in this run (skipped pages take no time)."""
        batch = self.batch
        if batch is None or not batch.running:
            return None
        worked = batch.done - batch.skipped
        remaining = batch.total - batch.done
        if worked <= 0 or remaining <= 0:
            return None
        return (self.clock() - batch.started) / worked * remaining

    def progress_text(self) -> str:
        """"3 of 10 pages · about 2 min left" while it runs; the summary once it ended."""
        batch = self.batch
        if batch is None:
            return ""
        if not batch.running:
            return self.summary()
        text = f"{batch.done} of {batch.total} pages"
        left = self.time_left()
        if left is not None:
            text += f" · about {format_duration(left)} left"
        return text

    def summary(self) -> str:
        batch = self.batch
        if batch is None or batch.running:
            return ""
        if batch.finished != "done":
            return f"Cancelled after {batch.results} of {batch.total} pages"
        failed = self.counts(batch.keys).failed
        cleaned = batch.results - failed - batch.skipped
        text = f"Done: {cleaned} cleaned"
        text += f", {batch.skipped} already clean" if batch.skipped else ""
        elapsed = (batch.ended or self.clock()) - batch.started
        return text + f", {failed} failed, in {format_duration(elapsed)}"
