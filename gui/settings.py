"""What the desktop app remembers between runs (QSettings, organisation and app "DocClean").

Everything is stored as INI so tests can point ``QSettings.setPath`` at a temporary folder
and never touch the user's real settings.

``AppSettings`` is a table of typed entries: each class attribute is an ``Entry`` (its key, its
default, how its stored text reads and which values are valid), used as an attribute::

    settings.output_format            # "png" when never set, damaged or not a format
    settings.output_format = "pdf"    # stored at once

INI hands every value back as text ("true", "85", "a, b"), and a hand-edited or damaged file may
hold anything: a value that does not read as its entry's type, or reads but is not valid (a format
that does not exist, a JPEG quality out of range), gives the entry's default. ``Keyed`` entries
hold one value per folder or name (``settings.output_folder_for[folder]``); what is special (the
recent lists, the re-run policy remembered per output folder, the training options) is a small
method or a ``Recent`` list beside the table.
"""
from __future__ import annotations

import hashlib
import math
from enum import StrEnum
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Generic, Iterator, Optional, Protocol, Sequence, TypeVar, overload

from PySide6.QtCore import QByteArray, QSettings

from engine.io import JPEG_QUALITY, JPEG_QUALITY_RANGE, PDF_JPEG_QUALITY
from engine.vocabulary import Crop, OutputFormat, PageMode, PageSize, PdfA, PdfImages, RerunPolicy, Rotation, Runtime, Split

ORGANISATION = "DocClean"
THEMES = ("system", "light", "dark")
APPLICATION = "DocClean"
MAX_RECENT = 8

T = TypeVar("T")
K = TypeVar("K")
_Value = TypeVar("_Value", bool, int, float, str)

_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no", "")


class _Owner(Protocol):
    """What an entry is read through: an object with a QSettings store (AppSettings)."""

    @property
    def store(self) -> QSettings: ...


# How stored values read: each raises ValueError or TypeError on a value that is not of its type.
def _bool(value: object) -> bool:
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError(f"not a yes or no: {value!r}")
    if isinstance(value, (bool, int)):
        return bool(value)
    raise TypeError(f"not a yes or no: {value!r}")


def _int(value: object) -> int:
    if isinstance(value, (str, int, float)):
        try:
            return int(value)
        except OverflowError as error:  # an infinite float
            raise ValueError(str(error)) from None
    raise TypeError(f"not a whole number: {value!r}")


def _float(value: object) -> float:
    if isinstance(value, (str, int, float)):
        number = float(value)
        if math.isfinite(number):
            return number
        raise ValueError(f"not a finite number: {value!r}")
    raise TypeError(f"not a number: {value!r}")


def _str(value: object) -> str:
    # A list is what INI makes of unquoted commas: a damaged value, not text.
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TypeError(f"not text: {value!r}")


def _optional_str(value: object) -> Optional[str]:
    return _str(value) or None


def _path(value: object) -> Optional[Path]:
    text = _str(value)
    return Path(text) if text else None


def _bytes(value: object) -> Optional[QByteArray]:
    if isinstance(value, QByteArray):
        return value if not value.isEmpty() else None
    raise TypeError(f"not saved binary state: {value!r}")


def _any(value: object) -> bool:
    return True


def _same(value: object) -> object:
    return value


def _text_or_empty(value: object) -> str:
    return str(value) if value else ""


def _bytes_or_empty(value: Optional[QByteArray]) -> QByteArray:
    return value if value is not None else QByteArray()


