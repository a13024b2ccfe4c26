"""engine.io: every format and mode in, grey float pages out, safe writes, safe names."""
from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.io import (
    OUTPUT_FORMATS,
    ImageReadError,
    ImageWriteError,
    PageRef,
    find_images,
    image_size,
    list_pages,
    output_path,
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
    floats = Image.fromarray(np.array([[-0.5, 0.25, 2.0]], np.float32), "F")
    floats.save(tmp_path / "float.tif")
    np.testing.assert_allclose(read_page(tmp_path / "float.tif").pixels, [[0, 0.25, 1]])
    Image.new("CMYK", (4, 4), (0, 0, 0, 0)).save(tmp_path / "cmyk.jpg")
    assert read_page(tmp_path / "cmyk.jpg").pixels.min() > 0.95


# ---------------------------------------------------------------- reading errors


def test_read_errors_name_the_file(tmp_path: Path) -> None:
    junk = tmp_path / "notes.png"
    junk.write_bytes(b"this is not an image at all")
    with pytest.raises(ImageReadError) as info:
        read_page(junk)
    assert str(junk) in str(info.value) and "not an image" in str(info.value)

    missing = tmp_path / "gone.png"
    with pytest.raises(ImageReadError, match="file not found") as info:
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


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_huge_scan_header_is_accepted_without_bomb_warning(tmp_path: Path) -> None:
    # Only the header of a 20000 x 20000 page: opening it must not warn or refuse.
    path = tmp_path / "huge.png"
    header = struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00"))
        + _png_chunk(b"IEND", b"")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list_pages(path)) == 1
        assert image_size(path) == (20000, 20000)
    assert Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS >= 20000 * 20000


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
        write_page(np.zeros((4, 4, 3)), tmp_path / "rgb.png")
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
            assert str(target) in str(info.value) and "No space left" in str(info.value)
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


def test_output_path_never_returns_an_input(tmp_path: Path) -> None:
    source = tmp_path / "page.png"
    write_page(np.ones((4, 4)), source)
    ref = list_pages(source)[0]
    # Same folder, empty suffix, same format: the natural name is the input itself.
    for overwrite in (False, True):
        chosen = output_path(ref, tmp_path, "png", suffix="", overwrite=overwrite, protected=[source])
        assert chosen.name == "page-1.png"
    first = output_path(ref, tmp_path)
    assert first.name == "page_clean.png"
    first.write_bytes(b"")
    assert output_path(ref, tmp_path).name == "page_clean-1.png"
    (tmp_path / "page_clean-1.png").write_bytes(b"")
    assert output_path(ref, tmp_path).name == "page_clean-2.png"
    assert output_path(ref, tmp_path, overwrite=True) == first
    # Protected paths compare resolved, so another spelling of the input is caught too.
    other_spelling = tmp_path / "sub" / ".." / "page.png"
    assert output_path(ref, tmp_path, suffix="", protected=[other_spelling]).name == "page-1.png"


def test_output_path_formats_and_pages(tmp_path: Path) -> None:
    ref = PageRef(tmp_path / "book.tif", 1, 4)
    assert output_path(ref, tmp_path / "out", "tiff").name == "book_p2_clean.tif"
    assert output_path(ref, tmp_path / "out", "jpeg").name == "book_p2_clean.jpg"
    with pytest.raises(ValueError, match="unknown output format"):
        output_path(ref, tmp_path, "gif")
    assert OUTPUT_FORMATS == ("png", "tiff", "jpeg")
