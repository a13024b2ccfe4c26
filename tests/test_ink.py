"""Content safety: clear ink is found, measured, and never lost."""
import numpy as np
import pytest

from engine.cleaning import binarize
from engine.cleaning import ink
from engine.io import read_page


def test_otsu_splits_two_levels():
    page = np.full((50, 50), 0.8, np.float32)
    page[10:20] = 0.31
    threshold = binarize.otsu_threshold(page)
    assert ((page < threshold) == (page < 0.5)).all()
    assert ((np.rint(page * 255).astype(np.uint8) / 255 < threshold) == (page < 0.5)).all()
    assert binarize.otsu_threshold(np.full((5, 5), 0.7)) < 0  # one level: all paper


def test_sauvola_finds_text_on_a_real_page(dibco_dir):
    page = read_page(dibco_dir / "source" / "DIBCO2016_H01.png").pixels
    truth = read_page(dibco_dir / "target" / "DIBCO2016_H01.png").pixels < 0.5
    found = binarize.sauvola(page)
    # Most of Sauvola's ink is true ink, and it finds most of it.
    assert (found & truth).sum() / found.sum() > 0.5
    assert (found & truth).sum() / truth.sum() > 0.5


def test_paper_level_follows_shading_but_not_text():
    height, width = 400, 600
    shade = np.linspace(0.5, 0.95, width, dtype=np.float32)[None, :].repeat(height, 0)
    page = shade.copy()
    page[100:110, 50:550] = 0.05  # a line of "text" 10 px tall
    paper = binarize.PaperLevel(page).band(0, height)
    assert np.abs(paper[105, 50:550] - shade[105, 50:550]).max() < 0.06
    assert np.abs(paper - shade).mean() < 0.02


def test_a_solid_block_counts_as_ink_and_is_kept():
    page = np.full((300, 300), 230, np.uint8)
    page[100:140, 100:140] = 0
    greyed = np.full_like(page, 255)
    greyed[100:140, 100:140] = 190  # what the old model made of a 40 x 40 black block
    report = ink.check_ink(page, greyed, restore=True)
    assert report.ink == 1600 and report.kept == 0 and report.unfamiliar
    assert greyed[100:140, 100:140].max() == 0


def test_faint_text_on_grey_paper_is_clear_ink_but_bleed_through_is_not():
    page = np.full((200, 400), 0.75, np.float32)
    page[50:55, 20:380] = 0.5  # faded print: a third darker than its paper
    page[150:155, 20:380] = 0.68  # bleed-through: a tenth darker
    whitened = np.ones_like(page)
    report = ink.check_ink(page, whitened)
    assert report.ink == 5 * 360 and report.recall == 0.0
    assert "erased 100% of the ink" in report.warning()


def test_identity_keeps_all_ink_of_a_real_scan(realscans_dir):
    page = read_page(realscans_dir / "set0005-01.jpg", dtype=np.uint8).pixels[::2, ::2]
    report = ink.check_ink(page, page.copy())
    assert report.ink > 10_000 and report.recall == 1.0 and report.warning() is None


def test_restore_puts_the_ink_back_on_white_paper(realscans_dir):
    page = read_page(realscans_dir / "set0002-page-010.jpg", dtype=np.uint8).pixels[:800, :800]
    blank = np.full_like(page, 255)
    report = ink.check_ink(page, blank, restore=True)
    assert report.recall == 0.0 and report.restored >= report.ink
    assert ink.check_ink(page, blank).recall > 0.98
    # The restored page is the original with its paper made white: never darker than the input.
    assert ink.paper_brightness(blank) > ink.paper_brightness(page)


def test_pages_must_match_in_shape():
    with pytest.raises(ValueError, match="shape"):
        ink.check_ink(np.zeros((4, 4)), np.zeros((4, 5)))


def test_ink_is_put_back_where_writing_was_erased_not_for_a_speck_beside_kept_text():
    page = np.full((256, 512), 0.9, np.float32)
    for row in range(10, 120, 12):
        page[row:row + 4, 10:118] = 0.05  # lines of print in the first 128-pixel square
    page[60:66, 120:126] = 0.05  # a dark speck beside them, in the same square
    page[200:204, 300:360] = 0.3  # a faint word alone further on
    output = np.where(page < 0.5, page, 1.0).astype(np.float32)  # the model keeps the print...
    output[60:66, 120:126] = 1.0  # ...removes the speck...
    output[200:204, 300:360] = 1.0  # ...and erases the word
    report = ink.check_ink(page, output, restore=True)
    assert output[200:204, 300:360].max() < 0.5  # the word is back
    assert output[61:65, 121:125].min() == 1.0  # the speck stays gone: its square's ink was kept
    assert report.restored > 0


