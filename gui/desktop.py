"""Opening files and folders in the system's own programs, saying so when none can."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices


def open_in_system(path: Path, tell: Callable[[str], None], what: str = "") -> bool:
    """Open ``path`` with the system's file manager or viewer; ``tell`` says why not (with the path) when it fails."""
    if not path.exists():
        tell(f"{path} does not exist yet")
        return False
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return True
    kind = what or ("folder" if path.is_dir() else "file")
    tell(f"No program could open the {kind}; it is at {path}")
    return False