@dataclass(frozen=True)
class Recent:
    """A most-recent-first list of paths, at most MAX_RECENT long (INI: ``a, b, c``).

    ``settings.recent_models`` reads it; an ``Entry`` with ``recent=`` pushes each value it writes.
    """

    key: str

    def read(self, store: QSettings) -> list[Path]:
        return [Path(item) for item in self._items(store)]

    def push(self, store: QSettings, item: str) -> None:
        items = [i for i in self._items(store) if i != item]
        store.setValue(self.key, [item, *items][:MAX_RECENT])

    def _items(self, store: QSettings) -> list[str]:
        value = store.value(self.key, [])
        # INI files hand a one-element list back as a bare string.
        if isinstance(value, str):
            value = [value] if value else []
        if not isinstance(value, (list, tuple)):
            return []
        return [str(v) for v in value if str(v)]

    @overload
    def __get__(self, obj: None, owner: type) -> Recent: ...
    @overload
    def __get__(self, obj: _Owner, owner: type) -> list[Path]: ...
    def __get__(self, obj: Optional[_Owner], owner: type) -> Recent | list[Path]:
        return self if obj is None else self.read(obj.store)

    def __set__(self, obj: _Owner, paths: Sequence[Path]) -> None:
        obj.store.setValue(self.key, [str(p) for p in paths][:MAX_RECENT])


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One remembered value: where it is stored, its default, how its stored value reads.

    ``parse`` turns what QSettings hands back (INI text, or the value itself before a sync) into
    the entry's type, raising ValueError or TypeError when it cannot; ``valid`` says whether a
    parsed value may be used. Either failing gives ``default``. ``encode`` is what is stored.
    """

    key: str
    default: T
    parse: Callable[[object], T]
    valid: Callable[[T], bool] = _any
    encode: Callable[[T], object] = _same
    recent: Optional[str] = None  # the key of a Recent list that each value written is put first in

    def read(self, store: QSettings) -> T:
        raw = store.value(self.key)
        if raw is None:
            return self.default
        try:
            value = self.parse(raw)
        except (TypeError, ValueError):
            return self.default
        return value if self.valid(value) else self.default

    def write(self, store: QSettings, value: T) -> None:
        store.setValue(self.key, self.encode(value))
        if self.recent is not None and value:
            Recent(self.recent).push(store, str(value))

    @overload
    def __get__(self, obj: None, owner: type) -> Entry[T]: ...
    @overload
    def __get__(self, obj: _Owner, owner: type) -> T: ...
    def __get__(self, obj: Optional[_Owner], owner: type) -> Entry[T] | T:
        return self if obj is None else self.read(obj.store)

    def __set__(self, obj: _Owner, value: T) -> None:
        self.write(obj.store, value)


# The kinds of entries ---------------------------------------------------------------------
def flag(key: str, default: bool) -> Entry[bool]:
    """A yes or no ("true"/"false"; "1", "yes", "0", "no" and an empty value are read too)."""
    return Entry(key, default, _bool, encode=bool)


def integer(key: str, default: int, low: Optional[int] = None, high: Optional[int] = None,
            clamp: bool = False) -> Entry[int]:
    """A whole number; one outside [low, high] gives the default, or the nearest bound with ``clamp``."""
    def parse(value: object) -> int:
        number = _int(value)
        if clamp:
            number = max(low, number) if low is not None else number
            number = min(high, number) if high is not None else number
        return number

    def valid(number: int) -> bool:
        return (low is None or number >= low) and (high is None or number <= high)

    return Entry(key, default, parse, valid, encode=int)


def real(key: str, default: float) -> Entry[float]:
    """A finite number."""
    return Entry(key, default, _float, encode=float)


def text(key: str, default: str = "", choices: Sequence[str] = ()) -> Entry[str]:
    """Text; with ``choices``, one of them (anything else gives the default)."""
    allowed = tuple(choices)
    return Entry(key, default, _str, (lambda value: value in allowed) if allowed else _any, encode=str)


def optional_text(key: str) -> Entry[Optional[str]]:
    """Text, or None when never set or empty (stored as "")."""
    return Entry(key, None, _optional_str, encode=_text_or_empty)


def path(key: str, recent: Optional[Recent] = None) -> Entry[Optional[Path]]:
    """A file or folder, or None when never set or empty (stored as "")."""
    return Entry(key, None, _path, encode=_text_or_empty, recent=recent.key if recent else None)


def state(key: str) -> Entry[Optional[QByteArray]]:
    """Saved widget state (``@ByteArray(...)``), or None when never saved, empty or damaged."""
    return Entry(key, None, _bytes, encode=_bytes_or_empty)


def like(key: str, default: _Value) -> Entry[_Value]:
    """An entry of ``default``'s type (bool, int, float or str)."""
    if isinstance(default, bool):
        return flag(key, default)  # type: ignore[return-value]
    if isinstance(default, int):
        return integer(key, default)  # type: ignore[return-value]
    if isinstance(default, float):
        return real(key, default)
    return text(key, default)


