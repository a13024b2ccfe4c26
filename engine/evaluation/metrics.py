"""Image quality metrics for cleaned pages: RMSE, PSNR and SSIM.

Every function takes two grey pages as float arrays with values in [0, 1]
(0 = black ink, 1 = white paper), at full resolution and the same shape.
Pages are scored in horizontal strips so that a 20,000 x 20,000 page never
needs a full-size float64 copy: the extra memory is a few strips of
float64, whatever the page size.
"""
from __future__ import annotations

import math
from typing import Iterator, Tuple

import cv2
import numpy as np

# Wang et al. (2004) constants, as used by scikit-image with gaussian_weights.
SSIM_SIGMA = 1.5
SSIM_WINDOW = 11
SSIM_K1 = 0.01
SSIM_K2 = 0.03

# About a million pixels per strip: a whole NoisyOffice page fits in one, and
# on huge pages SSIM's dozen float64 temporaries stay near 100 MB in total.
_STRIP_PIXELS = 1 << 20


def _as_pages(output: np.ndarray, target: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Check that two pages can be compared and return them as 2-D views."""
    output = np.asarray(output)
    target = np.asarray(target)
    if output.shape != target.shape:
        raise ValueError(
            f"cannot compare pages of different shapes: output {output.shape} "
            f"vs target {target.shape}"
        )
    # A trailing channel axis of 1 is common from Keras; drop it without copying.
    if output.ndim == 3 and output.shape[2] == 1:
        output, target = output[:, :, 0], target[:, :, 0]
    if output.ndim != 2:
        raise ValueError(
            f"expected grey pages of shape (height, width), got {output.shape}"
        )
    if output.size == 0:
        raise ValueError(f"cannot score an empty page of shape {output.shape}")
    return output, target


def _row_strips(height: int, width: int) -> Iterator[Tuple[int, int]]:
    """Yield (start, stop) row ranges that tile ``height`` rows."""
    rows = max(1, _STRIP_PIXELS // max(width, 1))
    for start in range(0, height, rows):
        yield start, min(height, start + rows)


def squared_error_sum(output: np.ndarray, target: np.ndarray) -> float:
    """Sum over all pixels of (output - target)^2, accumulated in float64.

    Args:
        output, target: grey pages of the same shape, values in [0, 1].

    Returns:
        The total squared error in (intensity units)^2, >= 0. Pooling this
        over many pages gives the Kaggle per-pixel RMSE of a whole set.
    """
    output, target = _as_pages(output, target)
    total = 0.0
    for start, stop in _row_strips(*output.shape):
        diff = output[start:stop].astype(np.float64) - target[start:stop]
        total += float(np.einsum("ij,ij->", diff, diff))
    return total


def rmse(output: np.ndarray, target: np.ndarray) -> float:
    """Root mean squared per-pixel error between two pages.

    Args:
        output: the cleaned page, float, values in [0, 1].
        target: the ground-truth page, same shape.

    Returns:
        RMSE in intensity units, in [0, 1] for inputs in [0, 1]; 0 when equal.

    Raises:
        ValueError: if the shapes differ (both shapes are named).
    """
    output, target = _as_pages(output, target)
    return math.sqrt(squared_error_sum(output, target) / output.size)


def psnr_from_rmse(error: float, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB for a given RMSE; inf when error is 0."""
    if error <= 0.0:
        return math.inf
    return 20.0 * math.log10(data_range / error)


def psnr(output: np.ndarray, target: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio between two pages.

    Args:
        output: the cleaned page, float, values in [0, data_range].
        target: the ground-truth page, same shape.
        data_range: the distance between white and black, 1.0 for [0, 1] pages.

    Returns:
        PSNR in decibels (higher is better, typically 10 to 40 dB for
        documents); ``math.inf`` when the pages are identical.

    Raises:
        ValueError: if the shapes differ (both shapes are named).
    """
    return psnr_from_rmse(rmse(output, target), data_range)


def _ssim_strip_sum(x: np.ndarray, y: np.ndarray, pad: int) -> float:
    """Sum of the SSIM map over the rows of a strip that lie ``pad`` inside it.

    The Gaussian window reaches ``pad`` pixels, so the kept pixels see only
    real data and the border mode never changes the result.
    """
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    c1 = (SSIM_K1 * 1.0) ** 2
    c2 = (SSIM_K2 * 1.0) ** 2

    def blur(image: np.ndarray) -> np.ndarray:
        smoothed = cv2.GaussianBlur(
            image, (SSIM_WINDOW, SSIM_WINDOW), SSIM_SIGMA,
            sigmaY=SSIM_SIGMA, borderType=cv2.BORDER_REFLECT,
        )
        return smoothed[pad:-pad, pad:-pad]

    mu_x = blur(x)
    mu_y = blur(y)
    # Population (not sample) covariances, as in Wang et al.
    var_x = blur(x * x) - mu_x * mu_x
    var_y = blur(y * y) - mu_y * mu_y
    cov_xy = blur(x * y) - mu_x * mu_y
    numerator = (2.0 * mu_x * mu_y + c1) * (2.0 * cov_xy + c2)
    denominator = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    return float(np.sum(numerator / denominator, dtype=np.float64))


def ssim(output: np.ndarray, target: np.ndarray) -> float:
    """Mean structural similarity (Wang et al. 2004) between two pages.

    Uses an 11 x 11 Gaussian window with sigma 1.5 pixels, K1 = 0.01,
    K2 = 0.03, data range 1 and population covariances, and averages the
    SSIM map over the pixels at least 5 pixels from the page edge. This
    matches ``skimage.metrics.structural_similarity(gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=1)``.

    Args:
        output: the cleaned page, float, values in [0, 1].
        target: the ground-truth page, same shape, at least 11 x 11 pixels.

    Returns:
        Mean SSIM, in [-1, 1]; 1 when the pages are identical.

    Raises:
        ValueError: if the shapes differ or a side is under 11 pixels.
    """
    output, target = _as_pages(output, target)
    height, width = output.shape
    pad = SSIM_WINDOW // 2
    if height < SSIM_WINDOW or width < SSIM_WINDOW:
        raise ValueError(
            f"SSIM needs pages of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, "
            f"got {output.shape}"
        )
    inner_rows = height - 2 * pad
    total = 0.0
    # Strips cover the inner rows; each is read with ``pad`` rows of context
    # on both sides so that its blurred values are exact.
    for start, stop in _row_strips(inner_rows, width):
        top, bottom = start, stop + 2 * pad
        total += _ssim_strip_sum(output[top:bottom], target[top:bottom], pad)
    pixels: int = inner_rows * (width - 2 * pad)
    return total / pixels
