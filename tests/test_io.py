"""engine.io: every format and mode in, grey float pages out, safe writes, safe names."""
from __future__ import annotations

import io
import re
import struct
import subprocess
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

import engine.io.raster as raster
from engine.io.naming import free_output_path
from engine.vocabulary import OutputFormat
from engine.io import (
    MAX_PAGE_PIXELS,
    ImageReadError,
    ImageWriteError,
    PageRef,
    find_images,
    image_size,
    list_pages,
    read_page,
    read_pages,
    to_uint8,
    write_page,
)


def gradient(height: int = 30, width: int = 40) -> np.ndarray:
    """A uint8 test page whose every row and column differ, so turns and flips show."""
    y, x = np.mgrid[0:height, 0:width]
    return ((x * 5 + y * 2) % 256).astype(np.uint8)


# ---------------------------------------------------------------- formats


def test_reads_real_noisyoffice_pages(noisyoffice_dir: Path) -> None:
    noisy = read_page(noisyoffice_dir / "noisy" / "0.png")
    clean = read_page(noisyoffice_dir / "clean" / "0.png")
    assert noisy.pixels.dtype == np.float32 and clean.pixels.dtype == np.float32
    assert noisy.pixels.shape == clean.pixels.shape == (420, 540)
    for page in (noisy, clean):
        assert 0.0 <= page.pixels.min() and page.pixels.max() <= 1.0
    expected = np.asarray(Image.open(noisyoffice_dir / "clean" / "0.png"), dtype=np.float32) / 255
    np.testing.assert_array_equal(clean.pixels, expected)
    assert noisy.ref == PageRef(noisyoffice_dir / "noisy" / "0.png", 0, 1)


@pytest.mark.parametrize("suffix, options", [(".png", {}), (".bmp", {}), (".webp", {"lossless": True}), (".tif", {})])
def test_lossless_formats_round_trip(tmp_path: Path, suffix: str, options: dict) -> None:
    pixels = gradient()
    path = tmp_path / f"page{suffix}"
    Image.fromarray(pixels, "L").save(path, **options)
    page = read_page(path)
    assert page.pixels.shape == pixels.shape
    np.testing.assert_array_equal(to_uint8(page.pixels), pixels)


def test_jpeg_is_read_close_to_original(tmp_path: Path) -> None:
    pixels = np.repeat(np.linspace(0, 255, 64, dtype=np.uint8)[None, :], 48, axis=0)
    path = tmp_path / "scan.JPG"
    Image.fromarray(pixels, "L").save(path, quality=95)
    page = read_page(path)
    assert page.pixels.shape == (48, 64)
    assert np.abs(page.pixels - pixels / 255).max() < 0.03


