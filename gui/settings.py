"""What the desktop app remembers between runs (QSettings, organisation and app "DocClean").

Everything is stored as INI so tests can point ``QSettings.setPath`` at a temporary folder
and never touch the user's real settings.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QByteArray, QSettings

from engine.cleaning.backends import BACKENDS
from engine.cleaning.batch import ON_EXISTING
from engine.io import OUTPUT_FORMATS, OUTPUT_MODES

ORGANISATION = "DocClean"
APPLICATION = "DocClean"
MAX_RECENT = 8


class AppSettings:
    """Typed access to the few values the app keeps."""

    def __init__(self, store: Optional[QSettings] = None) -> None:
        self._store = store or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
        )

    @property
    def store(self) -> QSettings:
        return self._store

    def sync(self) -> None:
        self._store.sync()

    # Window -------------------------------------------------------------------------
    def window_geometry(self) -> Optional[QByteArray]:
        value = self._store.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window_geometry(self, geometry: QByteArray) -> None:
        self._store.setValue("window/geometry", geometry)

    def window_state(self) -> Optional[QByteArray]:
        value = self._store.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window_state(self, state: QByteArray) -> None:
        self._store.setValue("window/state", state)

    # Folders ------------------------------------------------------------------------
    def _path(self, key: str) -> Optional[Path]:
        value = self._store.value(key, "")
        return Path(value) if value else None

    def input_folder(self) -> Optional[Path]:
        return self._path("folders/input")

    def set_input_folder(self, folder: Path) -> None:
        self._store.setValue("folders/input", str(folder))
        self._push_recent("folders/recent_inputs", str(folder))

    def recent_input_folders(self) -> list[Path]:
        return [Path(p) for p in self._list("folders/recent_inputs")]

    def output_folder(self) -> Optional[Path]:
        return self._path("folders/output")

    def set_output_folder(self, folder: Path) -> None:
        self._store.setValue("folders/output", str(folder))

    def include_subfolders(self) -> bool:
        return _as_bool(self._store.value("folders/recursive", True))

    def set_include_subfolders(self, on: bool) -> None:
        self._store.setValue("folders/recursive", bool(on))

    # Model and output ---------------------------------------------------------------
    def model_path(self) -> Optional[Path]:
        """The chosen model file; None means the bundled default."""
        return self._path("model/path")

    def set_model_path(self, path: Optional[Path]) -> None:
        self._store.setValue("model/path", str(path) if path else "")
        if path:
            self._push_recent("model/recent", str(path))

    def recent_models(self) -> list[Path]:
        return [Path(p) for p in self._list("model/recent")]

    def add_recent_model(self, path: Path) -> None:
        self._push_recent("model/recent", str(path))

    def output_format(self) -> str:
        value = str(self._store.value("output/format", "png"))
        return value if value in OUTPUT_FORMATS else "png"

    def set_output_format(self, fmt: str) -> None:
        self._store.setValue("output/format", fmt)

    def output_mode(self) -> str:
        value = str(self._store.value("output/mode", OUTPUT_MODES[0]))
        return value if value in OUTPUT_MODES else OUTPUT_MODES[0]

    def set_output_mode(self, mode: str) -> None:
        self._store.setValue("output/mode", mode)

    def on_existing(self) -> str:
        """What a batch does with pages cleaned before (engine.cleaning.batch.ON_EXISTING)."""
        value = str(self._store.value("output/existing", ON_EXISTING[0]))
        return value if value in ON_EXISTING else ON_EXISTING[0]

    def set_on_existing(self, choice: str) -> None:
        self._store.setValue("output/existing", choice)

    def backend(self) -> str:
        value = str(self._store.value("model/backend", BACKENDS[0]))
        return value if value in BACKENDS else BACKENDS[0]

    def set_backend(self, backend: str) -> None:
        self._store.setValue("model/backend", backend)

    def swipe_mode(self) -> bool:
        return _as_bool(self._store.value("viewer/swipe", False))

    def set_swipe_mode(self, on: bool) -> None:
        self._store.setValue("viewer/swipe", bool(on))

    # Training -----------------------------------------------------------------------
    def models_folder(self) -> Optional[Path]:
        """Where the training dialog proposes to save new models."""
        return self._path("training/models_folder")

    def set_models_folder(self, folder: Path) -> None:
        self._store.setValue("training/models_folder", str(folder))

    # ---------------------------------------------------------------------------------
    def _list(self, key: str) -> list[str]:
        value = self._store.value(key, [])
        # INI files hand a one-element list back as a bare string.
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in (value or [])]

    def _push_recent(self, key: str, item: str) -> None:
        items = [i for i in self._list(key) if i != item]
        self._store.setValue(key, [item, *items][:MAX_RECENT])


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)
