"""The settings table: every entry round-trips, damaged values give defaults, old files still read."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSettings

from engine.io import JPEG_QUALITY, JPEG_QUALITY_RANGE
from engine.vocabulary import OutputFormat, PageMode, RerunPolicy, Runtime

BACKENDS = tuple(Runtime)
ON_EXISTING = tuple(RerunPolicy)
OUTPUT_FORMATS = tuple(OutputFormat)
OUTPUT_MODES = tuple(PageMode)
from gui.settings import MAX_RECENT, THEMES, AppSettings, Entry, Keyed, Recent

# A settings file as the getters and setters before the table wrote it (QSettings sorts the keys).
OLD_FORMAT = r"""[existing]
336e7e49817bccc4=keep-both

[folders]
input="/scans/first, with comma"
output=/out/cleaned
output_base=/out
recent_inputs="/scans/first, with comma", /scans/second
recursive=false

[model]
backend=keras
path=/models/a.keras
recent=/models/b.keras, /models/a.keras
threads=3

[output]
combine=true
combine_name=book.pdf
existing=keep-both
format=pdf
jpeg_quality=77
mode=bw
name={stem}-clean

[outputs]
e3cec663bc5d337a=/out/first

[training]
arch_options\unet\depth=3
arch_options\unet\width=16
architecture\document=unet
data\kind=pairs
data\pairs\folder=/data/pairs
data\pairs\source=noisyoffice
models_folder=/models
options\epochs=12
options\learning_rate=1e-3
options\reconstruct=true
options\scale=0.5

[viewer]
swipe=true

