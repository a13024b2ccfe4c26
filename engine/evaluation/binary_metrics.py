"""The DIBCO metrics of a binarised page against binary ground truth.

Every function takes two bool arrays of the same shape, True = ink (black),
False = paper, and returns the number the DIBCO contests report for one
page: F-measure and pseudo F-measure in percent, PSNR in dB, DRD (lower
is better).  Contest tables average them over the pages of a set.
"""
from __future__ import annotations

import math
from typing import Callable

import cv2
import numpy as np
from numpy.typing import NDArray

# DRD's 5x5 weights: the reciprocal distance to the centre, centre 0, summing to 1
# (Lu, Kot and Shi, "Distance-reciprocal distortion measure for binary document images", 2004).
_DRD_SIZE = 5
_DRD_BLOCK = 8


def _drd_weights() -> NDArray[np.float64]:
    half = _DRD_SIZE // 2
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    distance = np.hypot(yy, xx)
    weights = np.where(distance > 0, 1.0 / np.where(distance > 0, distance, 1.0), 0.0)
    normalised: NDArray[np.float64] = weights / weights.sum()
    return normalised


_DRD_WEIGHTS = _drd_weights()


def _check(output: np.ndarray, truth: np.ndarray) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    output, truth = np.asarray(output, bool), np.asarray(truth, bool)
    if output.shape != truth.shape or output.ndim != 2:
        raise ValueError(f"expected two binary pages of one shape, got {output.shape} and {truth.shape}")
    return output, truth


def _harmonic(a: float, b: float) -> float:
    return 2.0 * a * b / (a + b) if a + b > 0 else 0.0


def precision_recall(output: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Share of the output's ink that is true ink, and of the true ink found (each in [0, 1])."""
    output, truth = _check(output, truth)
    hits = np.count_nonzero(output & truth)
    found, actual = np.count_nonzero(output), np.count_nonzero(truth)
    return (hits / found if found else 1.0), (hits / actual if actual else 1.0)


def f_measure(output: np.ndarray, truth: np.ndarray) -> float:
    """Harmonic mean of ink precision and recall, in percent (100 = perfect)."""
    return 100.0 * _harmonic(*precision_recall(output, truth))


def pseudo_f_measure(output: np.ndarray, truth: np.ndarray) -> float:
    """F-measure with recall counted on the skeleton of the true ink (DIBCO 2010), in percent.

    Stroke width matters less: finding the centre line of every stroke is
    what counts for reading.
    """
    from skimage.morphology import skeletonize as unannotated

    # scikit-image leaves skeletonize unannotated: bool page in, bool skeleton out.
    skeletonize: Callable[[NDArray[np.bool_]], NDArray[np.bool_]] = unannotated

    output, truth = _check(output, truth)
    precision, _ = precision_recall(output, truth)
    skeleton = skeletonize(truth)
    total = np.count_nonzero(skeleton)
    pseudo_recall = np.count_nonzero(skeleton & output) / total if total else 1.0
    return 100.0 * _harmonic(precision, pseudo_recall)


def binary_psnr(output: np.ndarray, truth: np.ndarray) -> float:
    """PSNR of the binary page (ink 0, paper 1) in dB; inf when equal."""
    output, truth = _check(output, truth)
    wrong = np.count_nonzero(output != truth) / output.size
    return math.inf if wrong == 0 else -10.0 * math.log10(wrong)


def drd(output: np.ndarray, truth: np.ndarray) -> float:
    """Distance-reciprocal distortion: visual cost of the flipped pixels per non-uniform 8x8 block."""
    output, truth = _check(output, truth)
    # Weighted share of true ink around each pixel (the page edge repeated).
    ink_around = cv2.filter2D(truth.astype(np.float64), -1, _DRD_WEIGHTS, borderType=cv2.BORDER_REPLICATE)
    flipped = output != truth
    # A flipped pixel costs the weight of the neighbours it now disagrees with.
    cost = np.where(output, 1.0 - ink_around, ink_around)
    total = float(cost[flipped].sum())
    height, width = truth.shape
    rows, cols = height // _DRD_BLOCK, width // _DRD_BLOCK
    blocks = truth[:rows * _DRD_BLOCK, :cols * _DRD_BLOCK].reshape(rows, _DRD_BLOCK, cols, _DRD_BLOCK)
    ink_per_block = blocks.sum(axis=(1, 3))
    non_uniform = int(np.count_nonzero((ink_per_block > 0) & (ink_per_block < _DRD_BLOCK * _DRD_BLOCK)))
    return total / max(non_uniform, 1)
