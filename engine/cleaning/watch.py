"""A watch folder: every page that appears in a folder is cleaned once it is whole.

This is how a scanner's scan-to-folder, or NAPS2, feeds DocClean without drivers.  The folder
is listed every ``interval`` seconds rather than waited on for file events: listing works the
same on a local disk and on a network share, where no event arrives, and costs milliseconds
even for thousands of files.  A file is taken once its size and modification time have stood
still for ``settle`` seconds, as a scanner writes a page in bursts; the batch then cleans it
with the user's options.  What an earlier run made is skipped by its provenance, as a rerun of
``denoise`` skips it, so stopping the watch and starting it again loses and repeats nothing.
A file that changes after it was cleaned is cleaned again.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Optional

from engine.cleaning.batch import PageResult, plan_batch, run_batch
from engine.cleaning.denoiser import Denoiser
from engine.errors import ConfigurationError
from engine.options import BatchOptions
from engine.progress import CancelToken, ProgressCallback, check


@dataclass(frozen=True)
class WatchTimes:
    """How often the folder is listed, and how long a file must stand still to be taken (seconds)."""

    interval: float = 2.0
    settle: float = 3.0

    def check(self) -> WatchTimes:
        """These times, or ConfigurationError saying in one sentence what is wrong."""
        for name, value in (("interval", self.interval), ("settle", self.settle)):
            if not 0 < value <= 3600:
                raise ConfigurationError(f"the watch's {name} must be more than 0 and at most 3600 seconds, "
                                         f"not {value:g}")
        return self


#: What identifies a file's state: its size in bytes and modification time in nanoseconds.
Stamp = tuple[int, int]


class Arrivals:
    """Which files of a folder are whole and not yet handed over, poll after poll."""

    def __init__(self, settle: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.settle, self.clock = settle, clock
        self._changing: dict[Path, tuple[Stamp, float]] = {}  # a file's last stamp, and since when it has stood still
        self._handed: dict[Path, Stamp] = {}  # the stamp a file had when it was handed over

    def whole(self, files: list[Path]) -> list[Path]:
        """Those of ``files`` (listed now) that have stood still for ``settle`` seconds since they appeared or
        last changed, and were not handed over as they are; in the order given."""
        now, ready = self.clock(), []
        present = set(files)
        for gone in [path for path in self._changing if path not in present]:
            del self._changing[gone]
        for path in files:
            try:
                status = path.stat()
            except OSError:  # gone between the listing and now, or unreadable: the next poll sees
                continue
            stamp = (status.st_size, status.st_mtime_ns)
            last = self._changing.get(path)
            if last is None or last[0] != stamp:
                self._changing[path] = (stamp, now)
            elif now - last[1] >= self.settle and self._handed.get(path) != stamp:
                ready.append(path)
        return ready

    def hand_over(self, files: list[Path]) -> None:
        """Mark ``files`` handed over as they are now: taken again only once they change."""
        for path in files:
            self._handed[path] = self._changing[path][0]


def check_watchable(options: BatchOptions) -> None:
    """ConfigurationError, in one sentence, for options a watch cannot keep to."""
    options.check_file_by_file("a watch")


def watch_folder(folder: Path, out_dir: Path, denoiser: Denoiser, options: BatchOptions,
                 cancel: Optional[CancelToken] = None, progress: Optional[ProgressCallback] = None,
                 times: WatchTimes = WatchTimes(), waiting: Optional[Callable[[], None]] = None,
                 clock: Callable[[], float] = time.monotonic) -> Iterator[PageResult]:
    """Clean every page of ``folder`` (and its sub-folders) into ``out_dir`` once its file is whole, until
    ``cancel`` is set (Cancelled) or the caller stops; yields each page's result as the batch does.

    The options are checked before anything is cleaned.  ``waiting`` is called after each poll that
    found nothing new, before the pause (a front end shows "watching").
    """
    options.check()
    check_watchable(options)
    times.check()
    arrivals = Arrivals(times.settle, clock)
    while True:
        check(cancel)
        plan = plan_batch([folder], out_dir)  # lists the folder, leaving out DocClean's own outputs
        ready = arrivals.whole(plan.files)
        if ready:
            yield from run_batch(replace(plan, files=ready), denoiser, options, cancel, progress)
            arrivals.hand_over(ready)
            continue  # more may have come while these were cleaned
        if waiting is not None:
            waiting()
        if cancel is not None:
            cancel.wait(times.interval)
        else:
            time.sleep(times.interval)
