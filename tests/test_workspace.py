"""The workspace model without Qt: pages, states, counts, the batch's progress and time left (milliseconds)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from engine.cleaning.batch import PageResult
from engine.errors import ImageReadError, ImageWriteError, PageError
from engine.io import PageKey, PageRef
from engine.vocabulary import Stage
from engine.workspace import PageState, Workspace


def Result(ref: PageRef, output: Optional[Path] = None, error: Optional[PageError] = None,  # noqa: N802
           warning: Optional[str] = None, skipped: bool = False, output_page: int = 0) -> PageResult:
    """A PageResult as engine.cleaning.batch yields it."""
    return PageResult(ref, output, error, 0.0, warning, skipped, output_page)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _refs(folder: Path, count: int) -> list[PageRef]:
    return [PageRef(folder / f"{i}.png") for i in range(count)]


def _workspace(tmp_path: Path, count: int = 3) -> tuple[Workspace, list[PageRef], Clock]:
    clock = Clock()
    space = Workspace(clock)
    refs = _refs(tmp_path, count)
    space.add((ref, None) for ref in refs)
    return space, refs, clock


def test_a_page_has_one_key_whatever_path_names_it(tmp_path):
    real = tmp_path / "scans"
    real.mkdir()
    (real / "a.png").write_bytes(b"")
    link = tmp_path / "link"
    os.symlink(real, link)
    assert PageRef(link / "a.png").key == PageRef(real / "a.png").key == PageKey(str(real / "a.png"), 0)
    assert PageRef(tmp_path / "scans" / ".." / "scans" / "a.png", 2, 3).key.page == 2
    space = Workspace()
    space.add([(PageRef(real / "a.png"), None)])
    assert not space.add([(PageRef(link / "a.png"), None)])  # the same page: not listed twice
    # A result that names the page by another path reaches its row.
    space.start_batch(space.keys())
    key = space.page_result(Result(PageRef(link / "a.png"), tmp_path / "out.png"))
    assert space.get(key).state is PageState.DONE and len(space) == 1


def test_pages_keep_their_order_and_report_changes(tmp_path):
    events: list[tuple] = []
    space = Workspace()
    for name in ("about_to_insert", "inserted", "about_to_remove", "removed", "changed"):
        getattr(space, name).connect(lambda *args, n=name: events.append((n, *args)))
    refs = _refs(tmp_path, 3)
    broken = ImageReadError(tmp_path / "x.png", "not an image")
    space.add([(refs[0], None), (refs[1], broken), (refs[2], None)])
    assert events == [("about_to_insert", 0, 2), ("inserted", 0, 2)]
    assert space.refs() == refs and space.entry(1).state is PageState.FAILED
    assert space.entry(1).reason == "not an image" and space.entry(1).tooltip == "Failed: not an image"
    assert space.counts().text() == "3 page(s), 1 failed"
    events.clear()
    assert space.remove([refs[0].key]) == 1
    assert events == [("about_to_remove", 0, 0), ("removed", 0, 0)]
    assert space.row(refs[2].key) == 1 and refs[0].key not in space
    assert Workspace().counts().text().startswith("No pages")


def test_a_batch_marks_one_page_working_and_counts_results(tmp_path):
    space, refs, clock = _workspace(tmp_path)
    space.start_batch(space.keys())
    assert [e.state for e in space] == [PageState.WORKING, PageState.WAITING, PageState.WAITING]
    assert space.progress_text() == "0 of 3 pages"
    clock.now += 10
    space.page_result(Result(refs[0], tmp_path / "0_clean.png"))
    failure = ImageWriteError(tmp_path / "1_clean.png", "the disk is full")
    space.page_result(Result(refs[1], error=failure))
    assert [e.state for e in space] == [PageState.DONE, PageState.FAILED, PageState.WORKING]
    assert space.entry(1).reason == "the disk is full" and space.entry(1).error is failure
    assert space.progress_text() == "2 of 3 pages · about 5 s left"
    space.page_result(Result(refs[2], tmp_path / "2_clean.png", warning="most of the ink was erased"))
    assert space.entry(2).state is PageState.CHECK and "erased" in space.entry(2).tooltip
    assert space.finish_batch("done") == "Done: 2 cleaned, 1 failed, in 10 s"
    assert space.counts().text() == "3 page(s), 2 done, 1 failed" and not space.batch_running


def test_cancel_puts_the_working_page_back_to_waiting(tmp_path):
    space, refs, _ = _workspace(tmp_path)
    space.start_batch(space.keys())
    space.page_result(Result(refs[0], tmp_path / "0_clean.png"))
    assert space.finish_batch("cancelled") == "Cancelled after 1 of 3 pages"
    assert [e.state for e in space] == [PageState.DONE, PageState.WAITING, PageState.WAITING]


def test_a_resumed_run_gives_no_time_left_until_a_page_is_cleaned(tmp_path):
    space, refs, clock = _workspace(tmp_path, 4)
    space.start_batch(space.keys())
    clock.now += 0.01
    space.page_result(Result(refs[0], tmp_path / "0_clean.png", skipped=True))
    space.page_result(Result(refs[1], tmp_path / "1_clean.png", skipped=True))
    # Two pages skipped in a hundredth of a second say nothing about how long cleaning takes.
    assert space.time_left() is None and space.progress_text() == "2 of 4 pages"
    clock.now += 8
    space.page_result(Result(refs[2], tmp_path / "2_clean.png"))
    assert round(space.time_left()) == 8
    space.page_result(Result(refs[3], tmp_path / "3_clean.png"))
    assert space.finish_batch("done").startswith("Done: 2 cleaned, 2 already clean, 0 failed")


def test_check_it_survives_cancel_and_resume(tmp_path):
    space, refs, _ = _workspace(tmp_path)
    space.start_batch(space.keys())
    space.page_result(Result(refs[0], tmp_path / "0_clean.png", warning="most of the ink was erased"))
    space.finish_batch("cancelled")
    assert space.entry(0).state is PageState.CHECK
    space.start_batch(space.keys())  # resumed: the first page is skipped, as made before
    space.page_result(Result(refs[0], tmp_path / "0_clean.png", skipped=True))
    assert space.entry(0).state is PageState.CHECK and "erased" in space.entry(0).reason


def test_pages_of_one_document_count_as_they_are_cleaned(tmp_path):
    space, refs, clock = _workspace(tmp_path)
    space.start_batch(space.keys())
    clock.now += 6
    space.page_progress(Stage.PAGES, 1, 3)  # the combined PDF's results come at its end
    space.page_progress(Stage.TILES, 40, 50)  # not pages
    assert space.batch.done == 1 and space.progress_text() == "1 of 3 pages · about 12 s left"
    space.page_progress(Stage.PAGES, 3, 3)
    for ref in refs:
        space.page_result(Result(ref, tmp_path / "all pages.pdf", output_page=refs.index(ref)))
    assert space.batch.done == 3 and space.entry(2).output_page == 2


def test_outputs_of_the_current_settings_read_already_clean(tmp_path):
    space, refs, _ = _workspace(tmp_path)
    found = {refs[0].key: (tmp_path / "0_clean.png", 0), refs[2].key: (tmp_path / "book.pdf", 1)}
    space.cleaned_before(found)
    assert [e.state for e in space] == [PageState.ALREADY, PageState.WAITING, PageState.ALREADY]
    assert space.entry(2).output == tmp_path / "book.pdf" and space.entry(2).output_page == 1
    # Other settings (PDF, black and white): nothing in the folder was made that way.
    space.cleaned_before({})
    assert [e.state for e in space] == [PageState.WAITING] * 3
    assert space.entry(0).output == tmp_path / "0_clean.png"  # the earlier file, for the viewer to name


def test_a_batch_under_way_is_not_overruled_by_a_late_check_of_the_folder(tmp_path):
    space, refs, _ = _workspace(tmp_path)
    space.start_batch(space.keys())
    space.cleaned_before({refs[1].key: (tmp_path / "1_clean.png", 0)})
    assert space.entry(1).state is PageState.WAITING