class Keyed(Generic[K, T]):
    """A family of entries, one per folder or name: ``settings.family[name]`` reads and writes."""

    def __init__(self, entry: Callable[[K], Entry[T]]) -> None:
        self.entry = entry

    @overload
    def __get__(self, obj: None, owner: type) -> Keyed[K, T]: ...
    @overload
    def __get__(self, obj: _Owner, owner: type) -> _KeyedValues[K, T]: ...
    def __get__(self, obj: Optional[_Owner], owner: type) -> Keyed[K, T] | _KeyedValues[K, T]:
        return self if obj is None else _KeyedValues(self, obj.store)

    def __set__(self, obj: _Owner, value: object) -> None:
        raise AttributeError("a keyed entry is set one name at a time: settings.entry[name] = value")


class _KeyedValues(Generic[K, T]):
    def __init__(self, family: Keyed[K, T], store: QSettings) -> None:
        self._family = family
        self._store = store

    def __getitem__(self, name: K) -> T:
        return self._family.entry(name).read(self._store)

    def __setitem__(self, name: K, value: T) -> None:
        self._family.entry(name).write(self._store, value)


def _values(kind: type[StrEnum]) -> tuple[str, ...]:
    """The plain strings the settings file holds for a choice of the engine's vocabulary."""
    return tuple(member.value for member in kind)


def _per_folder(group: str, folder: Path) -> str:
    """A settings key for one folder: its path hashed, as paths hold the '/' that QSettings splits on."""
    return f"{group}/{hashlib.sha1(str(Path(folder).expanduser().resolve()).encode()).hexdigest()[:16]}"


_EXISTING = text("output/existing", RerunPolicy.SKIP, _values(RerunPolicy))


