"""Colour mode: the paper white and neutral, every stamp, pen, highlighter and picture in its colour."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from benchmarks.colour_pages import MARK_COLOURS, colour_page as marked_page, hue_distance, hue_saturation
from cli.main import main
from engine.cleaning.denoiser import Denoiser
from engine.cleaning.page import clean_page
from engine.cleaning.preview import staged_preview
from engine.io.provenance import read_output_provenances
from engine.io.writing import write_page
from engine.vocabulary import PageMode


@pytest.fixture(scope="module")
def general() -> Denoiser:
    return Denoiser.from_file("general", precision="float32")


@pytest.fixture(scope="module")
def page(noisyoffice_dir: Path):
    clean = cv2.imread(str(noisyoffice_dir / "clean" / "3.png"), cv2.IMREAD_GRAYSCALE)
    return marked_page(cv2.resize(clean, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC), np.random.default_rng(1))


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _chroma(rgb: np.ndarray) -> np.ndarray:
    unit = rgb.astype(np.float32) / 255.0
    return unit.max(axis=-1) - unit.min(axis=-1)


def test_every_mark_keeps_its_colour_on_white_paper(general, page):
    cleaned = clean_page(general, _grey(page.rgb), PageMode.COLOUR, colour=page.rgb)
    out = cleaned.pixels
    assert cleaned.mode == PageMode.COLOUR and out.shape == page.rgb.shape and out.dtype == np.uint8
    # Yellowed, stained paper comes out white and neutral; black print black.
    assert out[page.paper].mean() / 255 >= 0.95
    assert _chroma(out[page.paper]).mean() <= 0.03
    assert out[page.ink].mean() / 255 <= 0.35
    for name, mask in page.marks.items():
        hue, saturation = hue_saturation(out[mask])
        true_hue, true_saturation = hue_saturation(np.array(MARK_COLOURS[name], np.uint8)[None])
        assert hue_distance(hue, true_hue) <= 15, name
        assert saturation >= 0.8 * true_saturation, name


def test_grey_mode_stays_grey_and_auto_picks_colour_only_for_coloured_marks(general, page, noisyoffice_dir):
    assert clean_page(general, _grey(page.rgb), PageMode.GREY, colour=page.rgb).pixels.ndim == 2
    assert clean_page(general, _grey(page.rgb), PageMode.AUTO, colour=page.rgb).mode == PageMode.COLOUR
    # A grey page stored as RGB (NoisyOffice's noisy pages are) has no colour to keep.
    stored = np.asarray(Image.open(noisyoffice_dir / "noisy" / "5.png").convert("RGB"))
    grey_page = clean_page(general, _grey(stored), PageMode.AUTO, colour=stored)
    assert grey_page.mode == PageMode.GREY and grey_page.pixels.ndim == 2
    # A page with no colour given is written grey, whatever the mode.
    assert clean_page(general, _grey(stored), PageMode.COLOUR).mode == PageMode.GREY


def test_a_phone_photo_under_a_warm_lamp_is_grey_in_auto_mode_and_keeps_a_stamp_added_to_it(general, realscans_dir):
    photo = cv2.cvtColor(cv2.imread(str(realscans_dir / "set0005-04.jpg")), cv2.COLOR_BGR2RGB)
    text = np.ascontiguousarray(photo[1400:2400, 500:1700])  # print, with its lens's colour fringes
    assert clean_page(general, _grey(text), PageMode.AUTO, colour=text).mode == PageMode.GREY
    stamp, pen = np.zeros(text.shape[:2], np.uint8), np.zeros(text.shape[:2], np.uint8)
    cv2.circle(stamp, (800, 300), 120, 1, 10)
    cv2.line(pen, (100, 800), (700, 700), 1, 5)
    marked = text.astype(np.float32)
    for mask, colour in ((stamp, MARK_COLOURS["red stamp"]), (pen, MARK_COLOURS["blue pen"])):
        marked[mask.astype(bool)] *= np.array(colour, np.float32) / 255.0  # ink on the lamp-lit paper
    marked = marked.round().astype(np.uint8)
    cleaned = clean_page(general, _grey(marked), PageMode.AUTO, colour=marked)
    assert cleaned.mode == PageMode.COLOUR
    for mask, name in ((stamp, "red stamp"), (pen, "blue pen")):
        inside = cv2.erode(mask, np.ones((3, 3), np.uint8)).astype(bool)
        hue, saturation = hue_saturation(cleaned.pixels[inside])
        true_hue, true_saturation = hue_saturation(np.array(MARK_COLOURS[name], np.uint8)[None])
        assert hue_distance(hue, true_hue) <= 15 and saturation >= 0.8 * true_saturation, name
    paper = cleaned.pixels.min(axis=2) > 200
    assert paper.mean() > 0.5 and _chroma(cleaned.pixels[paper]).mean() <= 0.03  # the lamp's warmth is gone


def test_the_preview_shows_colour_as_the_batch_writes_it(general, page):
    stages = list(staged_preview(general, _grey(page.rgb), PageMode.COLOUR, box=(100, 100, 400, 300),
                                 colour=page.rgb))
    assert [stage.name for stage in stages] == ["quick", "region", "full"]
    assert all(stage.pixels.ndim == 3 for stage in stages)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg"])
def test_a_colour_page_is_written_in_colour(tmp_path, page, suffix):
    written = write_page(page.rgb, tmp_path / f"page{suffix}")
    back = np.asarray(Image.open(written))
    assert back.shape == page.rgb.shape
    if suffix != ".jpg":
        assert np.array_equal(back, page.rgb)


def test_denoise_in_colour_from_the_command_line_to_images_and_one_pdf(tmp_path, page, noisyoffice_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "marked.jpg"), cv2.cvtColor(page.rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    Image.open(noisyoffice_dir / "noisy" / "5.png").save(folder / "plain.png")  # grey, stored as RGB
    assert main(["denoise", str(folder), "-o", str(tmp_path / "out"), "--mode", "color", "--model", "fast"]) == 0
    assert Image.open(tmp_path / "out" / "marked_clean.png").mode == "RGB"
    assert Image.open(tmp_path / "out" / "plain_clean.png").mode == "L"  # nothing to colour: grey
    assert "mode=colour" in read_output_provenances(tmp_path / "out" / "marked_clean.png")[0].settings
    assert main(["denoise", str(folder), "-o", str(tmp_path / "pdf"), "--mode", "auto", "--combine", "all.pdf",
                 "--model", "fast"]) == 0
    from engine.io.display import display_pixels
    pdf_page = display_pixels(tmp_path / "pdf" / "all.pdf", 0)
    assert _chroma(pdf_page).max() > 0.5  # the red stamp, in the PDF's colour image
