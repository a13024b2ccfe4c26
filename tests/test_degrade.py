"""Every degradation, on real clean pages: seeded, in range, and the page still readable."""
import numpy as np
import pytest

from engine.data import degrade
from engine.io import read_page


@pytest.fixture(scope="module")
def clean_page(noisyoffice_dir):
    # A real clean office page: black print on white.
    return read_page(sorted((noisyoffice_dir / "clean").glob("*.png"))[0]).pixels


@pytest.fixture(scope="module")
def handwriting(dibco_dir):
    # Real handwriting: the binary ground truth of a DIBCO page, cropped.
    return read_page(dibco_dir / "target" / "DIBCO2014_H01.png").pixels[:400, :500]


@pytest.mark.parametrize("name", sorted(degrade.TRANSFORMS))
def test_each_transform_is_seeded_in_range_and_leaves_the_input_alone(name, clean_page, handwriting):
    for page in (clean_page, handwriting):
        before = page.copy()
        first = degrade.TRANSFORMS[name](page, np.random.default_rng(7))
        again = degrade.TRANSFORMS[name](page, np.random.default_rng(7))
        other = degrade.TRANSFORMS[name](page, np.random.default_rng(8))
        assert first.shape == page.shape and first.dtype == np.float32
        assert 0.0 <= first.min() and first.max() <= 1.0
        np.testing.assert_array_equal(first, again)
        assert not np.array_equal(first, other)
        np.testing.assert_array_equal(page, before)
        assert np.abs(first - page).mean() > 1e-4, f"{name} changed nothing"


@pytest.mark.parametrize("name", sorted(degrade.TRANSFORMS))
def test_ink_stays_darker_than_the_paper_around_it(name, clean_page):
    ink = clean_page < 0.3
    paper = clean_page > 0.9
    for seed in range(5):
        out = degrade.TRANSFORMS[name](clean_page, np.random.default_rng(seed))
        # The degraded page still carries the text: its ink is darker than its paper on average.
        assert out[ink].mean() < out[paper].mean() - 0.1, f"{name} (seed {seed}) hid the text"


def test_degrade_chains_the_stages_and_is_reproducible(clean_page):
    a = degrade.degrade(clean_page, np.random.default_rng(3))
    b = degrade.degrade(clean_page, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    outs = [degrade.degrade(clean_page, np.random.default_rng(s)) for s in range(8)]
    # Different seeds give visibly different scans, all darker overall than the clean page.
    assert len({round(float(o.mean()), 4) for o in outs}) == 8
    assert np.mean([o.mean() for o in outs]) < clean_page.mean()


def test_bleed_through_shows_the_other_side_mirrored(clean_page):
    blank = np.ones_like(clean_page)
    out = degrade.bleed_through(blank, np.random.default_rng(0), other=clean_page)
    # The back's text appears mirrored left to right, faint.
    mirrored = clean_page[:, ::-1] < 0.3
    assert out[mirrored].mean() < out[~mirrored].mean() - 0.02
    assert out.min() > 0.3
