"""Synthetic training pages: drawn content, degraded copies, same seed same pages."""
import numpy as np

from engine.data import synthetic
from engine.io import read_page


def test_font_files_are_text_fonts():
    fonts = synthetic.font_files()
    assert len(fonts) >= 10  # matplotlib ships DejaVu, STIX and Computer Modern
    assert not any(f.name.startswith(("cmex", "STIXSiz")) for f in fonts)


def test_render_page_draws_ink_on_white_paper():
    fonts = synthetic.font_files()
    inked = []
    for seed in range(10):
        page = synthetic.render_page((256, 320), np.random.default_rng(seed), fonts)
        assert page.shape == (256, 320) and page.dtype == np.float32
        assert 0.0 <= page.min() and page.max() == 1.0
        inked.append((page < 0.5).mean())
    assert np.mean(inked) > 0.02 and max(inked) < 0.9


def test_dark_areas_stay_in_the_clean_page():
    page = np.ones((200, 200), np.float32)
    synthetic.draw_dark_area(page, np.random.default_rng(1))
    assert (page < 0.6).sum() > 100


def test_sampler_is_reproducible_and_uses_the_given_clean_pages(monkeypatch):
    monkeypatch.setattr(synthetic.SyntheticSampler, "BORDER_SHARE", 0.0)  # borders whiten part of a crop
    # Pages whose every pixel value is unique, so a crop tells where it came from.
    pages = [np.arange(k * 30000, (k + 1) * 30000, dtype=np.float32).reshape(150, 200) / 60000 for k in range(2)]
    a = synthetic.SyntheticSampler(crop=96, seed=5, clean_pages=pages, real_share=1.0)
    b = synthetic.SyntheticSampler(crop=96, seed=5, clean_pages=pages, real_share=1.0)
    noisy, clean = a.batch(4)
    assert noisy.shape == clean.shape == (4, 96, 96, 1)
    np.testing.assert_array_equal(noisy, b.batch(4)[0])
    for crop in clean[..., 0]:
        k = int(crop[0, 0] * 60000) // 30000
        top, left = np.argwhere(pages[k] == crop[0, 0])[0]
        np.testing.assert_array_equal(pages[k][top:top + 96, left:left + 96], crop)
    assert not np.array_equal(noisy, clean)


def test_sampler_without_real_pages_draws_its_own(noisyoffice_dir):
    real = [read_page(sorted((noisyoffice_dir / "clean").glob("*.png"))[0]).pixels]
    drawn = synthetic.SyntheticSampler(crop=64, seed=0, clean_pages=[], real_share=1.0)
    noisy, clean = drawn.batch(6)
    assert drawn.real_share == 0.0
    assert (clean < 0.5).mean() > 0.01  # drawn pages carry ink
    # Pages smaller than the crop are not used.
    assert synthetic.SyntheticSampler(crop=1000, seed=0, clean_pages=real).clean_pages == []


def test_beyond_the_paper_edge_is_dark_in_the_scan_and_white_in_the_clean_page(monkeypatch):
    monkeypatch.setattr(synthetic.SyntheticSampler, "BORDER_SHARE", 1.0)
    noisy, clean = synthetic.SyntheticSampler(crop=128, seed=2).sample()
    beyond = clean == 1.0
    edge_rows = np.concatenate([noisy[:3].ravel(), noisy[-3:].ravel(), noisy[:, :3].ravel(), noisy[:, -3:].ravel()])
    assert edge_rows.min() < 0.4  # some side shows the dark scanner
    assert beyond.mean() > 0.3
