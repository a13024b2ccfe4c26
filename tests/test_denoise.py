import hashlib

import numpy as np
import pytest

from engine.options import BatchOptions
from engine.io import read_page, to_uint8
from engine.evaluation import metrics
from engine.data import pairs
from engine.cleaning.batch import iter_denoise
from engine.cleaning.denoiser import Denoiser
from engine.cleaning.tiling import plan_tiles
from engine.progress import CancelToken, Cancelled


@pytest.fixture(scope="module")
def denoiser():
    return Denoiser.from_file()  # the bundled default model


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_stitched_tiles_equal_the_whole_page(denoiser, noisyoffice_dir, monkeypatch):
    page = read_page(noisyoffice_dir / "noisy" / "0.png").pixels
    big = np.tile(page, (3, 3))[:1100, :1300]
    # Small cores force a 3 x 3 grid of tiles with seams inside the page.
    monkeypatch.setattr(denoiser.backend, "tile_pixels", 700 ** 2)
    plan = plan_tiles(*big.shape, denoiser.geometry, denoiser.backend.tile_pixels)
    assert plan.rows > 1 and plan.cols > 1
    tiled = denoiser.denoise(big)
    whole = denoiser.denoise_whole(big)
    assert tiled.shape == big.shape and tiled.dtype == np.float32
    assert np.abs(tiled - whole).max() <= 1 / 255


def test_uint8_pages_come_back_as_uint8(denoiser):
    page = np.full((45, 61), 200, np.uint8)
    page[10:20, 10:50] = 30
    out = denoiser.denoise(page)
    assert out.dtype == np.uint8 and out.shape == page.shape


def test_odd_and_tiny_pages_keep_their_size(denoiser):
    for shape in [(1, 1), (7, 300), (300, 9), (257, 259)]:
        assert denoiser.denoise(np.full(shape, 0.8, np.float32)).shape == shape


def test_no_retracing_from_page_to_page():
    denoiser = Denoiser.from_file(backend="keras")
    for shape in [(100, 120), (260, 540), (420, 540), (333, 71)]:
        denoiser.denoise(np.full(shape, 0.9, np.float32))
    # One graph serves every tile shape.
    assert denoiser.backend._run.experimental_get_tracing_count() == 1


def test_denoise_samples_one_output_per_page_inputs_untouched(denoiser, samples_dir, tmp_path):
    inputs = sorted(samples_dir.glob("*.png"))
    before = {p: _digest(p) for p in inputs}
    results = list(iter_denoise([samples_dir], tmp_path, denoiser))
    assert len(results) == len(inputs) and all(r.ok for r in results)
    for result in results:
        original = read_page(result.ref).pixels
        cleaned = read_page(result.output).pixels
        assert cleaned.shape == original.shape
    assert {p: _digest(p) for p in inputs} == before


def test_output_folder_may_be_the_input_folder(denoiser, samples_dir, tmp_path):
    source = tmp_path / "scan.png"
    source.write_bytes((samples_dir / "noisyoffice-2.png").read_bytes())
    digest = _digest(source)
    first = list(iter_denoise([tmp_path], tmp_path, denoiser))
    again = list(iter_denoise([source], tmp_path, denoiser, BatchOptions(existing="keep-both")))
    assert _digest(source) == digest
    assert first[0].output.name == "scan_clean.png"
    # Cleaning again keeping both never replaces the first run's output.
    assert again[0].output.name == "scan_clean-1.png" and first[0].output.exists()


