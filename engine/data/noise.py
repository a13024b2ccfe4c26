"""Synthetic noise for the denoising experiments on MNIST and notMNIST."""
from __future__ import annotations

import os

import numpy as np

from engine.errors import ConfigurationError
from engine.data.digits import load_test_split, to_unit


def add_gaussian_noise(x: np.ndarray, factor: float = 0.5, seed: int | None = 0) -> np.ndarray:
    """Return ``clip(x + factor * N(0, 1), 0, 1)`` as float32, one draw per value.

    ``x`` holds values in [0, 1]; ``factor`` is the noise standard deviation
    in the same units (the write-ups use 0.5, and 0.7 for a harder test).
    The same ``seed`` gives the same noise; None draws fresh noise.
    """
    if factor < 0:
        raise ConfigurationError(f"noise factor must be >= 0, got {factor}")
    rng = np.random.default_rng(seed)
    noisy = np.asarray(x, dtype=np.float32) + np.float32(factor) * rng.standard_normal(
        np.shape(x), dtype=np.float32
    )
    return np.clip(noisy, 0.0, 1.0, out=noisy)


def noisy_samples(
    name: str,
    n: int,
    factor: float,
    folder: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pick ``n`` test images of data set ``name`` and add Gaussian noise of ``factor``.

    Returns ``(clean, noisy, labels)``: clean and noisy float32 (n, 28, 28)
    in [0, 1] (scaled as to_unit does for the whole test set), labels uint8.
    The images are a random choice made with ``seed``, so a preview is stable.
    """
    x_test, y_test = load_test_split(name, folder)
    if not 0 < n <= len(x_test):
        raise ConfigurationError(f"n must be between 1 and {len(x_test)}, got {n}")
    chosen = np.sort(np.random.default_rng(seed).choice(len(x_test), size=n, replace=False))
    # Scale with the whole test set so notMNIST's "divide by the max" matches training.
    clean = to_unit(x_test, name)[chosen]
    return clean, add_gaussian_noise(clean, factor, seed), y_test[chosen].copy()
