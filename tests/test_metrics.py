"""engine.evaluation.metrics against hand-computed values and scikit-image, on real pages."""
from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from engine.evaluation import metrics
from engine.io import read_page


@pytest.fixture(scope="module")
def real_pair(noisyoffice_dir):
    noisy = read_page(noisyoffice_dir / "noisy" / "5.png").pixels
    clean = read_page(noisyoffice_dir / "clean" / "5.png").pixels
    return noisy, clean


def _skimage_ssim(a: np.ndarray, b: np.ndarray) -> float:
    return structural_similarity(
        a.astype(np.float64), b.astype(np.float64), gaussian_weights=True,
        sigma=1.5, use_sample_covariance=False, data_range=1.0,
    )


def test_rmse_of_a_known_difference():
    target = np.zeros((20, 30), np.float32)
    output = np.full((20, 30), 0.25, np.float32)
    assert metrics.rmse(output, target) == pytest.approx(0.25)
    assert metrics.rmse(target, target) == 0.0


def test_rmse_matches_numpy_on_a_real_page(real_pair):
    noisy, clean = real_pair
    expected = np.sqrt(np.mean((noisy.astype(np.float64) - clean) ** 2))
    assert metrics.rmse(noisy, clean) == pytest.approx(expected, rel=1e-9)


def test_psnr_is_infinite_for_identical_pages_and_follows_rmse(real_pair):
    noisy, clean = real_pair
    assert metrics.psnr(clean, clean) == math.inf
    error = metrics.rmse(noisy, clean)
    assert metrics.psnr(noisy, clean) == pytest.approx(-20 * math.log10(error))
    assert metrics.psnr(noisy * 255, clean * 255, data_range=255.0) == pytest.approx(
        metrics.psnr(noisy, clean), rel=1e-5
    )


def test_ssim_matches_skimage_on_a_real_page(real_pair):
    noisy, clean = real_pair
    assert metrics.ssim(noisy, clean) == pytest.approx(_skimage_ssim(noisy, clean), abs=1e-3)
    assert metrics.ssim(clean, clean) == pytest.approx(1.0)


def test_ssim_matches_skimage_on_odd_sizes_and_noise():
    rng = np.random.default_rng(0)
    a = rng.random((37, 53))
    b = np.clip(a + rng.normal(0, 0.2, a.shape), 0, 1)
    assert metrics.ssim(a, b) == pytest.approx(_skimage_ssim(a, b), abs=1e-3)


def test_strips_give_the_same_numbers_as_one_block(real_pair, monkeypatch):
    noisy, clean = real_pair
    whole_ssim, whole_rmse = metrics.ssim(noisy, clean), metrics.rmse(noisy, clean)
    # Force many thin strips, including a ragged last one.
    monkeypatch.setattr(metrics, "_STRIP_PIXELS", 7 * noisy.shape[1])
    assert metrics.ssim(noisy, clean) == pytest.approx(whole_ssim, abs=1e-12)
    assert metrics.rmse(noisy, clean) == pytest.approx(whole_rmse, abs=1e-12)


def test_channel_axis_of_one_is_accepted(real_pair):
    noisy, clean = real_pair
    assert metrics.rmse(noisy[..., None], clean[..., None]) == pytest.approx(
        metrics.rmse(noisy, clean)
    )


@pytest.mark.parametrize("function", [metrics.rmse, metrics.psnr, metrics.ssim])
def test_shape_mismatch_names_both_shapes(function):
    with pytest.raises(ValueError, match=r"\(20, 30\).*\(30, 20\)"):
        function(np.zeros((20, 30)), np.zeros((30, 20)))


def test_ssim_rejects_pages_smaller_than_its_window():
    with pytest.raises(ValueError, match="11x11"):
        metrics.ssim(np.zeros((5, 40)), np.zeros((5, 40)))