class AppSettings:
    """Typed access to the few values the app keeps: one entry per stored key."""

    # Window
    window_geometry = state("window/geometry")
    window_state = state("window/state")
    splitter_state = state("window/splitter")
    theme = text("window/theme", THEMES[0], THEMES)
    swipe_mode = flag("viewer/swipe", False)

    # Folders
    recent_input_folders = Recent("folders/recent_inputs")
    input_folder = path("folders/input", recent=recent_input_folders)
    output_folder = path("folders/output")
    #: Where a new input folder's output folder goes; None: beside the input folder.
    output_base = path("folders/output_base")
    include_subfolders = flag("folders/recursive", True)
    #: The output folder last used for the pages of an input folder.
    output_folder_for: Keyed[Path, Optional[Path]] = Keyed(
        lambda folder: path(_per_folder("outputs", folder)))

    # Model
    recent_models = Recent("model/recent")
    #: The chosen model file; None means the bundled default.
    model_path = path("model/path", recent=recent_models)
    backend = text("model/backend", Runtime.AUTO, _values(Runtime))
    #: CPU threads for cleaning; 0: one per core (a negative number reads as 0).
    threads = integer("model/threads", 0, low=0, clamp=True)

    # Output
    output_format = text("output/format", OutputFormat.PNG, _values(OutputFormat))
    output_mode = text("output/mode", PageMode.GREY, _values(PageMode))
    #: The naming template typed last; "" for the engine's default.
    name_template = text("output/name")
    jpeg_quality = integer("output/jpeg_quality", JPEG_QUALITY, *JPEG_QUALITY_RANGE)
    #: How a PDF stores grey and colour pages, at which JPEG quality, and the PDF/A it is made to ("": none).
    pdf_images = text("output/pdf_images", PdfImages.JPEG, _values(PdfImages))
    pdf_quality = integer("output/pdf_quality", PDF_JPEG_QUALITY, *JPEG_QUALITY_RANGE)
    pdfa = text("output/pdfa", "", ("", *_values(PdfA)))
    #: Whether a batch writes every page into one PDF, and that PDF's name.
    combine = flag("output/combine", False)
    combine_name = text("output/combine_name")
    #: Tesseract's languages for a PDF's text layer ("eng", "eng+deu"); "" for none.
    ocr = text("output/ocr")

    # Where batches run: "local" (this process) or "ray" (a Ray cluster at cluster_address, "" for one started
    # on this computer), as the command line's --engine and --address.
    engine = text("batch/engine", "local", ("local", "ray"))
    cluster_address = text("batch/cluster_address")

    # Pages: the geometry stage before cleaning (engine.geometry), on as on the command line.
    geometry = flag("pages/geometry", True)
    rotate = text("pages/rotate", Rotation.AUTO, _values(Rotation))
    deskew = flag("pages/deskew", True)
    crop = text("pages/crop", Crop.PAGE, _values(Crop))
    split = text("pages/split", Split.AUTO, _values(Split))
    page_size = text("pages/page_size", PageSize.NONE, _values(PageSize))
    dewarp = flag("pages/dewarp", False)

    # Training: the dialog's last choices, so a second run starts where the first left off.
    #: Where the training dialog proposes to save new models.
    models_folder = path("training/models_folder")
    #: The kind of training data chosen last (gui.training_data.DATA_CHOICES); None at first.
    training_data_kind = optional_text("training/data/kind")
    #: The source and data folder typed last for data of a kind; each kind keeps its own.
    training_data_source: Keyed[str, str] = Keyed(lambda kind: text(f"training/data/{kind}/source"))
    training_data_folder: Keyed[str, str] = Keyed(lambda kind: text(f"training/data/{kind}/folder"))
    #: The architecture chosen last for a family (digits or document data).
    training_architecture: Keyed[str, Optional[str]] = Keyed(
        lambda family: optional_text(f"training/architecture/{family}"))

    def __init__(self, store: Optional[QSettings] = None) -> None:
        self._store = store or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
        )

    @property
    def store(self) -> QSettings:
        return self._store

    def sync(self) -> None:
        self._store.sync()

    @classmethod
    def entries(cls) -> Iterator[tuple[str, Entry[object]]]:
        """Every plain entry of the table, by attribute name."""
        for name, value in vars(cls).items():
            if isinstance(value, Entry):
                yield name, value

    def get(self, entry: Entry[T]) -> T:
        return entry.read(self._store)

    def set(self, entry: Entry[T], value: T) -> None:
        entry.write(self._store, value)

    def setter(self, entry: Entry[T]) -> Callable[[T], None]:
        """A function that stores its argument in ``entry``: a slot for a widget's change signal."""
        return lambda value: entry.write(self._store, value)

    # What is special -------------------------------------------------------------------
    def add_recent_model(self, path: Path) -> None:
        type(self).recent_models.push(self._store, str(path))

    def on_existing(self, output_folder: Optional[Path] = None) -> str:
        """What a batch does with pages cleaned before (engine.vocabulary.RerunPolicy).

        Remembered per output folder; a folder never chosen for gets the last choice made.
        """
        last = _EXISTING.read(self._store)
        if not output_folder:
            return last
        return replace(_EXISTING, key=_per_folder("existing", output_folder), default=last).read(self._store)

    def set_on_existing(self, choice: str, output_folder: Optional[Path] = None) -> None:
        _EXISTING.write(self._store, choice)
        if output_folder:
            replace(_EXISTING, key=_per_folder("existing", output_folder)).write(self._store, choice)

    def training_arch_options(self, arch: str) -> dict[str, int]:
        """The options of ``arch`` set last (one left at the builder's default is not stored)."""
        group = f"training/arch_options/{arch}"
        self._store.beginGroup(group)
        try:
            names = self._store.childKeys()
        finally:
            self._store.endGroup()
        options = {}
        for name in names:
            try:
                options[name] = _int(self._store.value(f"{group}/{name}"))
            except (TypeError, ValueError):
                pass  # an edited or damaged settings file: that option falls back to its default
        return options

    def set_training_arch_options(self, arch: str, options: dict[str, int]) -> None:
        self._store.remove(f"training/arch_options/{arch}")
        for name, value in options.items():
            self._store.setValue(f"training/arch_options/{arch}/{name}", int(value))

    def training_option(self, name: str, default: _Value) -> _Value:
        """Training option ``name`` (its CLI name) as set last, of ``default``'s type.

        ``default`` when never set, or when the stored text does not read as that type.
        """
        return like(f"training/options/{name}", default).read(self._store)

    def set_training_option(self, name: str, value: bool | int | float | str) -> None:
        self._store.setValue(f"training/options/{name}", value)
