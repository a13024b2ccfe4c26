"""The type checker passes: engine/ and cli/ under mypy --strict, gui/ checked (pyproject.toml's [tool.mypy])."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_mypy_finds_nothing(tmp_path: Path) -> None:
    mypy = Path(sys.executable).with_name("mypy")
    # A cache of its own: a stale one from another checkout cannot hide an error.
    done = subprocess.run([str(mypy), "--cache-dir", str(tmp_path / "cache")], cwd=PROJECT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert done.stdout.startswith("Success: no issues found")
