"""What a lab experiment gives back: its numbers, its figures and a table, all written to its folder."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.progress import ProgressCallback, report
from engine.vocabulary import Stage

# What json.dumps writes: the values are numbers, words, lists and further such dicts.
Json = dict[str, Any]
# A row of an experiment's table: a column's name -> a number or words.
Row = dict[str, Any]


@dataclass
class LabResult:
    """The outcome of one experiment.

    ``numbers`` is JSON-able (what ``docclean lab ... --json`` prints and
    numbers.json holds); ``figures`` are the PNG files written into the
    output folder; ``table`` holds rows (dicts with the same keys) for a
    front end to show; ``protocol`` says in words what data it ran on
    (e.g. "trained on 8,000 of the 10,000 MNIST test images, scored on the other 2,000").
    """

    name: str
    numbers: Json
    figures: list[Path] = field(default_factory=list)
    table: list[Row] = field(default_factory=list)
    protocol: str = ""

    def save(self, out_dir: Path) -> Path:
        """Write numbers.json (numbers, table and protocol) into ``out_dir``; returns its path."""
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "numbers.json"
        path.write_text(json.dumps(self.payload(), indent=2), encoding="utf-8")
        return path

    def payload(self) -> Json:
        """What numbers.json holds (and ``docclean lab --json`` prints): figures by file name."""
        return {"experiment": self.name, "protocol": self.protocol, "numbers": self.numbers, "table": self.table,
                "figures": [str(f.name) for f in self.figures]}


def add_row(table: list[Row], row: Row, progress: ProgressCallback | None) -> None:
    """Append ``row`` to ``table`` and report it, so a front end can show the table as it grows."""
    table.append(row)
    report(progress, Stage.ROW, len(table), 0, "", dict(row))
