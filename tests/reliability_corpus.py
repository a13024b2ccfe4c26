"""The reliability corpus: broken pages, hostile model files and faults, each made on the spot.

Every case builds a folder of inputs (good pages beside the bad one) and
says which command to run, which file the message must name, and which exit
codes are right.  tests/test_reliability.py runs them all and prints the table.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PIL import Image

PROJECT = Path(__file__).resolve().parents[1]
# The real data, where the tests find it (tests/conftest.py: $DOCCLEAN_SHARED_DATA or beside the project).
SHARED_DATA = Path(os.environ.get("DOCCLEAN_SHARED_DATA", PROJECT.parent / "shared" / "data"))
GOOD_PAGES = ("noisyoffice-2.png", "noisyoffice-7.png")
BUNDLED_FAST = PROJECT / "resources" / "models" / "docclean-fast.keras"


@dataclass
class Run:
    """One command of a case: its arguments, and what a user must see."""

    argv: list[str]
    named: Optional[str | Path]  # the file (or option) the error must name; None: no error expected
    exit_codes: tuple[int, ...]
    good_pages: Optional[int] = 0  # pages that must be cleaned into ``out`` (None: any, all whole)
    out: Optional[Path] = None
    env: dict = field(default_factory=dict)
    # Run without root's power to write anywhere (a read-only folder means nothing to root).
    drop_root_powers: bool = False
    limit_file_size: Optional[int] = None  # bytes, as a full disk would
    stop_after_first_output: Optional[str] = None  # a signal's name, sent once the first page is written
    after: Optional[Callable[[], None]] = None  # extra checks once it ran


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    build: Callable[[Path], Run]


# ------------------------------------------------------------------ pages

def _good_folder(tmp: Path) -> Path:
    folder = tmp / "scans"
    folder.mkdir(parents=True, exist_ok=True)
    for name in GOOD_PAGES:
        shutil.copy(PROJECT / "resources" / "samples" / name, folder / name)
    return folder


def _page_bytes(fmt: str, size: tuple[int, int] = (120, 90), mode: str = "L") -> bytes:
    image = Image.fromarray((np.random.default_rng(0).random((size[1], size[0])) * 255).astype(np.uint8))
    stream = io.BytesIO()
    image.convert(mode).save(stream, format=fmt)
    return stream.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_declaring(width: int, height: int, pixels: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels)
            + _png_chunk(b"IEND", b""))


def _bomb_png(side: int = 30_000) -> bytes:
    """A PNG of side x side grey pixels that is about 1 MB on disk."""
    squeeze = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * side
    data = b"".join(squeeze.compress(row) for _ in range(side)) + squeeze.flush()
    return _png_declaring(side, side, data)


def _garbage_idat_png() -> bytes:
    return _png_declaring(200, 150, zlib.compress(b"\x07" * 50) + b"\x00garbage" * 40)


def _bad_crc_png() -> bytes:
    data = bytearray(_page_bytes("PNG"))
    data[29 + 8] ^= 0xFF  # a byte inside the IHDR chunk: its CRC no longer matches
    return bytes(data)


def _tiff_with_resolution(value: float) -> bytes:
    stream = io.BytesIO()
    Image.new("L", (64, 48), 200).save(stream, format="TIFF", dpi=(value, value))
    return stream.getvalue()


def _tiff_chain_past_end() -> bytes:
    stream = io.BytesIO()
    first, second = Image.new("L", (64, 48), 220), Image.new("L", (64, 48), 30)
    first.save(stream, format="TIFF", save_all=True, append_images=[second])
    data = bytearray(stream.getvalue())
    first_page = struct.unpack_from("<I", data, 4)[0]
    entries = struct.unpack_from("<H", data, first_page)[0]
    struct.pack_into("<I", data, first_page + 2 + 12 * entries, len(data) + 5000)  # page 2 beyond the end
    return bytes(data)


def _float_tiff_0_255() -> bytes:
    values = np.full((90, 120), 230.0, np.float32)
    values[30:60, 20:100] = 20.0
    stream = io.BytesIO()
    Image.fromarray(values, mode="F").save(stream, format="TIFF")
    return stream.getvalue()


def _page_case(name: str, file_name: str, make: Callable[[], bytes], error: bool = True,
               readable_pages: int = 0) -> Case:
    """The bad (or odd) file beside two good pages: the batch must clean the good ones.

    Without ``error`` the file is odd but valid and must be cleaned too;
    ``readable_pages`` of a damaged multi-page file must be cleaned as well.
    """
    def build(tmp: Path) -> Run:
        folder = _good_folder(tmp)
        bad = folder / file_name
        bad.write_bytes(make())
        out = tmp / "out"
        good = len(GOOD_PAGES) + (readable_pages if error else 1)
        return Run(["denoise", str(folder), "-o", str(out), "--model", "fast"], bad if error else None,
                   (2,) if error else (0,), good_pages=good, out=out)
    return Case(name, "page", build)


def _link_case(name: str, make_link: Callable[[Path], Path]) -> Case:
    def build(tmp: Path) -> Run:
        folder = _good_folder(tmp)
        link = make_link(folder)
        out = tmp / "out"
        return Run(["denoise", str(folder), "-o", str(out), "--model", "fast"], link, (2,),
                   good_pages=len(GOOD_PAGES), out=out)
    return Case(name, "page", build)


def _loop(folder: Path) -> Path:
    link = folder / "loop.png"
    link.symlink_to(link)
    return link


def _dangling(folder: Path) -> Path:
    link = folder / "gone.png"
    link.symlink_to(folder / "deleted-long-ago.png")
    return link


def _folder_named_png(tmp: Path) -> Run:
    folder = _good_folder(tmp)
    odd = tmp / "scan.png"
    odd.mkdir()
    out = tmp / "out"
    return Run(["denoise", str(folder / GOOD_PAGES[0]), str(odd / "missing.png"), str(folder / GOOD_PAGES[1]),
                "-o", str(out), "--model", "fast"], odd / "missing.png", (2,), good_pages=2, out=out)


def _too_wide_for_jpeg(tmp: Path) -> Run:
    folder = _good_folder(tmp)
    (folder / "banner.png").write_bytes(_page_bytes("PNG", size=(65_501, 2)))
    out = tmp / "out"
    return Run(["denoise", str(folder), "-o", str(out), "--model", "fast", "--format", "jpeg"],
               out / "banner_clean.jpg", (2,), good_pages=2, out=out)


def _named_gif(tmp: Path) -> Run:
    folder = _good_folder(tmp)
    gif = tmp / "animation.gif"
    gif.write_bytes(_page_bytes("GIF"))
    out = tmp / "out"
    return Run(["denoise", str(folder), str(gif), "-o", str(out), "--model", "fast"], gif, (2,),
               good_pages=2, out=out)


def _evaluate_truncated(tmp: Path) -> Run:
    source = SHARED_DATA / "noisyoffice"
    for side in ("noisy", "clean"):
        (tmp / side).mkdir()
        for name in ("0.png", "1.png", "10.png"):
            shutil.copy(source / side / name, tmp / side / name)
    damaged = tmp / "noisy" / "1.png"
    damaged.write_bytes(damaged.read_bytes()[:500])
    return Run(["evaluate", "--pairs", str(tmp), "--model", "fast", "--include-seen"], damaged, (2,))


PAGE_CASES = [
    _page_case("empty file", "empty.png", lambda: b""),
    _page_case("text named .png", "notes.png", lambda: b"meeting notes, not a picture\n" * 20),
    _page_case("PNG cut in half", "half.png", lambda: _page_bytes("PNG")[:400]),
    _page_case("PNG with garbage pixel data", "garbage.png", _garbage_idat_png),
    _page_case("PNG with a bad checksum", "crc.png", _bad_crc_png),
    _page_case("JPEG cut in half", "half.jpg", lambda: _page_bytes("JPEG")[:300]),
    _page_case("JPEG with garbage after its header", "garbage.jpg", lambda: _page_bytes("JPEG")[:200] + b"\x13" * 900),
    _page_case("WebP cut in half", "half.webp", lambda: _page_bytes("WEBP")[:120]),
    _page_case("BMP with a broken header", "broken.bmp", lambda: b"BM" + b"\xff" * 60),
    _page_case("PDF cut short", "half.pdf", lambda: _page_bytes("PDF")[:700]),
    _page_case("text named .pdf", "notes.pdf", lambda: b"%PDF-1.4 and then nothing a PDF needs\n" * 5),
    _page_case("PNG declaring 30,000 x 30,000 pixels", "huge.png", _bomb_png),
    _page_case("multi-page TIFF linking past its end", "chain.tif", _tiff_chain_past_end, readable_pages=1),
    _page_case("TIFF with resolution 1e9 (read)", "dpi.tif", lambda: _tiff_with_resolution(1e9), error=False),
    _page_case("float TIFF in 0..255 (read)", "float.tif", _float_tiff_0_255, error=False),
    _page_case("16-bit PNG (read)", "deep.png", lambda: _page_bytes("PNG", mode="I;16"), error=False),
    _page_case("CMYK JPEG (read)", "cmyk.jpg", lambda: _page_bytes("JPEG", mode="CMYK"), error=False),
    _page_case("1 x 1 pixel page (read)", "dot.png", lambda: _page_bytes("PNG", size=(1, 1)), error=False),
    _link_case("symlink loop", _loop),
    _link_case("dangling symlink", _dangling),
    Case("missing file inside a folder named .png", "page", _folder_named_png),
    Case("GIF named on the command line", "page", _named_gif),
    Case("page too wide for a JPEG output", "page", _too_wide_for_jpeg),
    Case("evaluate with one pair cut short", "page", _evaluate_truncated),
]


# ------------------------------------------------------------------ models

def _rewrite_model(target: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    with zipfile.ZipFile(BUNDLED_FAST) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def _edit_config(edit: Callable[[dict], None]) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        config = json.loads(members["config.json"])
        edit(config)
        members["config.json"] = json.dumps(config).encode()
    return change


def _first_conv(config: dict) -> dict:
    return next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Conv2D")


def _activation_os_system(config: dict) -> None:
    _first_conv(config)["config"]["activation"] = "os.system"


def _lambda_layer(config: dict) -> None:
    layer = _first_conv(config)
    layer["class_name"] = "Lambda"
    layer["config"] = {"name": layer["config"]["name"], "function": {
        "class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None}}}


def _nan_weights(members: dict[str, bytes]) -> None:
    import h5py

    stream = io.BytesIO(members["model.weights.h5"])
    with h5py.File(stream, "r+") as weights:
        kernels = []
        weights.visititems(lambda name, item: kernels.append(item) if isinstance(item, h5py.Dataset) else None)
        kernels[0][...] = np.nan
    members["model.weights.h5"] = stream.getvalue()


def _bomb_member(members: dict[str, bytes]) -> None:
    members["padding.bin"] = b"\x00" * (300 << 20)


def _model_case(name: str, make: Callable[[Path], Path]) -> Case:
    def build(tmp: Path) -> Run:
        folder = _good_folder(tmp)
        model = make(tmp)
        out = tmp / "out"
        return Run(["denoise", str(folder), "-o", str(out), "--model", str(model)], model, (1,), out=out)
    return Case(name, "model", build)


def _written(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path
    return make


def _changed(name: str, change: Callable[[dict[str, bytes]], None]) -> Callable[[Path], Path]:
    return lambda tmp: _rewrite_model(tmp / name, change)


def _drop(member: str) -> Callable[[dict[str, bytes]], None]:
    return lambda members: members.pop(member)


MODEL_CASES = [
    _model_case("missing model file", lambda tmp: tmp / "nowhere.keras"),
    _model_case("empty model file", _written("empty.keras", b"")),
    _model_case("model that is not a zip", _written("text.keras", b"not a model at all\n" * 10)),
    _model_case("model cut in half", _written("half.keras", BUNDLED_FAST.read_bytes()[:600_000])),
    _model_case("Keras model without DocClean metadata", _changed("foreign.keras", _drop("docclean.json"))),
    _model_case("model with corrupt metadata", _changed("meta.keras",
                                                        lambda m: m.update({"docclean.json": b"{not json"}))),
    _model_case("model without weights", _changed("noweights.keras", _drop("model.weights.h5"))),
    _model_case("activation os.system", _changed("system.keras", _edit_config(_activation_os_system))),
    _model_case("Lambda layer with code", _changed("lambda.keras", _edit_config(_lambda_layer))),
    _model_case("NaN weights", _changed("nan.keras", _nan_weights)),
    _model_case("zip bomb member", _changed("bomb.keras", _bomb_member)),
]


# ------------------------------------------------------------------ faults

def _output_is_a_file(tmp: Path) -> Run:
    folder = _good_folder(tmp)
    taken = tmp / "cleaned"
    taken.write_text("a file where the output folder should be")
    return Run(["denoise", str(folder), "-o", str(taken), "--model", "fast"], taken, (1,))


def _read_only_output(tmp: Path) -> Run:
    folder = _good_folder(tmp)
    out = tmp / "locked"
    out.mkdir()
    out.chmod(0o555)
    return Run(["denoise", str(folder), "-o", str(out), "--model", "fast"], out, (1,), out=out, drop_root_powers=True)


def _disk_full(tmp: Path) -> Run:
    folder = _good_folder(tmp)
    out = tmp / "out"
    return Run(["denoise", str(folder), "-o", str(out), "--model", "fast"], out / "noisyoffice-2_clean.png", (1,),
               out=out, limit_file_size=20_000)


def _stopped(signal_name: str) -> Callable[[Path], Run]:
    def build(tmp: Path) -> Run:
        folder = tmp / "book"
        folder.mkdir()
        page = SHARED_DATA / "realscans" / "set0002-page-001.jpg"
        # Enough pages that the signal, sent once the first output is there, lands mid-batch on a busy machine.
        for index in range(10):
            shutil.copy(page, folder / f"page{index}.jpg")
        out = tmp / "out"
        return Run(["denoise", str(folder), "-o", str(out), "--model", "fast"], None,
                   (143,) if signal_name == "SIGTERM" else (130,), good_pages=None, out=out,
                   stop_after_first_output=signal_name)
    return build


FAULT_CASES = [
    Case("output folder is a file", "fault", _output_is_a_file),
    Case("read-only output folder", "fault", _read_only_output),
    Case("disk full (20 kB file-size limit)", "fault", _disk_full),
    Case("SIGTERM mid-batch", "fault", _stopped("SIGTERM")),
    Case("Ctrl+C (SIGINT) mid-batch", "fault", _stopped("SIGINT")),
]


# ------------------------------------------------------------------ commands and their options

def _train(option: str, value: str, named: str) -> Callable[[Path], Run]:
    """``docclean train`` with one bad option: refused before any work, naming what is wrong."""
    def build(tmp: Path) -> Run:
        output = tmp / ("model.keras" if option != "-o" else value)
        argv = ["train", "--data", "synthetic", "--arch", "docunet", "--epochs", "1", "-o", str(output)]
        return Run(argv + [option, value] if option != "-o" else argv, named, (1,))
    return build


def _idx(dims: tuple[int, ...], body: bytes) -> bytes:
    return bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + body


def _idx_bomb(tmp: Path) -> Run:
    """MNIST whose training images carry 64 MB of zeros past what their header declares (gzip: 65 kB)."""
    import gzip

    folder = tmp / "mnist"
    folder.mkdir()
    bomb = folder / "train-images-idx3-ubyte.gz"
    with gzip.open(bomb, "wb") as stream:
        stream.write(_idx((60_000, 28, 28), b""))
        for _ in range(60_000 * 28 * 28 // (1 << 20) + 64):
            stream.write(bytes(1 << 20))
    (folder / "train-labels-idx1-ubyte").write_bytes(_idx((60_000,), bytes(60_000)))
    (folder / "t10k-images-idx3-ubyte").write_bytes(_idx((10_000, 28, 28), bytes(10_000 * 784)))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(_idx((10_000,), bytes(10_000)))
    return Run(["train", "--data", "mnist", "--data-folder", str(folder), "--arch", "dense", "--epochs", "1",
                "-o", str(tmp / "digits.keras")], bomb, (1,))


OPTION_CASES = [
    Case("train --steps-per-epoch -1", "option", _train("--steps-per-epoch", "-1", "steps per epoch")),
    Case("train --steps-per-epoch 0", "option", _train("--steps-per-epoch", "0", "steps per epoch")),
    Case("train --batch-size 0", "option", _train("--batch-size", "0", "batch size")),
    Case("train --learning-rate -1", "option", _train("--learning-rate", "-1", "learning rate")),
    Case("train --crop 2000", "option", _train("--crop", "2000", "crop")),
    Case("train --arch-options unknown key", "option", _train("--arch-options", '{"colour": 3}', "colour")),
    Case("train -o model.h5", "option", _train("-o", "model.h5", "model.h5")),
    Case("IDX training file with 64 MB past its data", "data", _idx_bomb),
]

CASES = PAGE_CASES + MODEL_CASES + FAULT_CASES + OPTION_CASES
