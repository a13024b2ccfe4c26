"""Property-based tests (hypothesis): whatever bytes, folders or options come in, a sentence or a result.

Untrusted inputs here are IDX files, folders of noisy/clean pairs and the
training options a user types.  Each property says: the input is used, or it
is refused with the reader's own error naming the file or option, never
another exception, a traceback, a Python name or a hang.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import struct
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cli.main import main
from engine.data.idx import IdxFormatError, read_idx
from engine.data.pairs import find_pairs
from engine.io import ImageReadError
from engine.models import registry
from engine.training.config import MAX_SEED, TrainConfig, resolved

PROJECT = Path(__file__).resolve().parents[1]
SHARED_DATA = os.environ.get("DOCCLEAN_SHARED_DATA", str(PROJECT.parent / "shared" / "data"))
# No example database in the work tree; examples stay small, so a few seconds is a hang.
PROPERTY = settings(max_examples=60, deadline=5000, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

# What a message for people must not contain: exception or type names, reprs of objects.
PYTHON_NAMES = re.compile(r"Error\b|Exception|Traceback|<class|object at 0x|NoneType|\b(str|int|float|dict|list)\b|np\.")


def _written(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _read_or_refuse(path: Path):
    """read_idx's result, or None when it refused the file with IdxFormatError naming it."""
    try:
        return read_idx(path)
    except IdxFormatError as error:
        assert str(error).startswith(f"{path}: ") and "\n" not in str(error)
        return None


# ---------------------------------------------------------------- IDX reader

