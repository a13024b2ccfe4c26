"""Where the benchmarks leave their figures: benchmarks/results/NAME.{json,md}, or another folder."""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Optional

RESULTS = Path(__file__).resolve().parent / "results"


def results_folder(out: Optional[Path], smoke: bool) -> Path:
    """The folder a benchmark writes into: ``out`` if given, else a new temporary folder for a
    smoke run (whose figures mean nothing and must never replace the real ones), else RESULTS."""
    if out is not None:
        return Path(out)
    if smoke:
        return Path(tempfile.mkdtemp(prefix="docclean-benchmark-smoke-"))
    return RESULTS


def save_results(name: str, figures: dict, markdown: str, out: Path = RESULTS) -> None:
    """Write ``figures`` as NAME.json and ``markdown`` as NAME.md into ``out``, and print the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    (out / f"{name}.md").write_text(markdown, encoding="utf-8")
    print(markdown)


def standard_arguments(parser: argparse.ArgumentParser, smoke: str) -> None:
    """The options every recent benchmark takes: the shared data, the results folder, the precision, and
    ``--smoke`` (``smoke`` says what its run holds)."""
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data",
                        help="the shared data folder")
    parser.add_argument("--out", type=Path, default=None, help="folder for the results (default: benchmarks/results)")
    parser.add_argument("--precision", choices=["float32", "native"], default="float32",
                        help="float32 (the figures on any CPU) or native (this CPU's own precision)")
    parser.add_argument("--smoke", action="store_true", help=f"{smoke}, into a temporary folder")
