"""Fast previews: the page small first, then a region at full resolution, as the full page would have it."""
from __future__ import annotations

import numpy as np
import pytest

from engine.cleaning.denoiser import Denoiser
from engine.cleaning.page import clean_page
from engine.cleaning.preview import QUICK_PIXELS, clean_region, quick_preview
from engine.io import read_page


@pytest.fixture(scope="module")
def denoiser() -> Denoiser:
    return Denoiser.from_file("fast")


@pytest.fixture(scope="module")
def book_page(realscans_dir):
    return read_page(realscans_dir / "set0002-page-010.jpg").pixels


def test_the_quick_preview_is_small_and_clean(denoiser, book_page):
    quick = quick_preview(denoiser, book_page)
    assert quick.size <= QUICK_PIXELS * 1.01 and quick.dtype == book_page.dtype
    ratio = book_page.shape[1] / book_page.shape[0]
    assert abs(quick.shape[1] / quick.shape[0] - ratio) < 0.01
    assert np.median(quick) > np.median(book_page)  # the paper came out whiter
    small = book_page[:300, :400]
    assert quick_preview(denoiser, small).shape == small.shape  # a small page is cleaned as it is


def test_a_region_equals_that_part_of_the_whole_page(denoiser, book_page):
    whole = clean_page(denoiser, book_page).pixels
    box = (600, 900, 1100, 1300)
    region = clean_region(denoiser, book_page, box)
    assert region.shape == (400, 500)
    part = whole[900:1300, 600:1100]
    # The content check sees only the region's surroundings, not the whole page: close, not identical.
    assert np.mean(np.abs(region - part)) < 0.01
    with pytest.raises(ValueError, match="not inside"):
        clean_region(denoiser, book_page, (10_000, 10_000, 10_100, 10_100))


@pytest.mark.slow
def test_a_staged_preview_comes_quick_then_region_then_whole(denoiser, book_page):
    from engine.cleaning.preview import staged_preview
    from engine.progress import CancelToken, Cancelled

    box = (600, 900, 1100, 1300)
    stages = list(staged_preview(denoiser, book_page, box=box))
    assert [s.name for s in stages] == ["quick", "region", "full"]
    assert stages[0].pixels.size <= QUICK_PIXELS * 1.01
    assert stages[1].pixels.shape == (400, 500) and stages[1].box == box
    assert stages[2].pixels.shape == book_page.shape
    assert [s.name for s in staged_preview(denoiser, book_page, quick_only=True)] == ["quick"]
    assert [s.name for s in staged_preview(denoiser, book_page[:300, :400])] == ["quick", "full"]
    cancel = CancelToken()
    stages = staged_preview(denoiser, book_page, box=box, cancel=cancel)
    next(stages)
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(stages)


def test_display_pixels_keep_a_colour_page_in_colour(tmp_path):
    from PIL import Image

    from engine.io import PageRef
    from engine.io.display import display_pixels

    colour = Image.new("RGB", (40, 30), (250, 250, 245))
    colour.paste((200, 40, 40), (5, 5, 20, 15))
    colour.save(tmp_path / "stamp.png")
    Image.new("L", (40, 30), 200).save(tmp_path / "grey.png")
    Image.new("P", (40, 30), 3).save(tmp_path / "palette.png")
    pixels = display_pixels(PageRef(tmp_path / "stamp.png"))
    assert pixels.shape == (30, 40, 3) and pixels.dtype == np.uint8 and tuple(pixels[10, 10]) == (200, 40, 40)
    assert display_pixels(tmp_path / "grey.png").shape == (30, 40)
    assert display_pixels(tmp_path / "palette.png").ndim in (2, 3)


def test_display_pixels_render_a_pdf_page_in_colour(tmp_path):
    from PIL import Image

    from engine.io import read_page
    from engine.io.display import display_pixels

    page = Image.new("RGB", (300, 200), (250, 250, 245))
    page.paste((200, 40, 40), (20, 20, 120, 80))
    page.save(tmp_path / "stamped.pdf", resolution=100)
    pixels = display_pixels(tmp_path / "stamped.pdf")
    assert pixels.ndim == 3 and pixels.shape[:2] == read_page(tmp_path / "stamped.pdf").pixels.shape
    red, green, blue = (int(v) for v in pixels[50, 70])
    assert red > 150 and green < 100 and blue < 100