IDX_CODES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@st.composite
def idx_files(draw) -> tuple[bytes, np.ndarray]:
    """A valid IDX file (header and body) and the array it holds."""
    code = draw(st.sampled_from(sorted(IDX_CODES)))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=4)))
    dtype = np.dtype(IDX_CODES[code])
    body = draw(st.binary(min_size=int(np.prod(shape)) * dtype.itemsize,
                          max_size=int(np.prod(shape)) * dtype.itemsize))
    header = bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    return header + body, np.frombuffer(body, dtype).reshape(shape)


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` cut short, lengthened, or with some bytes changed."""
    kind = draw(st.sampled_from(["cut", "extend", "flip"]))
    if kind == "cut":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if kind == "extend":
        return data + draw(st.binary(min_size=1, max_size=64))
    changed = bytearray(data)
    for at in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=4)):
        changed[at] ^= draw(st.integers(1, 255))
    return bytes(changed)


@PROPERTY
@given(data=st.one_of(st.binary(max_size=256), st.binary(max_size=256).map(lambda b: b"\x1f\x8b" + b)),
       packed=st.booleans())
def test_idx_reader_takes_any_bytes(data: bytes, packed: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        result = _read_or_refuse(_written(Path(folder), "any.idx", gzip.compress(data) if packed else data))
    assert result is None or isinstance(result, np.ndarray)


@PROPERTY
@given(file=idx_files(), packed=st.booleans(), change=st.data())
def test_idx_reader_reads_valid_files_and_refuses_changed_ones(file, packed: bool, change) -> None:
    data, array = file
    with tempfile.TemporaryDirectory() as folder:
        read = read_idx(_written(Path(folder), "good.idx", gzip.compress(data) if packed else data))
        np.testing.assert_array_equal(read, array)
        broken = change.draw(mutated(data))
        compressed = gzip.compress(broken)
        if packed and change.draw(st.booleans()):  # damage the compressed stream itself
            compressed = change.draw(mutated(compressed))
        result = _read_or_refuse(_written(Path(folder), "changed.idx", compressed if packed else broken))
    assert result is None or isinstance(result, np.ndarray)


# ---------------------------------------------------------------- pairs reader

def _png(height: int, width: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((height, width), 200, np.uint8)).save(out, "PNG")
    return out.getvalue()


# Mostly good pages (one damaged page ends the search, so they would hide the rest).
PAGE_CONTENTS = st.integers(0, 5).flatmap(lambda kind: (
    st.sampled_from([(8, 8), (8, 12)]).map(lambda size: _png(*size)) if kind < 4  # some sizes mismatch
    else st.binary(max_size=64) if kind == 4  # damaged, or not an image at all
    else st.sampled_from([8, 40]).map(lambda cut: _png(8, 8)[:cut])))  # a real PNG cut short
NAMES = st.text(alphabet="abAB1_ .-é", min_size=1, max_size=6).filter(lambda n: n not in (".", ".."))
SUFFIXES = st.one_of(st.just(".png"), st.sampled_from([".PNG", ".jpg", ".tif", ".txt", ""]))
# A page: its name, and on each side (noisy, clean) a suffix and content, or nothing.
PAGES = st.lists(st.tuples(NAMES, st.one_of(st.none(), st.tuples(SUFFIXES, PAGE_CONTENTS)),
                           st.one_of(st.none(), st.tuples(SUFFIXES, PAGE_CONTENTS))), max_size=5)
LAYOUTS = {"noisy/clean": ("noisy", "clean", "", ""), "source/target": ("source", "target", "", ""),
           "uci": ("SimulatedNoisyOffice/simulated_noisy_images_grayscale",
                   "SimulatedNoisyOffice/clean_images_grayscale", "_Noisec_TE", "_Clean_TE"),
           "noisy only": ("noisy", None, "", "")}


def _fill(root: Path, layout: str, pages: list) -> None:
    """Write the pages' files; the UCI layout names each side with its NoisyOffice token."""
    noisy_folder, clean_folder, noisy_token, clean_token = LAYOUTS[layout]
    for folder, token, side in ((noisy_folder, noisy_token, 1), (clean_folder, clean_token, 2)):
        if folder is None:
            continue
        (root / folder).mkdir(parents=True)
        for page in pages:
            if page[side] is not None:
                suffix, data = page[side]
                (root / folder / f"{page[0]}{token}{suffix}").write_bytes(data)


def _accounted(report) -> tuple[set, set]:
    left_out = report.size_mismatch + report.unreadable
    noisy = {p.noisy for p in report.pairs} | set(report.unmatched_noisy) | {n for n, _, _ in left_out}
    clean = {p.clean for p in report.pairs} | set(report.unmatched_clean) | {c for _, c, _ in left_out}
    return noisy, clean


def _images_in(folder: Path) -> set:
    return {p for p in folder.iterdir() if not p.name.startswith(".")
            and p.suffix.lower() in (".png", ".jpg", ".tif")}


@PROPERTY
@given(layout=st.sampled_from(sorted(LAYOUTS)), pages=PAGES)
def test_pairs_reader_pairs_or_reports_every_file(layout: str, pages: list) -> None:
    noisy_folder, clean_folder, _, _ = LAYOUTS[layout]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        _fill(root, layout, pages)
        try:
            report = find_pairs(root)
        except (FileNotFoundError, ValueError, ImageReadError) as error:
            message = str(error)
            assert message.startswith(str(root)) and not PYTHON_NAMES.search(message), message
            return
        noisy, clean = _accounted(report)
        assert noisy == _images_in(root / noisy_folder)  # every noisy page paired or reported by name
        assert clean == _images_in(root / clean_folder)
        assert all(p.noisy.parent == root / noisy_folder for p in report.pairs)


# ---------------------------------------------------------------- training options

ANY_VALUE = st.one_of(
    st.integers(-(10**20), 10**20), st.integers(-3, 2000),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(-2, 2),
    st.text(max_size=6), st.none(), st.booleans(),
)
NUMBER_FIELDS = ("steps_per_epoch", "batch_size", "learning_rate", "crop", "epochs", "validation_split",
                 "test_fraction", "patience", "seed", "noise_factor", "max_samples", "validation_crop")
TEXT_FIELDS = ("optimizer", "loss", "lr_schedule", "precision", "init_from")
OPTION_NAMES = st.one_of(st.sampled_from(["width", "depth", "stem", "bottleneck"]), st.text(max_size=4))


@PROPERTY
@given(data=st.sampled_from(["noisyoffice", "synthetic", "mnist", "notmnist", "", "folder/of/pairs"]),
       arch=st.one_of(st.sampled_from(sorted(registry.ARCHITECTURES)), st.text(max_size=4)),
       numbers=st.fixed_dictionaries({}, optional={name: ANY_VALUE for name in NUMBER_FIELDS}),
       texts=st.fixed_dictionaries({}, optional={name: st.one_of(ANY_VALUE, st.sampled_from(
           ["adam", "RMSprop", "mse", "bce", "cosine", "float32", "mixed_bfloat16", "general", "noisyoffice",
            "nowhere.keras", "a\x00b"])) for name in TEXT_FIELDS}),
       options=st.one_of(st.dictionaries(OPTION_NAMES, ANY_VALUE, max_size=3), ANY_VALUE,
                         st.lists(st.integers(), max_size=2)))
def test_training_options_resolve_or_are_refused_in_a_sentence(data, arch, numbers, texts, options) -> None:
    try:
        config = resolved(TrainConfig(data=data, arch=arch, arch_options=options, **numbers, **texts))
    except ValueError as error:
        message = str(error)
        assert message and "\n" not in message and not PYTHON_NAMES.search(message), message
        return
    _assert_trainable(config)


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _assert_trainable(config: TrainConfig) -> None:
    """What a resolved config promises training: whole counts, real rates, known choices."""
    assert _is_whole(config.epochs) and config.epochs >= 1
    assert _is_whole(config.batch_size) and config.batch_size >= 1
    assert _is_whole(config.seed) and 0 <= config.seed <= MAX_SEED
    assert config.learning_rate is None or 0 < config.learning_rate < float("inf")
    assert 0 <= config.validation_split < 1 and 0 <= config.test_fraction < 1
    assert config.optimizer in ("adam", "rmsprop", "adadelta") and config.loss in ("mse", "bce")
    assert all(_is_whole(v) for v in config.arch_options.values())
    if not config.is_digits:
        assert _is_whole(config.crop) and 16 <= config.crop <= 1024
        assert _is_whole(config.steps_per_epoch) and config.steps_per_epoch >= 1


# Values each refused whatever else is typed (for the data each applies to).
NUMBERS = st.one_of(st.sampled_from(["nan", "inf", "-inf", "", "abc", "1.5", "1e9999"]))
BAD_ALWAYS = {
    "--epochs": st.one_of(st.integers(max_value=0), st.integers(min_value=100_001), NUMBERS).map(str),
    "--batch-size": st.one_of(st.integers(max_value=0), NUMBERS).map(str),
    "--learning-rate": st.one_of(st.floats(max_value=0), st.sampled_from(["nan", "inf", "-1", "abc"])).map(str),
    "--validation-split": st.one_of(st.floats(min_value=1), st.floats(max_value=-1e-9),
                                    st.sampled_from(["nan", "inf"])).map(str),
    "--test-fraction": st.one_of(st.floats(min_value=1), st.sampled_from(["nan", "-0.5", "x"])).map(str),
    "--patience": st.one_of(st.integers(max_value=0), NUMBERS).map(str),
    "--seed": st.one_of(st.integers(max_value=-1), st.integers(min_value=MAX_SEED + 1), NUMBERS).map(str),
    "--noise-factor": st.one_of(st.floats(max_value=-1e-9), st.sampled_from(["nan", "inf", "x"])).map(str),
    "--max-samples": st.one_of(st.integers(max_value=0), NUMBERS).map(str),
    "--arch-options": st.one_of(
        st.sampled_from(["{width: 8}", "[1]", "8", "null", '"x"', '{"bogus": 1}', '{"width": 0}',
                         '{"width": 1e999}', '{"width": 8.5}', '{"width": true}', '{"depth": NaN}', "{", " "]),
        # Not "": an empty --arch-options means none, which is valid.
        st.text(min_size=1, max_size=8).filter(lambda t: not t.strip().startswith("{"))),
    "--lr-schedule": st.text(max_size=6).filter(lambda t: t not in ("constant", "cosine")),
}
BAD_FOR_PAGES = {
    "--crop": st.one_of(st.integers(max_value=15), st.integers(min_value=1025), NUMBERS).map(str),
    "--steps-per-epoch": st.one_of(st.integers(max_value=0), st.integers(min_value=1_000_001), NUMBERS).map(str),
    # Also over the memory budget of a batch at the default crop (128).
    "--batch-size": st.one_of(BAD_ALWAYS["--batch-size"], st.integers(min_value=1025, max_value=10**12).map(str)),
}
# Values that are fine, to mix in around the bad one.
GOOD = {"--epochs": "2", "--learning-rate": "0.001", "--validation-split": "0.1", "--seed": "7",
        "--patience": "3", "--noise-factor": "0.3", "--test-fraction": "0.2", "--max-samples": "100"}


@st.composite
def bad_train_arguments(draw) -> list[str]:
    """A `train` command line with at least one refused value (so it can never start training)."""
    pages = draw(st.booleans())
    data = ["--data", "synthetic", "--arch", "docunet"] if pages else \
        ["--data", "mnist", "--data-folder", SHARED_DATA, "--arch", "dense"]
    bad = {**BAD_ALWAYS, **BAD_FOR_PAGES} if pages else BAD_ALWAYS
    option = draw(st.sampled_from(sorted(bad)))
    good = draw(st.lists(st.sampled_from(sorted(set(GOOD) - {option})), unique=True, max_size=3))
    arguments = [*data, "-o", "never.keras", *(a for name in good for a in (name, GOOD[name]))]
    return ["-q", "train", *arguments, f"{option}={draw(bad[option])}"]  # "=": a value may start with "-"


@pytest.fixture
def training_must_not_start(monkeypatch):
    """Replace the trainer: a refused command line must stop before it (and before TensorFlow)."""
    trainer = types.ModuleType("engine.training.fit")

    def train(*args, **kwargs):
        raise AssertionError("a refused command line started training")

    trainer.train = train
    monkeypatch.setitem(sys.modules, "engine.training.fit", trainer)


@settings(PROPERTY, max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(arguments=bad_train_arguments())
def test_a_bad_train_command_line_is_one_error_line(arguments, training_must_not_start) -> None:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(arguments)
        except SystemExit as exit:  # argparse: usage and one "error:" line
            code = exit.code
    lines = stderr.getvalue().strip().splitlines()
    assert code in (1, 2), (arguments, code, lines)
    assert lines and "error: " in lines[-1] and "Traceback" not in stderr.getvalue(), (arguments, lines)
    if code == 1:
        assert len(lines) == 1 and lines[0].startswith("error: ") and not PYTHON_NAMES.search(lines[0]), lines


def test_deeply_nested_arch_options_are_one_error_line(training_must_not_start) -> None:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = main(["-q", "train", "--data", "synthetic", "--arch", "docunet", "-o", "never.keras",
                     "--arch-options", "[" * 100_000])
    assert code == 1 and stderr.getvalue().startswith("error: --arch-options")