def test_multipage_tiff_gives_every_page(tmp_path: Path) -> None:
    path = tmp_path / "scan.tif"
    frames = [Image.fromarray(np.full((20, 30), v, np.uint8), "L") for v in (0, 100, 200)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    refs = list_pages(path)
    assert [r.index for r in refs] == [0, 1, 2] and all(r.count == 3 for r in refs)
    assert refs[1].label == "scan.tif [page 2/3]" and refs[1].stem == "scan_p2"
    pages = read_pages(path)
    assert [round(float(p.pixels.mean()) * 255) for p in pages] == [0, 100, 200]
    assert read_page(refs[2]).pixels.mean() == pytest.approx(200 / 255)
    assert read_page(path, 1).ref == refs[1]
    with pytest.raises(ImageReadError, match="has no page 4"):
        read_page(path, 3)


def test_single_page_names() -> None:
    ref = PageRef(Path("/x/scan.tif"), 0, 1)
    assert ref.label == "scan.tif" and ref.stem == "scan"


def test_exif_rotated_jpeg_comes_out_upright(tmp_path: Path) -> None:
    stored = np.full((20, 40), 255, np.uint8)
    stored[:5, :5] = 0  # dark mark in the stored top-left corner
    image = Image.fromarray(stored, "L")
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "phone.jpg"
    image.save(path, exif=exif, quality=95, dpi=(300, 150))
    page = read_page(path)
    assert page.pixels.shape == (40, 20)
    assert image_size(path) == (40, 20)
    # Turning clockwise moves the stored top-left corner to the top-right.
    assert page.pixels[:5, -5:].mean() < 0.2 and page.pixels[:5, :5].mean() > 0.8
    assert page.dpi == pytest.approx((150, 300))


# ---------------------------------------------------------------- colour modes


def test_rgba_is_composited_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[:, :5, 3] = 255  # left half opaque black, right half transparent black
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    pixels = read_page(path).pixels
    assert pixels[:, :5].max() == 0.0 and pixels[:, 5:].min() == 1.0


def test_la_half_transparent_is_mid_grey(tmp_path: Path) -> None:
    la = np.zeros((4, 4, 2), np.uint8)
    la[..., 1] = 128
    path = tmp_path / "la.png"
    Image.fromarray(la, "LA").save(path)
    assert read_page(path).pixels.mean() == pytest.approx(127 / 255, abs=1.5 / 255)


def test_palette_and_palette_transparency(tmp_path: Path) -> None:
    image = Image.new("P", (6, 6), 0)
    image.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    image.paste(1, (0, 0, 3, 6))
    path = tmp_path / "palette.png"
    image.save(path)
    pixels = read_page(path).pixels
    assert pixels[:, :3].min() == 1.0 and pixels[:, 3:].max() == 0.0
    image.save(path, transparency=0)  # black entry becomes transparent -> paper
    assert read_page(path).pixels.min() == 1.0


def test_16_bit_is_scaled_by_65535(tmp_path: Path) -> None:
    values = np.array([[0, 1000, 65535, 32768]], np.uint16)
    for suffix in (".png", ".tif"):
        path = tmp_path / f"deep{suffix}"
        Image.fromarray(values).save(path)  # uint16 -> mode I;16
        pixels = read_page(path).pixels
        np.testing.assert_allclose(pixels, values / 65535, atol=1e-7)


def test_one_bit_float_and_cmyk(tmp_path: Path) -> None:
    bits = Image.fromarray(np.array([[0, 255, 0, 255]], np.uint8), "L").convert("1")
    bits.save(tmp_path / "bits.png")
    np.testing.assert_array_equal(read_page(tmp_path / "bits.png").pixels, [[0, 1, 0, 1]])
    floats = Image.fromarray(np.array([[-0.5, 0.25, 1.2]], np.float32), "F")  # a little overshoot
    floats.save(tmp_path / "float.tif")
    np.testing.assert_allclose(read_page(tmp_path / "float.tif").pixels, [[0, 0.25, 1]])
    Image.new("CMYK", (4, 4), (0, 0, 0, 0)).save(tmp_path / "cmyk.jpg")
    assert read_page(tmp_path / "cmyk.jpg").pixels.min() > 0.95


@pytest.mark.parametrize("white", [1.0, 255.0, 65535.0])
def test_float_tiff_range_is_judged_from_its_values(tmp_path: Path, white: float) -> None:
    path = tmp_path / "float.tif"
    Image.fromarray((gradient() / 255 * white).astype(np.float32), "F").save(path)
    np.testing.assert_allclose(read_page(path).pixels, gradient() / 255, atol=1e-6)
    np.testing.assert_array_equal(read_page(path, dtype=np.uint8).pixels, gradient())


def test_float_tiff_nan_is_paper_and_infinity_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "float.tif"
    Image.fromarray(np.array([[np.nan, 51.0, 255.0, np.inf, -np.inf]], np.float32), "F").save(path)
    np.testing.assert_allclose(read_page(path).pixels, [[1, 0.2, 1, 1, 0]])


def _colour_page() -> np.ndarray:
    page = gradient()
    return np.dstack([page, page[::-1], 255 - page, np.where(page > 128, 255, 60).astype(np.uint8)])


@pytest.mark.parametrize("mode, suffix", [("RGB", ".png"), ("RGBA", ".png"), ("P", ".png"), ("CMYK", ".jpg"),
                                          ("F", ".tif"), ("I;16", ".png")])
def test_conversion_in_strips_equals_the_whole(tmp_path: Path, monkeypatch, mode: str, suffix: str) -> None:
    # Huge pages are converted to grey a few rows at a time; the result must not depend on it.
    colour = Image.fromarray(_colour_page(), "RGBA")
    image = {"RGB": colour.convert("RGB"), "RGBA": colour, "CMYK": colour.convert("CMYK"),
             "P": colour.convert("RGB").convert("P"), "F": Image.fromarray(gradient().astype(np.float32) * 3, "F"),
             "I;16": Image.fromarray(gradient().astype(np.uint16) * 250)}[mode]
    path = tmp_path / f"page{suffix}"
    image.save(path, **({"transparency": 5} if mode == "P" else {}))
    whole = [read_page(path, dtype=dtype).pixels for dtype in (np.float32, np.uint8)]
    monkeypatch.setattr(raster, "_STRIP_PIXELS", 100)  # bands of 2 rows of 40 pixels
    for dtype, expected in zip((np.float32, np.uint8), whole):
        np.testing.assert_array_equal(read_page(path, dtype=dtype).pixels, expected)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_undone_as_pillow_does(tmp_path: Path, orientation: int) -> None:
    image = Image.fromarray(gradient(), "L")
    exif = image.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "turned.png"
    image.save(path, exif=exif)
    with Image.open(path) as stored:
        expected = np.asarray(ImageOps.exif_transpose(stored))
    np.testing.assert_array_equal(read_page(path, dtype=np.uint8).pixels, expected)
    assert image_size(path) == expected.shape


# ---------------------------------------------------------------- reading errors


def test_read_errors_name_the_file(tmp_path: Path) -> None:
    junk = tmp_path / "notes.png"
    junk.write_bytes(b"this is not an image at all")
    with pytest.raises(ImageReadError) as info:
        read_page(junk)
    assert str(junk) in str(info.value) and "not an image" in str(info.value)

    missing = tmp_path / "gone.png"
    with pytest.raises(ImageReadError, match="no such file or folder") as info:
        list_pages(missing)
    assert str(missing) in str(info.value)

    odd = tmp_path / "data.xyz"
    odd.write_bytes(b"x")
    with pytest.raises(ImageReadError, match=r"unsupported format \.xyz"):
        read_page(odd)


def test_truncated_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8), "L").save(path)
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(ImageReadError) as info:
        read_page(path)
    assert str(path) in str(info.value) and "truncated" in str(info.value)


