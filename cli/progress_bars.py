"""Progress reports as tqdm bars on the terminal, one per stage (the CLI's side of engine.progress)."""
from __future__ import annotations

import sys

from tqdm import tqdm

from engine.progress import Progress
from engine.vocabulary import Stage


class Bars:
    """Turns Progress reports into tqdm bars, one per stage; a report without a total is a line of its own."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.bars: dict[str, tqdm] = {}

    def __call__(self, event: Progress) -> None:
        if self.quiet:
            return
        if event.total == 0:  # a note, such as a figure the lab just wrote (a table row has no words)
            if event.message:
                tqdm.write(f"{event.stage}: {event.message}", file=sys.stderr)
            return
        bar = self.bars.get(event.stage)
        if bar is not None and bar.total != event.total and event.done >= bar.n:
            bar.total = event.total  # a total that grows (a document's pages, found as it is read): the same bar
        if bar is None or event.done < bar.n:
            if bar is not None:
                bar.close()
            bar = tqdm(total=event.total, desc=event.stage, unit=event.stage, leave=event.stage != Stage.BATCH,
                       file=sys.stderr, dynamic_ncols=True)
            self.bars[event.stage] = bar
        if event.message:
            bar.set_postfix_str(event.message, refresh=False)
        bar.update(event.done - bar.n)
        if event.stage == Stage.EPOCH and event.values:
            tqdm.write(event.message, file=sys.stderr)
        if event.done >= event.total and event.stage != Stage.EPOCH:
            bar.close()
            del self.bars[event.stage]

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()
