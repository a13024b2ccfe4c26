"""gui/ talks to PySide6 and engine only: no TensorFlow, Keras, OpenCV or numerics of its own."""
from __future__ import annotations

import ast
from pathlib import Path

GUI = Path(__file__).resolve().parents[2] / "gui"
FORBIDDEN = {"tensorflow", "keras", "cv2", "numpy", "scipy", "PIL"}


def test_gui_imports_only_qt_and_engine():
    for path in GUI.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