def test_a_bad_file_fails_by_name_and_the_batch_goes_on(denoiser, samples_dir, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.png").write_bytes((samples_dir / "noisyoffice-7.png").read_bytes())
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (folder / "c.png").write_bytes((samples_dir / "noisyoffice-99.png").read_bytes())
    results = list(iter_denoise([folder], tmp_path / "out", denoiser, BatchOptions(fmt="tiff")))
    assert [r.ok for r in results] == [True, False, True]
    assert "b.png" in str(results[1].error)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_clean.tif", "c_clean.tif"]


def test_every_page_of_a_multipage_tiff_and_dpi_kept(denoiser, samples_dir, tmp_path):
    pages = [read_page(samples_dir / name).pixels for name in ("noisyoffice-2.png", "noisyoffice-52.png")]
    from PIL import Image
    frames = [Image.fromarray(to_uint8(p)) for p in pages]
    source = tmp_path / "two.tif"
    frames[0].save(source, save_all=True, append_images=frames[1:], dpi=(300, 300))
    results = list(iter_denoise([source], tmp_path / "out", denoiser, BatchOptions(fmt="png")))
    assert [r.output.name for r in results] == ["two_p1_clean.png", "two_p2_clean.png"]
    for result, page in zip(results, pages):
        written = read_page(result.output)
        assert written.pixels.shape == page.shape
        assert written.dpi == pytest.approx((300, 300), abs=0.5)


def test_cancel_leaves_no_partial_file(denoiser, samples_dir, tmp_path):
    cancel = CancelToken()
    done = []
    with pytest.raises(Cancelled):
        for result in iter_denoise([samples_dir], tmp_path, denoiser, cancel=cancel):
            done.append(result)
            cancel.cancel()
    # The page written while the first was being reported is reported too; nothing else exists.
    assert 1 <= len(done) <= 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(r.output.name for r in done)


@pytest.mark.slow
def test_bundled_model_beats_the_noisy_page_on_held_out_documents(denoiser, noisyoffice_dir):
    found = pairs.find_pairs(noisyoffice_dir)
    _, test = pairs.split_by_document(found.pairs, 0.2, seed=0)
    trained = set(denoiser.info.training["data_description"]["trained_documents"])
    assert not {p.document for p in test} & trained
    noisy_se = cleaned_se = pixels = 0.0
    for pair in test:
        noisy, clean = pairs.load_pair(pair)
        noisy_se += metrics.squared_error_sum(noisy, clean)
        cleaned_se += metrics.squared_error_sum(denoiser.denoise(noisy), clean)
        pixels += clean.size
    noisy_rmse, cleaned_rmse = (noisy_se / pixels) ** 0.5, (cleaned_se / pixels) ** 0.5
    assert noisy_rmse > 0.15
    assert cleaned_rmse < 0.5 * noisy_rmse


def test_bfloat16_and_float32_clean_alike(samples_dir):
    page = read_page(samples_dir / "noisyoffice-7.png").pixels
    full = Denoiser.from_file(backend="keras", precision="float32").denoise(page)
    fast = Denoiser.from_file(backend="keras", precision="bfloat16").denoise(page)
    assert np.sqrt(np.mean((full - fast) ** 2)) < 0.005


def _damaged_inputs(folder, good_page):
    """The three files that used to stop a batch with a traceback, beside a good page."""
    import struct

    from PIL import Image, TiffImagePlugin

    image = Image.fromarray(to_uint8(good_page))
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[282], tags[283], tags[296] = 1e9, 1e9, 2  # XResolution 1e9 dpi
    image.save(folder / "a-huge-resolution.tif", tiffinfo=tags)
    image.save(folder / "b-two-pages.tif", save_all=True, append_images=[image])
    data = bytearray((folder / "b-two-pages.tif").read_bytes())
    first = struct.unpack_from("<I", data, 4)[0]
    entries = struct.unpack_from("<H", data, first)[0]
    struct.pack_into("<I", data, first + 2 + 12 * entries, len(data) + 5000)  # next page past the end
    (folder / "b-two-pages.tif").write_bytes(bytes(data))
    (folder / "c-loop.png").symlink_to(folder / "d-loop.png")
    (folder / "d-loop.png").symlink_to(folder / "c-loop.png")
    image.save(folder / "e-good.png")


def test_damaged_files_fail_by_name_and_the_good_page_is_cleaned(denoiser, samples_dir, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _damaged_inputs(folder, read_page(samples_dir / "noisyoffice-2.png").pixels)
    results = list(iter_denoise([folder], tmp_path / "out", denoiser))
    by_name = {}
    for result in results:
        by_name.setdefault(result.ref.path.name, []).append(result)
    assert all(r.ok for r in by_name["a-huge-resolution.tif"])  # the absurd DPI is dropped, the page kept
    assert by_name["e-good.png"][0].ok
    assert by_name["b-two-pages.tif"][0].ok and not by_name["b-two-pages.tif"][-1].ok
    assert "b-two-pages.tif: cannot read page" in str(by_name["b-two-pages.tif"][-1].error)
    for name in ("c-loop.png", "d-loop.png"):
        assert str(by_name[name][0].error).endswith(f"{name}: a symbolic link that points back to itself")


def test_a_black_page_is_cleaned_with_a_warning(denoiser, samples_dir, tmp_path):
    from engine.io import write_page

    folder = tmp_path / "in"
    folder.mkdir()
    write_page(np.zeros((300, 200), np.uint8), folder / "black.png")
    write_page(np.full((300, 200), 30, np.uint8), folder / "dark.png")
    (folder / "text.png").write_bytes((samples_dir / "noisyoffice-2.png").read_bytes())
    black, dark, text = iter_denoise([folder], tmp_path / "out", denoiser)
    assert black.ok and black.warning == ("the page is black throughout: nothing to clean; check the scan "
                                          "(its output is not the page)")
    assert dark.ok and dark.warning.startswith("the page is dark throughout")
    assert text.ok and text.warning is None