# Words of Python rather than of the file: a reason must never show them.
PYTHON_WORDS = re.compile(r"Error\b|Exception|Traceback|<class|struct|index out of range|NoneType|object at 0x")


def _png_chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    checksum = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)


def _png(width: int, height: int, idat: bytes, bit_depth: int = 8, crc: int | None = None) -> bytes:
    """A grey PNG declaring width x height, with ``idat`` as its (compressed) pixel data."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat, crc)
            + _png_chunk(b"IEND", b""))


def _zero_rows(rows: int, row_bytes: int) -> bytes:
    """zlib stream of ``rows`` PNG rows of zeros (filter byte included), made without holding them all."""
    squeeze = zlib.compressobj(1)
    row = bytes(row_bytes + 1)
    return b"".join(squeeze.compress(row) for _ in range(rows)) + squeeze.flush()


def test_huge_scan_header_is_accepted_without_bomb_warning(tmp_path: Path) -> None:
    # Only the header of a 20000 x 20000 page (400 MP, the budget): opening it must not warn or refuse.
    path = tmp_path / "huge.png"
    path.write_bytes(_png(20000, 20000, zlib.compress(b"\x00"), bit_depth=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list_pages(path)) == 1
        assert image_size(path) == (20000, 20000)
    assert 20000 * 20000 <= MAX_PAGE_PIXELS
    # Pillow's own bomb limit never stops a page within the budget.
    assert Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS >= MAX_PAGE_PIXELS


def _garbage_idat() -> bytes:
    return _png(120, 90, np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())


def _bad_checksum_idat() -> bytes:
    return _png(120, 90, zlib.compress(bytes(121 * 90)), crc=12345)


def _cut_zlib_stream() -> bytes:
    noise = np.random.default_rng(2).integers(0, 256, 121 * 90, dtype=np.uint8).tobytes()
    whole = zlib.compress(noise)
    return _png(120, 90, whole[: len(whole) // 2])


def _file_cut_inside_idat() -> bytes:
    stream = io.BytesIO()
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (90, 120), dtype=np.uint8)).save(stream, "PNG")
    return stream.getvalue()[:5000]


@pytest.mark.parametrize("make, reason", [
    (_garbage_idat, "corrupt image data"),
    (_bad_checksum_idat, "corrupt image data (the pixel data fails its checksum)"),
    (_cut_zlib_stream, "corrupt image data"),
    (_file_cut_inside_idat, "truncated file"),
])
def test_damaged_png_pixel_data_is_refused_not_read_as_a_blank_page(tmp_path: Path, make, reason: str) -> None:
    path = tmp_path / "damaged.png"
    path.write_bytes(make())
    for dtype in (np.float32, np.uint8):
        with pytest.raises(ImageReadError) as info:
            read_page(path, dtype=dtype)
        assert str(info.value).startswith(f"{path}: {reason}")
        assert not PYTHON_WORDS.search(info.value.reason)
    assert image_size(path) == (90, 120)  # the header alone is sound
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("fmt, suffix, options", [
    ("JPEG", ".jpg", {}), ("TIFF", ".tif", {}), ("TIFF", ".tif", {"compression": "tiff_deflate"}),
    ("WEBP", ".webp", {"lossless": True}), ("BMP", ".bmp", {}),
])
def test_cut_files_are_refused_in_every_format(tmp_path: Path, fmt: str, suffix: str, options: dict) -> None:
    stream = io.BytesIO()
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (200, 200), dtype=np.uint8)).save(stream, fmt, **options)
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(stream.getvalue()[: len(stream.getvalue()) * 6 // 10])
    with pytest.raises(ImageReadError) as info:
        read_pages(path)
    assert str(info.value).startswith(str(path)) and not PYTHON_WORDS.search(info.value.reason)


def _patch_tiff(path: Path, values: dict[int, int], types: dict[int, int] | None = None, page: int = 0) -> None:
    """Overwrite tag values (and types) in page ``page`` of the little-endian TIFF at ``path``."""
    data = bytearray(path.read_bytes())
    ifd = struct.unpack_from("<I", data, 4)[0]
    for _ in range(page):
        ifd = struct.unpack_from("<I", data, ifd + 2 + 12 * struct.unpack_from("<H", data, ifd)[0])[0]
    for entry in range(ifd + 2, ifd + 2 + 12 * struct.unpack_from("<H", data, ifd)[0], 12):
        tag, kind = struct.unpack_from("<HH", data, entry)
        if tag in values:
            struct.pack_into("<H" if kind == 3 else "<I", data, entry + 8, values[tag])
        if tag in (types or {}):
            struct.pack_into("<H", data, entry + 2, types[tag])
    path.write_bytes(bytes(data))


IMAGE_WIDTH, IMAGE_LENGTH, STRIP_OFFSETS, ROWS_PER_STRIP = 256, 257, 273, 278
DOUBLE = 12


@pytest.mark.parametrize("values, types, reason", [
    # One damaged byte makes 24 rows of data a page of 2,400 rows: not a page of black below them.
    ({IMAGE_LENGTH: 2400}, None, "corrupt image data (the pixel data covers only part of the page)"),
    ({ROWS_PER_STRIP: 0}, None, "corrupt image data (the pixel data covers only part of the page)"),
    # Strip offsets stored as floating point numbers (Pillow raised a TypeError).
    ({}, {STRIP_OFFSETS: DOUBLE}, "corrupt image data"),
])
def test_tiff_with_hostile_tags_is_refused_in_words(tmp_path: Path, values: dict, types: dict, reason: str) -> None:
    path = tmp_path / "odd.tif"
    Image.fromarray(gradient(24, 32)).save(path)
    _patch_tiff(path, values, types)
    with pytest.raises(ImageReadError) as info:
        read_page(path)
    assert str(info.value) == f"{path}: {reason}"


def test_keyboard_interrupt_is_never_turned_into_a_read_error(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "page.png"
    Image.fromarray(gradient()).save(path)

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(ImageFile.ImageFile, "load", interrupted)
    with pytest.raises(KeyboardInterrupt):
        read_page(path)

    def exhausted(self):
        raise MemoryError

    monkeypatch.setattr(ImageFile.ImageFile, "load", exhausted)
    with pytest.raises(ImageReadError, match="page.png: not enough memory to decode this page"):
        read_page(path)


# ---------------------------------------------------------------- the pixel budget


LIMIT_WORDS = "is over the 400-megapixel limit for one page; split or downscale it"


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory) -> Path:
    """A real 30,000 x 30,000 1-bit PNG of zeros: 100 KB on disk, 900 MB decoded."""
    path = tmp_path_factory.mktemp("huge") / "huge.png"
    path.write_bytes(_png(30000, 30000, _zero_rows(30000, 3750), bit_depth=1))
    return path


def test_page_over_the_budget_is_refused_from_its_header(huge_png: Path, monkeypatch) -> None:
    # "From its header": no pixel decoder is ever made (every decode of a PNG, TIFF, JPEG... starts
    # with one), and the refusal costs this thread next to no CPU time, however busy the machine
    # (decoding the 900 MB page takes seconds of it).
    decoders = []
    make_decoder = Image._getdecoder
    monkeypatch.setattr(Image, "_getdecoder", lambda *args: decoders.append(args) or make_decoder(*args))
    for read in (list_pages, image_size, read_page, read_pages):
        started = time.thread_time()
        with pytest.raises(ImageReadError) as info:
            read(huge_png)
        cpu_seconds = time.thread_time() - started
        # Pillow itself refuses over twice its limit (kept at the budget), before the size is known.
        assert str(info.value) == f"{huge_png}: 900 megapixels {LIMIT_WORDS}"
        assert decoders == [], f"{read.__name__} decoded pixels of a page it must refuse"
        assert cpu_seconds < 0.25, f"{read.__name__} took {cpu_seconds:.2f} s of CPU to refuse the page"


def test_refusing_a_huge_page_costs_little_memory(huge_png: Path) -> None:
    # In a fresh process, so the peak is the refusal's own (decoding it would take over 900 MB).
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent (this big test process).
    code = (
        "import re, sys\n"
        "from engine.io import ImageReadError, read_page\n"
        "try:\n    read_page(sys.argv[1])\nexcept ImageReadError as error:\n    print(error)\n"
        "status = open('/proc/self/status').read()\n"
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(huge_png)], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    message, peak_mb = done.stdout.splitlines()
    assert message.endswith(LIMIT_WORDS)
    assert int(peak_mb) < 200


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_page_just_over_the_budget_is_refused_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "large.png"
    path.write_bytes(_png(25000, 20001, zlib.compress(b"\x00"), bit_depth=1))
    for read in (list_pages, image_size, read_page):
        with pytest.raises(ImageReadError) as info:
            read(path)
        assert str(info.value) == f"{path}: 501 megapixels (25000 x 20001) {LIMIT_WORDS}"


def test_only_the_huge_page_of_a_multipage_tiff_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "book.tif"
    frames = [Image.fromarray(gradient()), Image.fromarray(gradient()[::-1])]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    _patch_tiff(path, {IMAGE_WIDTH: 30000, IMAGE_LENGTH: 30000}, page=1)
    refs = list_pages(path)
    assert len(refs) == 2
    np.testing.assert_array_equal(read_page(refs[0], dtype=np.uint8).pixels, gradient())
    for read in (lambda: image_size(path, 1), lambda: read_page(refs[1])):
        with pytest.raises(ImageReadError) as info:
            read()
        assert str(info.value) == f"{path}: 900 megapixels (30000 x 30000) {LIMIT_WORDS}"


# ---------------------------------------------------------------- hostile bytes


def _seed_files() -> dict[str, bytes]:
    """Small valid files of every format and several modes, to damage."""
    page, colour = gradient(24, 32), _colour_page()[:24, :32]
    exif = Image.new("L", (1, 1)).getexif()
    exif[0x0112] = 6
    images = {
        "grey.png": (Image.fromarray(page), {}),
        "palette.png": (Image.fromarray(page).convert("P"), {"transparency": 3}),
        "exif.png": (Image.fromarray(page), {"exif": exif, "dpi": (300, 300)}),
        "deep.png": (Image.fromarray(page.astype(np.uint16) * 257), {}),
        "colour.jpg": (Image.fromarray(colour[..., :3]), {"exif": exif, "dpi": (300, 300)}),
        "cmyk.jpg": (Image.fromarray(colour[..., :3]).convert("CMYK"), {}),
        "bits.tif": (Image.fromarray(page > 100), {"compression": "group4"}),
        "float.tif": (Image.fromarray(page.astype(np.float32)), {}),
        "book.tif": (Image.fromarray(page), {"save_all": True, "append_images": [Image.fromarray(colour)]}),
        "colour.bmp": (Image.fromarray(colour[..., :3]), {}),
        "alpha.webp": (Image.fromarray(colour), {"exif": exif}),
    }
    files = {}
    for name, (image, options) in images.items():
        stream = io.BytesIO()
        image.save(stream, Image.registered_extensions()[Path(name).suffix], **options)
        files[name] = stream.getvalue()
    return files


def _damaged(data: bytes, rng: np.random.Generator) -> bytes:
    """``data`` with a few bytes changed (mostly in the header, where parsers trip) and sometimes cut short."""
    data = bytearray(data)
    reach = len(data) if rng.random() < 0.3 else min(len(data), 300)
    for _ in range(rng.integers(1, 4)):
        where = int(rng.integers(0, reach))
        data[where] = int(rng.integers(0, 256)) if rng.random() < 0.5 else data[where] ^ (1 << int(rng.integers(0, 8)))
    if rng.random() < 0.25:
        data = data[: int(rng.integers(1, len(data)))]
    return bytes(data)


def test_hostile_bytes_give_a_page_or_a_read_error_and_nothing_else(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    seeds = _seed_files()
    outcomes = {"read": 0, "refused": 0}
    for number in range(220):
        name = list(seeds)[number % len(seeds)]
        path = tmp_path / f"{number}-{name}"
        path.write_bytes(_damaged(seeds[name], rng))
        for read in (list_pages, image_size, read_page, read_pages):
            try:
                result = read(path)
            except ImageReadError as error:
                assert str(error).startswith(f"{path}: ") and not PYTHON_WORDS.search(error.reason), error
                outcomes["refused"] += 1
            else:
                outcomes["read"] += 1
                if read is read_page:
                    assert result.pixels.ndim == 2 and result.pixels.dtype == np.float32
                    assert np.isfinite(result.pixels).all()
    assert outcomes["read"] and outcomes["refused"]


# ---------------------------------------------------------------- writing


def test_to_uint8_rounds_and_clips() -> None:
    np.testing.assert_array_equal(to_uint8(np.array([-1, 0, 0.5, 1 / 255 * 0.6, 1, 7.0])), [0, 0, 128, 1, 255, 255])
    with pytest.raises(ValueError, match="NaN"):
        to_uint8(np.array([np.nan]))


@pytest.mark.parametrize("name", ["out.png", "out.tif", "out.tiff", "out.jpg", "out.jpeg"])
def test_write_keeps_pixels_and_dpi(tmp_path: Path, name: str) -> None:
    pixels = gradient() / 255
    path = write_page(pixels, tmp_path / name, dpi=(300, 300))
    assert path == tmp_path / name
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary left behind
    page = read_page(path)
    assert page.dpi == pytest.approx((300, 300), abs=0.01)
    difference = np.abs(to_uint8(page.pixels).astype(int) - to_uint8(pixels))
    assert difference.max() <= (12 if name.endswith(("jpg", "jpeg")) else 0)
    with Image.open(path) as image:
        assert image.mode == "L"


def test_write_accepts_channel_axis_and_creates_folder(tmp_path: Path) -> None:
    path = write_page(np.zeros((5, 6, 1), np.float32), tmp_path / "new" / "x.png")
    assert read_page(path).pixels.shape == (5, 6)


def test_write_refuses_bad_input_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match=r"out\.gif: unsupported output format \.gif"):
        write_page(np.zeros((4, 4)), tmp_path / "out.gif")
    with pytest.raises(ImageWriteError, match="NaN"):
        write_page(np.full((4, 4), np.nan), tmp_path / "nan.png")
    with pytest.raises(ImageWriteError, match="shape"):
        write_page(np.zeros((4, 4, 2)), tmp_path / "two_channels.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failed_write_leaves_nothing_and_keeps_old_file(tmp_path: Path, monkeypatch, failure) -> None:
    old = tmp_path / "kept.png"
    write_page(np.ones((4, 4)), old)
    before = old.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half an image")
        raise failure

    monkeypatch.setattr(Image.Image, "save", broken_save)
    for target in (tmp_path / "fresh.png", old):
        expected = ImageWriteError if isinstance(failure, OSError) else KeyboardInterrupt
        with pytest.raises(expected) as info:
            write_page(np.zeros((4, 4)), target)
        if expected is ImageWriteError:
            assert str(target) in str(info.value) and "disk is full" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.png"]
    assert old.read_bytes() == before


# ---------------------------------------------------------------- finding inputs, naming outputs


def test_find_images_natural_order_skips_hidden_and_partial(tmp_path: Path) -> None:
    for name in ["10.png", "2.png", "1.JPG", "notes.txt", ".hidden.png", ".x.png.partial-ab12", "b.tiff"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "3.webp").write_bytes(b"")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "4.png").write_bytes(b"")
    names = [p.relative_to(tmp_path).as_posix() for p in find_images([tmp_path])]
    assert names == ["1.JPG", "2.png", "10.png", "b.tiff", "sub/3.webp"]
    assert "sub/3.webp" not in [p.relative_to(tmp_path).as_posix() for p in find_images([tmp_path], recursive=False)]


def test_find_images_passes_named_files_through_once(tmp_path: Path) -> None:
    odd = tmp_path / "scan.xyz"
    odd.write_bytes(b"")
    (tmp_path / "a.png").write_bytes(b"")
    found = find_images([odd, tmp_path / "a.png", tmp_path])
    assert found == [odd, tmp_path / "a.png"]
    with pytest.raises(ImageReadError, match="scan.xyz: unsupported format"):
        read_page(found[0])


def test_free_output_path_never_returns_an_input(tmp_path: Path) -> None:
    source = tmp_path / "page.png"
    write_page(np.ones((4, 4)), source)
    # Same folder, same name, same format: the natural name is the input itself.
    for overwrite in (False, True):
        chosen = free_output_path(tmp_path / "page", "png", overwrite=overwrite, protected=[source])
        assert chosen.name == "page-1.png"
    base = tmp_path / "page_clean"
    first = free_output_path(base, "png")
    assert first.name == "page_clean.png"
    first.write_bytes(b"")
    assert free_output_path(base, "png").name == "page_clean-1.png"
    (tmp_path / "page_clean-1.png").write_bytes(b"")
    assert free_output_path(base, "png").name == "page_clean-2.png"
    assert free_output_path(base, "png", overwrite=True) == first
    # Protected paths compare resolved, so another spelling of the input is caught too.
    other_spelling = tmp_path / "sub" / ".." / "page.png"
    assert free_output_path(tmp_path / "page", "png", protected=[other_spelling]).name == "page-1.png"


def test_free_output_path_formats(tmp_path: Path) -> None:
    base = tmp_path / "out" / "book_p2_clean"
    assert free_output_path(base, "tiff").name == "book_p2_clean.tif"
    assert free_output_path(base, "jpeg").name == "book_p2_clean.jpg"
    with pytest.raises(ValueError, match="output format must be one of png, tiff, jpeg, pdf"):
        free_output_path(base, "gif")
    assert [fmt.value for fmt in OutputFormat] == ["png", "tiff", "jpeg", "pdf"]


def test_libtiff_prints_nothing_while_a_damaged_tiff_is_read(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    page = Image.fromarray(((np.indices((200, 300)).sum(axis=0) // 7) % 2 * 255).astype(np.uint8)).convert("1")
    encoded = io.BytesIO()
    page.save(encoded, format="TIFF", compression="group4")
    damaged = bytearray(encoded.getvalue())
    for index in range(10, 200):  # the Group 4 data: libtiff's decoder meets bad code words
        damaged[index] ^= 0x5A
    path = tmp_path / "damaged.tif"
    path.write_bytes(bytes(damaged))
    capfd.readouterr()
    try:
        read_page(path)
    except ImageReadError:
        pass  # reported by name, as any damage; what matters here is what reached stderr
    assert capfd.readouterr().err == ""
