"""The layers of pyproject.toml's import-linter contracts hold (engine free of Qt; TensorFlow only where needed)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _cycles(package: str) -> list[list[str]]:
    """The groups of modules of ``package`` that import each other in a ring (strongly connected components)."""
    import grimp

    graph = grimp.build_graph(package)
    modules = graph.modules
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm; the graph is a few hundred modules deep at most
        order[module] = low[module] = len(order)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in modules:
                continue
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            ring = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                ring.append(member)
                if member == module:
                    break
            if len(ring) > 1:
                found.append(sorted(ring))

    for module in sorted(modules):
        if module not in order:
            visit(module)
    return found


def test_no_import_cycles_in_engine_gui_or_cli():
    # Imports inside functions count too: a lazy import still ties two modules together.
    cycles = {package: _cycles(package) for package in ("engine", "gui", "cli")}
    assert cycles == {"engine": [], "gui": [], "cli": []}