[window]
geometry=@ByteArray(\x1\xd9\xd0\xcb\0\x3geom)
splitter=@ByteArray(split)
state=@ByteArray(\0\0\0\xffstate)
theme=dark
"""

GEOMETRY = QByteArray(b"\x01\xd9\xd0\xcb\x00\x03geom")
STATE = QByteArray(b"\x00\x00\x00\xffstate")
SPLITTER = QByteArray(b"split")


def _settings(file: Path, text: str | None = None) -> AppSettings:
    if text is not None:
        file.write_text(text)
    return AppSettings(QSettings(str(file), QSettings.Format.IniFormat))


def _reopened(settings: AppSettings) -> AppSettings:
    """The same file read afresh, so every value comes back as INI text."""
    settings.sync()
    return AppSettings(QSettings(settings.store.fileName(), QSettings.Format.IniFormat))


def _write_the_old_values(s: AppSettings) -> None:
    """What the old setters were called with to write OLD_FORMAT, through the table."""
    s.window_geometry = GEOMETRY
    s.window_state = STATE
    s.splitter_state = SPLITTER
    s.input_folder = Path("/scans/second")
    s.input_folder = Path("/scans/first, with comma")
    s.output_folder = Path("/out/cleaned")
    s.include_subfolders = False
    s.model_path = Path("/models/a.keras")
    s.add_recent_model(Path("/models/b.keras"))
    s.output_format = "pdf"
    s.name_template = "{stem}-clean"
    s.jpeg_quality = 77
    s.combine = True
    s.combine_name = "book.pdf"
    s.output_mode = "bw"
    s.output_folder_for[Path("/scans/first")] = Path("/out/first")
    s.set_on_existing("keep-both", Path("/out/first"))
    s.backend = "keras"
    s.threads = 3
    s.output_base = Path("/out")
    s.theme = "dark"
    s.swipe_mode = True
    s.models_folder = Path("/models")
    s.training_data_kind = "pairs"
    s.training_data_source["pairs"] = "noisyoffice"
    s.training_data_folder["pairs"] = "/data/pairs"
    s.training_architecture["document"] = "unet"
    s.set_training_arch_options("unet", {"depth": 3, "width": 16})
    s.set_training_option("epochs", 12)
    s.set_training_option("reconstruct", True)
    s.set_training_option("learning_rate", "1e-3")
    s.set_training_option("scale", 0.5)


def _assert_the_old_values(s: AppSettings) -> None:
    assert s.window_geometry == GEOMETRY and s.window_state == STATE and s.splitter_state == SPLITTER
    assert s.input_folder == Path("/scans/first, with comma")
    assert s.recent_input_folders == [Path("/scans/first, with comma"), Path("/scans/second")]
    assert s.output_folder == Path("/out/cleaned")
    assert s.output_base == Path("/out")
    assert s.include_subfolders is False
    assert s.model_path == Path("/models/a.keras")
    assert s.recent_models == [Path("/models/b.keras"), Path("/models/a.keras")]
    assert s.backend == "keras" and s.threads == 3
    assert s.combine is True and s.combine_name == "book.pdf"
    assert s.output_format == "pdf" and s.output_mode == "bw" and s.name_template == "{stem}-clean"
    assert s.jpeg_quality == 77
    assert s.on_existing() == "keep-both" and s.on_existing(Path("/out/first")) == "keep-both"
    assert s.output_folder_for[Path("/scans/first")] == Path("/out/first")
    assert s.output_folder_for[Path("/scans/second")] is None
    assert s.theme == "dark" and s.swipe_mode is True
    assert s.models_folder == Path("/models")
    assert s.training_data_kind == "pairs"
    assert (s.training_data_source["pairs"], s.training_data_folder["pairs"]) == ("noisyoffice", "/data/pairs")
    assert s.training_architecture["document"] == "unet" and s.training_architecture["digits"] is None
    assert s.training_arch_options("unet") == {"depth": 3, "width": 16}
    assert s.training_option("epochs", 1) == 12
    assert s.training_option("reconstruct", False) is True
    assert s.training_option("learning_rate", "") == "1e-3"
    assert s.training_option("scale", 1.0) == 0.5


def test_a_settings_file_of_the_old_format_reads_back_the_same(tmp_path):
    _assert_the_old_values(_settings(tmp_path / "old.ini", OLD_FORMAT))


def test_the_table_writes_the_old_format_key_for_key(tmp_path):
    s = _settings(tmp_path / "new.ini")
    _write_the_old_values(s)
    _assert_the_old_values(s)  # before a sync, QSettings hands back the values themselves
    s.sync()
    assert (tmp_path / "new.ini").read_text() == OLD_FORMAT
    _assert_the_old_values(_reopened(s))


def test_a_fresh_file_gives_every_default(tmp_path):
    s = _settings(tmp_path / "empty.ini")
    for name, entry in AppSettings.entries():
        assert getattr(s, name) == entry.default, name
    assert s.window_geometry is None and s.window_state is None and s.splitter_state is None
    assert s.input_folder is None and s.output_folder is None and s.output_base is None
    assert s.model_path is None and s.models_folder is None
    assert s.recent_input_folders == [] and s.recent_models == []
    assert s.include_subfolders is True and s.swipe_mode is False and s.combine is False
    assert s.output_format == "png" and s.output_mode == OUTPUT_MODES[0] and s.name_template == ""
    assert s.jpeg_quality == JPEG_QUALITY and s.threads == 0
    assert s.backend == BACKENDS[0] and s.theme == THEMES[0] and s.on_existing() == ON_EXISTING[0]
    assert s.training_data_kind is None and s.training_architecture["document"] is None
    assert s.training_data_source["pairs"] == "" and s.training_arch_options("unet") == {}
    assert s.output_folder_for[tmp_path] is None and s.on_existing(tmp_path) == ON_EXISTING[0]


# One value other than the default for every entry of the table: each kind of entry round-trips.
# Choices are the stored text itself, the same whatever type the engine gives its names.
SAMPLES: dict[str, object] = {
    "window_geometry": GEOMETRY, "window_state": STATE, "splitter_state": SPLITTER,
    "theme": "light", "swipe_mode": True,
    "input_folder": Path("/a/b c, d"), "output_folder": Path("/out"), "output_base": Path("/base"),
    "include_subfolders": False, "model_path": Path("/m.keras"), "backend": "keras", "threads": 6,
    "output_format": "jpeg", "output_mode": "bw", "name_template": "{stem}, {n}",
    "jpeg_quality": JPEG_QUALITY_RANGE[0], "pdf_images": "lossless", "pdf_quality": 60, "pdfa": "1b",
    "combine": True, "combine_name": "all.pdf", "ocr": "eng+deu", "engine": "ray", "cluster_address": "10.0.0.1:6379",
    "geometry": False, "rotate": "270", "deskew": False, "crop": "content", "split": "off", "page_size": "a4",
    "dewarp": True,
    "models_folder": Path("/models"), "training_data_kind": "digits",
}


def test_the_samples_cover_the_whole_table():
    assert set(SAMPLES) == {name for name, _ in AppSettings.entries()}
    assert all(SAMPLES[name] != entry.default for name, entry in AppSettings.entries())


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_entry_round_trips(tmp_path, name):
    s = _settings(tmp_path / "s.ini")
    setattr(s, name, SAMPLES[name])
    assert getattr(s, name) == SAMPLES[name]
    again = _reopened(s)
    assert getattr(again, name) == SAMPLES[name]
    assert type(getattr(again, name)) is type(SAMPLES[name])


@pytest.mark.parametrize("name", ["input_folder", "output_base", "model_path", "training_data_kind"])
def test_an_optional_entry_set_to_none_reads_none(tmp_path, name):
    s = _settings(tmp_path / "s.ini")
    setattr(s, name, SAMPLES[name])
    setattr(s, name, None)
    assert getattr(s, name) is None and getattr(_reopened(s), name) is None


def test_get_set_and_setter_use_the_same_entries(tmp_path):
    s = _settings(tmp_path / "s.ini")
    s.set(AppSettings.output_format, "tiff")
    assert s.get(AppSettings.output_format) == "tiff" == s.output_format
    slot = s.setter(AppSettings.include_subfolders)
    slot(False)
    assert s.include_subfolders is False and _reopened(s).include_subfolders is False
    assert isinstance(AppSettings.output_format, Entry) and AppSettings.output_format.key == "output/format"


# (section, key, stored text, attribute, what it reads as)
DAMAGED = [
    ("output", "format", "gif", "output_format", "png"),
    ("output", "format", "PDF", "output_format", "png"),
    ("output", "mode", "sepia", "output_mode", OUTPUT_MODES[0]),
    ("output", "name", "{stem}, {n}", "name_template", ""),  # unquoted: INI reads a list
    ("output", "jpeg_quality", "high", "jpeg_quality", JPEG_QUALITY),
    ("output", "jpeg_quality", "85.5", "jpeg_quality", JPEG_QUALITY),
    ("output", "jpeg_quality", "0", "jpeg_quality", JPEG_QUALITY),  # out of range: the default
    ("output", "jpeg_quality", "101", "jpeg_quality", JPEG_QUALITY),
    ("output", "jpeg_quality", "100", "jpeg_quality", 100),
    ("output", "jpeg_quality", " 1 ", "jpeg_quality", 1),
    ("output", "combine", "maybe", "combine", False),
    ("model", "threads", "-3", "threads", 0),  # below 0: clamped
    ("model", "threads", "many", "threads", 0),
    ("model", "threads", "1e3", "threads", 0),
    ("model", "backend", "cuda", "backend", BACKENDS[0]),
    ("folders", "recursive", "maybe", "include_subfolders", True),
    ("folders", "recursive", "", "include_subfolders", False),
    ("folders", "recursive", "0", "include_subfolders", False),
    ("folders", "recursive", "no", "include_subfolders", False),
    ("viewer", "swipe", "TRUE", "swipe_mode", True),
    ("viewer", "swipe", "yes", "swipe_mode", True),
    ("viewer", "swipe", "1", "swipe_mode", True),
    ("viewer", "swipe", "@ByteArray(true)", "swipe_mode", False),
    ("window", "theme", "neon", "theme", THEMES[0]),
    ("window", "geometry", "not saved state", "window_geometry", None),
    ("window", "geometry", "@ByteArray()", "window_geometry", None),
    ("window", "state", "1, 2", "window_state", None),
    ("folders", "input", "", "input_folder", None),
    ("folders", "input", "/a, /b", "input_folder", None),
    ("folders", "output", "@ByteArray(/x)", "output_folder", None),
    ("training", "data\\kind", "", "training_data_kind", None),
]


@pytest.mark.parametrize("section, key, stored, name, expected", DAMAGED)
def test_a_damaged_value_gives_the_default(tmp_path, section, key, stored, name, expected):
    s = _settings(tmp_path / "s.ini", f"[{section}]\n{key}={stored}\n")
    assert getattr(s, name) == expected


def test_every_choice_is_kept(tmp_path):
    s = _settings(tmp_path / "s.ini")
    for name, choices in [("output_format", OUTPUT_FORMATS), ("output_mode", OUTPUT_MODES),
                          ("backend", BACKENDS), ("theme", THEMES)]:
        for choice in choices:
            setattr(s, name, choice)
            assert getattr(_reopened(s), name) == choice
    for choice in ON_EXISTING:
        s.set_on_existing(choice, tmp_path)
        assert _reopened(s).on_existing(tmp_path) == choice == _reopened(s).on_existing()


def test_a_negative_thread_count_written_reads_as_zero(tmp_path):
    s = _settings(tmp_path / "s.ini")
    s.threads = -2
    assert s.threads == 0 and _reopened(s).threads == 0


def test_recent_lists_put_the_latest_first_once_and_keep_max_recent(tmp_path):
    s = _settings(tmp_path / "s.ini")
    folders = [tmp_path / f"in{i}" for i in range(MAX_RECENT + 3)]
    for folder in folders:
        s.input_folder = folder
    s.input_folder = folders[5]  # again: moves to the front, not listed twice
    expected = [folders[5], *[f for f in reversed(folders) if f != folders[5]]][:MAX_RECENT]
    assert s.recent_input_folders == expected and _reopened(s).recent_input_folders == expected
    assert s.input_folder == folders[5]


def test_choosing_the_default_model_keeps_the_recent_models(tmp_path):
    s = _settings(tmp_path / "s.ini")
    s.model_path = Path("/m/a.keras")
    s.model_path = None
    again = _reopened(s)
    assert again.model_path is None and again.recent_models == [Path("/m/a.keras")]


def test_a_recent_list_of_one_reads_back_as_a_list(tmp_path):
    s = _settings(tmp_path / "s.ini", "[model]\nrecent=/m/one.keras\n")
    assert s.recent_models == [Path("/m/one.keras")]
    assert _settings(tmp_path / "t.ini", "[model]\nrecent=\n").recent_models == []


def test_a_recent_list_can_be_replaced(tmp_path):
    s = _settings(tmp_path / "s.ini")
    s.recent_models = [Path(f"/m/{i}.keras") for i in range(MAX_RECENT + 2)]
    assert _reopened(s).recent_models == [Path(f"/m/{i}.keras") for i in range(MAX_RECENT)]
    assert isinstance(AppSettings.recent_models, Recent)


def test_per_folder_values_are_kept_apart_and_fall_back_to_the_last_choice(tmp_path):
    s = _settings(tmp_path / "s.ini")
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    s.output_folder_for[a] = tmp_path / "a-out"
    s.output_folder_for[b] = tmp_path / "b-out"
    s.set_on_existing("overwrite", a)
    s.set_on_existing("keep-both", b)
    again = _reopened(s)
    assert again.output_folder_for[a] == tmp_path / "a-out" and again.output_folder_for[b] == tmp_path / "b-out"
    assert again.output_folder_for[c] is None
    assert again.on_existing(a) == "overwrite" and again.on_existing(b) == "keep-both"
    assert again.on_existing(c) == "keep-both" == again.on_existing()  # never chosen for: the last choice
    # The key is the folder's resolved path: another spelling of the same folder finds it.
    assert again.output_folder_for[tmp_path / "x" / ".." / "a"] == tmp_path / "a-out"


def test_a_keyed_entry_is_set_one_name_at_a_time(tmp_path):
    s = _settings(tmp_path / "s.ini")
    with pytest.raises(AttributeError):
        s.training_data_source = "x"  # type: ignore[assignment]
    assert isinstance(AppSettings.training_data_source, Keyed)
    s.training_data_source["pairs"] = "a"
    s.training_data_source["digits"] = "b"
    assert (s.training_data_source["pairs"], _reopened(s).training_data_source["digits"]) == ("a", "b")


def test_training_options_read_as_their_defaults_type(tmp_path):
    s = _settings(tmp_path / "s.ini", "[training]\noptions\\epochs=7\noptions\\scale=0.25\n"
                                      "options\\reconstruct=false\noptions\\name=x\n"
                                      "options\\broken=seven\noptions\\rate=nan\n")
    assert s.training_option("epochs", 1) == 7 and isinstance(s.training_option("epochs", 1), int)
    assert s.training_option("scale", 1.0) == 0.25
    assert s.training_option("reconstruct", True) is False
    assert s.training_option("name", "") == "x"
    assert s.training_option("never", 3) == 3
    assert s.training_option("broken", 5) == 5 and s.training_option("broken", 0.5) == 0.5
    assert s.training_option("broken", True) is True  # not a yes or no: the default
    assert s.training_option("epochs", 0.5) == 7.0  # a whole number reads as a float too
    assert s.training_option("scale", 2) == 2  # but a fraction is not a whole number
    assert s.training_option("rate", 1e-3) == 1e-3


def test_a_damaged_architecture_option_is_left_out(tmp_path):
    s = _settings(tmp_path / "s.ini", "[training]\narch_options\\unet\\depth=3\n"
                                      "arch_options\\unet\\width=wide\n")
    assert s.training_arch_options("unet") == {"depth": 3}
    s.set_training_arch_options("unet", {"width": 8})  # replaces the whole set
    assert _reopened(s).training_arch_options("unet") == {"width": 8}
