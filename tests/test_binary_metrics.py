"""DIBCO metrics against cases worked out by hand."""
import math

import numpy as np
import pytest

from engine.evaluation.scoring import binary_metrics as bm


def _page(shape=(16, 16)):
    return np.zeros(shape, bool)


def test_perfect_output_scores_perfectly():
    truth = _page()
    truth[4:12, 6:8] = True
    assert bm.f_measure(truth, truth) == 100.0
    assert bm.pseudo_f_measure(truth, truth) == 100.0
    assert bm.binary_psnr(truth, truth) == math.inf
    assert bm.drd(truth, truth) == 0.0


def test_f_measure_by_hand():
    truth = _page()
    truth[0, :8] = True  # 8 ink pixels
    out = _page()
    out[0, :4] = True  # 4 found
    out[5, :4] = True  # 4 false alarms
    # precision 4/8, recall 4/8 -> F = 50
    assert bm.f_measure(out, truth) == pytest.approx(50.0)
    assert bm.precision_recall(out, truth) == (0.5, 0.5)


def test_pseudo_f_measure_forgives_thin_strokes():
    truth = _page((60, 20))
    truth[5:55, 8:13] = True  # a 5-pixel-wide stroke
    thin = _page((60, 20))
    thin[5:55, 10] = True  # only its centre line
    assert bm.pseudo_f_measure(thin, truth) > 90.0
    assert bm.f_measure(thin, truth) < 40.0


def test_psnr_by_hand():
    truth = _page((10, 10))
    out = truth.copy()
    out[0, 0] = True  # 1 of 100 pixels wrong -> 10 log10(100) = 20 dB
    assert bm.binary_psnr(out, truth) == pytest.approx(20.0)


def test_drd_of_one_false_alarm_by_hand():
    truth = _page((16, 16))
    truth[0:8, 0:4] = True  # one non-uniform 8x8 block (top left); the rest uniform
    out = truth.copy()
    out[12, 12] = True  # an isolated false alarm far from any ink
    # Its 5x5 neighbourhood in the truth is all paper: cost = sum of weights = 1,
    # and there is exactly one non-uniform block.
    assert bm.drd(out, truth) == pytest.approx(1.0)
    weights = bm._drd_weights()
    assert weights[2, 2] == 0 and weights.sum() == pytest.approx(1.0)
    assert weights[2, 3] == pytest.approx(1 / (4 + 4 / math.sqrt(2) + 8 / math.sqrt(5) + 4 / 2 + 4 / math.sqrt(8)))


def test_shapes_must_match():
    with pytest.raises(ValueError, match="one shape"):
        bm.f_measure(_page((4, 4)), _page((4, 5)))
