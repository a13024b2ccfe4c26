"""The first promise: cleaning never loses content, and says so when a page is unfamiliar."""
import numpy as np
import pytest
from PIL import Image

from engine.io import read_page, write_page
from engine.cleaning import ink
from cli.main import main
from engine.cleaning.batch import iter_denoise
from engine.cleaning.denoiser import Denoiser
from engine.cleaning.page import clean_page


@pytest.fixture(scope="module")
def denoiser():
    return Denoiser.from_file()  # the bundled default model


def test_the_blank_model_really_whitens_pages(blank_model, faded_page):
    out = Denoiser.from_file(blank_model).denoise(faded_page)
    assert out.min() == 1.0


def test_safety_flags_a_model_that_returns_a_blank_page(blank_model, tmp_path, faded_page):
    page = tmp_path / "in" / "faded.png"
    write_page(faded_page, page)
    results = list(iter_denoise([page.parent], tmp_path / "out", Denoiser.from_file(blank_model)))
    assert len(results) == 1 and results[0].ok
    assert results[0].warning and "erased 100% of the ink" in results[0].warning
    written = read_page(results[0].output).pixels
    # The ink is back, on white paper.
    assert ink.check_ink(faded_page, written).recall > 0.99
    assert ink.paper_brightness(written) > 0.95


def test_warning_reaches_the_command_line(blank_model, tmp_path, capsys, faded_page):
    page = tmp_path / "faded.png"
    write_page(faded_page, page)
    assert main(["-q", "denoise", str(page), "-o", str(tmp_path / "o"), "--model", str(blank_model)]) == 0
    assert "faded.png" in capsys.readouterr().err


def test_no_keep_ink_writes_the_model_output(blank_model, tmp_path, faded_page):
    cleaned = clean_page(Denoiser.from_file(blank_model), faded_page, keep_ink=False)
    assert cleaned.pixels.min() == 1.0 and cleaned.ink.recall == 0.0


def test_faded_grey_text_on_grey_paper_keeps_its_ink_through_denoise(denoiser, tmp_path, faded_page):
    page = tmp_path / "faded.png"
    write_page(faded_page, page)
    assert main(["-q", "denoise", str(page), "-o", str(tmp_path / "o")]) == 0
    written = read_page(tmp_path / "o" / "faded_clean.png").pixels
    assert ink.check_ink(faded_page, written).recall >= 0.98
    assert ink.paper_brightness(written) > ink.paper_brightness(faded_page)


def test_a_black_block_stays_black(denoiser):
    page = np.full((300, 300), 0.85, np.float32)
    page[100:140, 100:140] = 0.0
    block = clean_page(denoiser, page).pixels[100:140, 100:140]
    # Black on the whole, and nowhere lighter than half its contrast against white paper.
    assert block.mean() < 0.1 and block.max() <= 0.5


def test_real_scans_keep_their_ink(denoiser, realscans_dir):
    page = read_page(realscans_dir / "set0002-page-001.jpg", dtype=np.uint8).pixels[:1200, :1200]
    cleaned = clean_page(denoiser, page)
    assert ink.check_ink(page, cleaned.pixels).recall >= 0.98


def test_bw_mode_writes_one_bit_png_and_tiff(denoiser, samples_dir, tmp_path):
    for fmt, suffix in (("png", ".png"), ("tiff", ".tif")):
        out = tmp_path / fmt
        assert main(["-q", "denoise", str(samples_dir / "noisyoffice-2.png"), "-o", str(out),
                     "--mode", "bw", "--format", fmt]) == 0
        written = out / f"noisyoffice-2_clean{suffix}"
        with Image.open(written) as image:
            assert image.mode == "1"
            if fmt == "tiff":
                assert image.info.get("compression") == "group4"
            values = np.asarray(image.convert("L"))
        assert set(np.unique(values)) == {0, 255}
        assert 0.01 < (values == 0).mean() < 0.5  # text, not an empty or black page
