"""Where the benchmarks leave their figures: benchmarks/results/NAME.{json,md}, or another folder."""
from __future__ import annotations

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
