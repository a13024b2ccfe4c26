"""Where the benchmarks leave their figures: benchmarks/results/NAME.{json,md}."""
from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def save_results(name: str, figures: dict, markdown: str) -> None:
    """Write ``figures`` as NAME.json and ``markdown`` as NAME.md, and print the markdown."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{name}.md").write_text(markdown, encoding="utf-8")
    print(markdown)
