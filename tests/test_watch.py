"""The watch folder: pages that appear in a folder are cleaned once whole, once each, across restarts."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from engine.cleaning.batch import PageResult
from engine.cleaning.denoiser import Denoiser
from engine.cleaning.watch import Arrivals, WatchTimes, check_watchable, watch_folder
from engine.errors import ConfigurationError
from engine.options import BatchOptions
from engine.progress import CancelToken

PROJECT = Path(__file__).resolve().parents[1]
QUICK = WatchTimes(interval=0.1, settle=0.6)


@pytest.fixture(scope="module")
def denoiser() -> Denoiser:
    return Denoiser.from_file("fast")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_file_is_whole_once_it_has_stood_still_and_is_taken_once_until_it_changes(tmp_path: Path) -> None:
    clock = _Clock()
    arrivals = Arrivals(settle=3.0, clock=clock)
    page = tmp_path / "scan.png"
    page.write_bytes(b"first half")
    assert arrivals.whole([page]) == []  # just seen
    clock.now = 2.0
    with open(page, "ab") as growing:
        growing.write(b" and more")  # the scanner is still writing
    assert arrivals.whole([page]) == []
    clock.now = 4.0
    assert arrivals.whole([page]) == []  # still for 2 s only
    clock.now = 5.5
    assert arrivals.whole([page]) == [page]
    arrivals.hand_over([page])
    clock.now = 20.0
    assert arrivals.whole([page]) == []  # handed over as it is
    page.write_bytes(b"a new scan under the same name")
    os.utime(page, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert arrivals.whole([page]) == []
    clock.now = 24.0
    assert arrivals.whole([page]) == [page]  # changed, so taken again


@contextmanager
def _watching(folder: Path, out: Path, denoiser: Denoiser) -> Iterator[list[PageResult]]:
    """A watch of ``folder`` on a thread while the block runs, its results collected as they come."""
    results: list[PageResult] = []
    cancel = CancelToken()

    def run() -> None:
        try:
            for result in watch_folder(folder, out, denoiser, BatchOptions(), cancel, times=QUICK):
                results.append(result)
        except Exception:  # noqa: BLE001 - the test reads what it collected; Cancelled ends the watch
            pass

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield results
    finally:
        cancel.cancel()
        thread.join(60)
    assert not thread.is_alive()


def _wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_pages_arriving_while_it_watches_are_cleaned_once_each_and_a_growing_file_when_whole(
        tmp_path: Path, samples_dir: Path, denoiser: Denoiser) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    (folder / "batch2").mkdir(parents=True)
    shutil.copy(samples_dir / "noisyoffice-2.png", folder / "first.png")
    with _watching(folder, out, denoiser) as results:
        assert _wait_for(lambda: len(results) == 1)
        shutil.copy(samples_dir / "noisyoffice-7.png", folder / "batch2" / "second.png")
        # A page written in two bursts, the second after the watch has seen the first.
        data = (samples_dir / "noisyoffice-52.png").read_bytes()
        growing = folder / "third.png"
        growing.write_bytes(data[: len(data) // 2])
        time.sleep(QUICK.settle / 2)
        with open(growing, "ab") as rest:
            rest.write(data[len(data) // 2:])
        assert _wait_for(lambda: len(results) == 3)
        time.sleep(3 * QUICK.settle)  # nothing more comes of them
    assert [(r.ok, r.ref.path.name) for r in results] == [(True, "first.png"), (True, "second.png"),
                                                          (True, "third.png")]
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.png")) == [
        "batch2/second_clean.png", "first_clean.png", "third_clean.png"]

    # Started again: what it cleaned before is skipped, and a new page is cleaned.
    shutil.copy(samples_dir / "noisyoffice-99.png", folder / "fourth.png")
    with _watching(folder, out, denoiser) as again:
        assert _wait_for(lambda: len(again) == 4)
    assert sorted((r.skipped, r.ref.path.name) for r in again) == [
        (False, "fourth.png"), (True, "first.png"), (True, "second.png"), (True, "third.png")]


def test_what_a_watch_cannot_do_is_refused_in_a_sentence() -> None:
    with pytest.raises(ConfigurationError, match="a watch cleans each file on its own, so the pages cannot go into one combined PDF"):
        check_watchable(BatchOptions.build(combine="all.pdf"))
    with pytest.raises(ConfigurationError, match="a watch cannot keep both copies"):
        check_watchable(BatchOptions.build(existing="keep-both"))
    with pytest.raises(ConfigurationError, match="interval must be more than 0"):
        WatchTimes(interval=0).check()


def test_the_command_watches_until_sigterm_and_ends_normally(tmp_path: Path, samples_dir: Path) -> None:
    folder, out = tmp_path / "scans", tmp_path / "out"
    folder.mkdir()
    watcher = subprocess.Popen([sys.executable, "-m", "cli.main", "-q", "watch", str(folder), "-o", str(out),
                                "--model", "fast", "--interval", "0.2", "--settle", "0.5"],
                               cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        shutil.copy(samples_dir / "noisyoffice-2.png", folder / "scan.png")
        assert _wait_for(lambda: (out / "scan_clean.png").exists(), 120)
    finally:
        watcher.send_signal(signal.SIGTERM)
        stdout, stderr = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, stderr
    assert "watching" in stderr and "stopped watching: 1 page(s) cleaned" in stderr
    assert "Traceback" not in stderr
    assert not [p for p in out.iterdir() if p.name.startswith(".") and "partial" in p.name]
