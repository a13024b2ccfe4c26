"""What the desktop app remembers between runs (QSettings, organisation and app "DocClean").

Everything is stored as INI so tests can point ``QSettings.setPath`` at a temporary folder
and never touch the user's real settings.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional, TypeVar

from PySide6.QtCore import QByteArray, QSettings

from engine.cleaning.backends import BACKENDS
from engine.cleaning.batch import ON_EXISTING
from engine.io import JPEG_QUALITY, JPEG_QUALITY_RANGE, OUTPUT_FORMATS, OUTPUT_MODES

ORGANISATION = "DocClean"
THEMES = ("system", "light", "dark")
APPLICATION = "DocClean"
MAX_RECENT = 8
_Value = TypeVar("_Value", bool, int, float, str)


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

    def splitter_state(self) -> Optional[QByteArray]:
        value = self._store.value("window/splitter")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_splitter_state(self, state: QByteArray) -> None:
        self._store.setValue("window/splitter", state)

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

    def name_template(self) -> str:
        """The naming template typed last; "" for the engine's default."""
        return str(self._store.value("output/name", ""))

    def set_name_template(self, template: str) -> None:
        self._store.setValue("output/name", template)

    def jpeg_quality(self) -> int:
        try:
            value = int(self._store.value("output/jpeg_quality", JPEG_QUALITY))
        except (TypeError, ValueError):
            return JPEG_QUALITY
        return value if JPEG_QUALITY_RANGE[0] <= value <= JPEG_QUALITY_RANGE[1] else JPEG_QUALITY

    def set_jpeg_quality(self, quality: int) -> None:
        self._store.setValue("output/jpeg_quality", int(quality))

    def combine(self) -> bool:
        """Whether a batch writes every page into one PDF."""
        return _as_bool(self._store.value("output/combine", False))

    def combine_name(self) -> str:
        return str(self._store.value("output/combine_name", ""))

    def set_combine(self, on: bool, name: str) -> None:
        self._store.setValue("output/combine", bool(on))
        self._store.setValue("output/combine_name", name)

    def output_mode(self) -> str:
        value = str(self._store.value("output/mode", OUTPUT_MODES[0]))
        return value if value in OUTPUT_MODES else OUTPUT_MODES[0]

    def set_output_mode(self, mode: str) -> None:
        self._store.setValue("output/mode", mode)

    def output_folder_for(self, input_folder: Path) -> Optional[Path]:
        """The output folder last used for the pages of ``input_folder``."""
        return self._path(_per_folder("outputs", input_folder))

    def set_output_folder_for(self, input_folder: Path, output: Path) -> None:
        self._store.setValue(_per_folder("outputs", input_folder), str(output))

    def on_existing(self, output_folder: Optional[Path] = None) -> str:
        """What a batch does with pages cleaned before (engine.cleaning.batch.ON_EXISTING).

        Remembered per output folder; a folder never chosen for gets the last choice made.
        """
        value = self._store.value(_per_folder("existing", output_folder), None) if output_folder else None
        value = str(value or self._store.value("output/existing", ON_EXISTING[0]))
        return value if value in ON_EXISTING else ON_EXISTING[0]

    def set_on_existing(self, choice: str, output_folder: Optional[Path] = None) -> None:
        self._store.setValue("output/existing", choice)
        if output_folder:
            self._store.setValue(_per_folder("existing", output_folder), choice)

    def backend(self) -> str:
        value = str(self._store.value("model/backend", BACKENDS[0]))
        return value if value in BACKENDS else BACKENDS[0]

    def set_backend(self, backend: str) -> None:
        self._store.setValue("model/backend", backend)

    def threads(self) -> int:
        """CPU threads for cleaning; 0: one per core."""
        try:
            return max(0, int(self._store.value("model/threads", 0)))
        except (TypeError, ValueError):
            return 0

    def set_threads(self, threads: int) -> None:
        self._store.setValue("model/threads", int(threads))

    def output_base(self) -> Optional[Path]:
        """Where a new input folder's output folder goes; None: beside the input folder."""
        return self._path("folders/output_base")

    def set_output_base(self, folder: Optional[Path]) -> None:
        self._store.setValue("folders/output_base", str(folder) if folder else "")

    def theme(self) -> str:
        value = str(self._store.value("window/theme", THEMES[0]))
        return value if value in THEMES else THEMES[0]

    def set_theme(self, theme: str) -> None:
        self._store.setValue("window/theme", theme)

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

    # The training dialog's last choices, so a second run starts where the first left off.
    def training_data_kind(self) -> Optional[str]:
        """The kind of training data chosen last (gui.training_data.DATA_CHOICES); None at first."""
        return str(self._store.value("training/data/kind", "")) or None

    def set_training_data_kind(self, kind: str) -> None:
        self._store.setValue("training/data/kind", kind)

    def training_data_text(self, kind: str) -> tuple[str, str]:
        """(source, data folder) typed last for data of ``kind``; each kind keeps its own."""
        return (str(self._store.value(f"training/data/{kind}/source", "")),
                str(self._store.value(f"training/data/{kind}/folder", "")))

    def set_training_data_text(self, kind: str, source: str, folder: str) -> None:
        self._store.setValue(f"training/data/{kind}/source", source)
        self._store.setValue(f"training/data/{kind}/folder", folder)

    def training_architecture(self, family: str) -> Optional[str]:
        """The architecture chosen last for ``family`` (digits or document data)."""
        return str(self._store.value(f"training/architecture/{family}", "")) or None

    def set_training_architecture(self, family: str, name: str) -> None:
        self._store.setValue(f"training/architecture/{family}", name)

    def training_arch_options(self, arch: str) -> dict[str, int]:
        """The options of ``arch`` set last (one left at the builder's default is not stored)."""
        self._store.beginGroup(f"training/arch_options/{arch}")
        try:
            values = {key: self._store.value(key) for key in self._store.childKeys()}
        finally:
            self._store.endGroup()
        options = {}
        for key, value in values.items():
            try:
                options[key] = int(value)
            except (TypeError, ValueError):
                pass  # an edited or damaged settings file: that option falls back to its default
        return options

    def set_training_arch_options(self, arch: str, options: dict[str, int]) -> None:
        self._store.remove(f"training/arch_options/{arch}")
        for key, value in options.items():
            self._store.setValue(f"training/arch_options/{arch}/{key}", int(value))

    def training_option(self, name: str, default: _Value) -> _Value:
        """Training option ``name`` (its CLI name) as set last, of ``default``'s type.

        ``default`` when never set, or when the stored text does not read as that type.
        """
        value = self._store.value(f"training/options/{name}")
        if value is None:
            return default
        if isinstance(default, bool):
            return _as_bool(value)  # type: ignore[return-value]
        try:
            return type(default)(value)
        except (TypeError, ValueError):
            return default

    def set_training_option(self, name: str, value: bool | int | float | str) -> None:
        self._store.setValue(f"training/options/{name}", value)

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


def _per_folder(group: str, folder: Path) -> str:
    """A settings key for one folder: its path hashed, as paths hold the '/' that QSettings splits on."""
    return f"{group}/{hashlib.sha1(str(Path(folder).expanduser().resolve()).encode()).hexdigest()[:16]}"
