"""engine.data.noise: seeded, clipped Gaussian noise and the training dialog's preview samples."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.data.digits import load_test_split, to_unit
from engine.data.noise import add_gaussian_noise, noisy_samples

def test_gaussian_noise_is_clipped_seeded_and_sized() -> None:
    clean = np.full((200, 28, 28), 0.5, np.float32)
    noisy = add_gaussian_noise(clean, 0.5, seed=1)
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape
    assert noisy.min() == 0.0 and noisy.max() == 1.0
    np.testing.assert_array_equal(noisy, add_gaussian_noise(clean, 0.5, seed=1))
    assert not np.array_equal(noisy, add_gaussian_noise(clean, 0.5, seed=2))
    # Away from the clipping bounds the spread is the factor.
    small = add_gaussian_noise(clean, 0.05, seed=0)
    assert float(np.std(small - clean)) == pytest.approx(0.05, rel=0.05)
    np.testing.assert_array_equal(add_gaussian_noise(clean, 0.0), clean)
    with pytest.raises(ValueError):
        add_gaussian_noise(clean, -1)


def test_noisy_samples_preview(notmnist_dir: Path) -> None:
    clean, noisy, labels = noisy_samples("notmnist", 6, 0.7, folder=notmnist_dir, seed=3)
    assert clean.shape == noisy.shape == (6, 28, 28)
    assert clean.dtype == noisy.dtype == np.float32 and labels.dtype == np.uint8
    assert 0 <= clean.min() and clean.max() <= 1 and 0 <= noisy.min() and noisy.max() <= 1
    assert not np.array_equal(clean, noisy)
    again = noisy_samples("notmnist", 6, 0.7, folder=notmnist_dir, seed=3)
    np.testing.assert_array_equal(again[1], noisy)
    x_test, y_test = load_test_split("notmnist", notmnist_dir)
    first = int(np.flatnonzero((to_unit(x_test, "notmnist") == clean[0]).all(axis=(1, 2)))[0])
    assert y_test[first] == labels[0]