def _coffee_ring(shape: tuple[int, int], centre: tuple[int, int], radius: int) -> np.ndarray:
    """A drying ring's darkness in [0, 1]: as dark as print at its middle, fading out over ~10 pixels."""
    rows, cols = np.indices(shape)
    distance = np.hypot(rows - centre[0], cols - centre[1])
    return np.exp(-((distance - radius) / 6.0) ** 2).astype(np.float32)


def test_a_coffee_ring_as_dark_as_print_stays_out_and_a_faint_word_is_put_back():
    page = np.full((512, 512), 0.9, np.float32)
    for row in range(20, 500, 16):
        page[row:row + 3, 20:490] = 0.1  # lines of print, sharp-edged
    page = np.minimum(page, 0.9 - 0.8 * _coffee_ring(page.shape, (256, 256), 150))
    output = np.ones_like(page)
    for row in range(20, 500, 16):
        output[row:row + 3, 20:490] = 0.0  # the model keeps the print and removes the ring...
    output[196:215, 160:350] = 1.0  # ...and erases words of two lines inside the ring
    report = ink.check_ink(page, output, restore=True)
    assert output[196:199, 160:350].max() < 0.5 and output[212:215, 160:350].max() < 0.5  # the words are back
    between = np.ones(page.shape, bool)
    for row in range(20, 500, 16):
        between[row - 2:row + 5] = False
    assert output[between].min() == 1.0  # not a pixel of the ring came back between the lines
    assert report.ink < (page < 0.5).sum() * 0.9  # and the ring is not counted as ink


def test_the_noisyoffice_model_keeps_its_score_with_the_content_check(noisyoffice_dir):
    """On held-out NoisyOffice pages with coffee stains the check must not put the stains back as grain."""
    from engine.cleaning.denoiser import Denoiser

    denoiser = Denoiser.from_file("noisyoffice", precision="float32")
    for name in ("161.png", "208.png"):  # held out; the two whose rings the check once put back
        noisy = read_page(noisyoffice_dir / "noisy" / name).pixels
        truth = read_page(noisyoffice_dir / "clean" / name).pixels
        alone = denoiser.denoise(noisy)
        checked = alone.copy()
        ink.check_ink(noisy, checked, restore=True)
        rmse = [float(np.sqrt(np.mean((out - truth) ** 2))) for out in (alone, checked)]
        assert rmse[1] <= rmse[0] * 1.05, rmse


def test_faint_show_through_is_not_printed_black():
    page = np.full((200, 300), 0.85, np.float32)
    page[40:46, 20:280] = 0.05  # print
    page[120:124, 20:280] = 0.76  # show-through from the back: a tenth darker than the paper
    output = np.where(page < 0.8, 0.0, 1.0).astype(np.float32)  # a model that blackens both
    report = ink.check_ink(page, output, restore=True)
    assert output[40:46, 20:280].max() == 0.0  # the print stays black
    assert output[120:124, 20:280].min() > 0.6  # the show-through stays faint
    assert report.lightened == 4 * 260


def test_nothing_is_put_back_beyond_the_papers_edge(dibco_dir):
    """A book scan's dark border (scanner bed, page edges) is not writing: erased, it stays erased."""
    page = read_page(dibco_dir / "source" / "DIBCO2018_H09.png", dtype=np.uint8).pixels
    truth = read_page(dibco_dir / "target" / "DIBCO2018_H09.png").pixels < 0.5
    blank = np.full_like(page, 255)
    report = ink.check_ink(page, blank, restore=True)
    dark = blank < 128
    assert report.unfamiliar and (dark & truth).sum() / truth.sum() > 0.85  # the writing is back
    # Putting back every dark pixel the input had darkened 8.7 % of the paper, most of it the border.
    assert (dark & ~truth).sum() / (~truth).sum() < 0.04


def test_text_in_a_shadow_reaching_the_edge_is_still_on_the_paper():
    page = np.full((600, 800), 0.85, np.float32)
    page[:, :300] *= 0.55  # a phone's shadow over the left: dark, but not below half the paper level
    lines = np.zeros(page.shape, bool)
    for top in range(60, 560, 40):
        lines[top:top + 4, 40:760] = True
    page[lines] *= 0.55
    blank = np.ones_like(page)
    report = ink.check_ink(page, blank, restore=True)
    assert report.ink == lines.sum()
    assert (blank[:, :300][lines[:, :300]] < 0.7).all()
