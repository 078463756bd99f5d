"""Score-based metrics (ROC-AUC, PR-AUC, oracle best F1, VUS) on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from faultlab.errors import BadInput
from faultlab.harness.scoring import best_f1, best_f1_threshold, pr_auc, roc_auc, vus_per_window, vus_pr, vus_roc

Y = np.array([0, 0, 1, 1])
S = np.array([0.1, 0.4, 0.35, 0.8])


def test_roc_and_pr_auc_by_hand() -> None:
    # Positive/negative pairs ordered right: (0.35 > 0.1), (0.8 > 0.1), (0.8 > 0.4) -> 3 of 4.
    assert roc_auc(Y, S) == pytest.approx(0.75)
    # Recall steps 0.5 at precision 1 (0.8) and 0.5 at precision 2/3 (0.35).
    assert pr_auc(Y, S) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_ties_count_half() -> None:
    assert roc_auc([0, 1], [0.3, 0.3]) == pytest.approx(0.5)
    assert roc_auc([0, 1, 1], [0.3, 0.3, 0.9]) == pytest.approx(0.75)


def test_best_f1_is_an_oracle_with_its_threshold() -> None:
    best = best_f1_threshold(Y, S)
    # Thresholds 0.8, 0.4, 0.35, 0.1 give F1 2/3, 1/2, 4/5, 2/3.
    assert best.threshold == pytest.approx(0.35)
    assert best.f1 == pytest.approx(0.8)
    assert best.precision == pytest.approx(2 / 3)
    assert best.recall == pytest.approx(1.0)
    assert best_f1(Y, S) == pytest.approx(0.8)


def test_constant_scores() -> None:
    y = np.array([0, 1, 0, 0, 1, 0])
    c = np.full(6, 0.3)
    assert roc_auc(y, c) == pytest.approx(0.5)
    assert pr_auc(y, c) == pytest.approx(2 / 6)
    assert best_f1(y, c) == pytest.approx(2 * 2 / (2 + 6))
    assert vus_roc(y, c, window=0) == pytest.approx(0.5)
    assert vus_pr(y, c, window=0) == pytest.approx(2 / 6)


def test_no_anomalies_gives_nan() -> None:
    y = np.zeros(5, dtype=int)
    s = np.arange(5.0)
    for value in (roc_auc(y, s), pr_auc(y, s), best_f1(y, s), vus_roc(y, s), vus_pr(y, s)):
        assert math.isnan(value)
    assert math.isnan(best_f1_threshold(y, s).threshold)


def test_all_anomalies() -> None:
    y = np.ones(5, dtype=int)
    s = np.arange(5.0)
    assert math.isnan(roc_auc(y, s))
    assert math.isnan(vus_roc(y, s, window=4))
    assert pr_auc(y, s) == pytest.approx(1.0)
    assert vus_pr(y, s, window=4) == pytest.approx(1.0)


def test_nan_scores_are_bad_input() -> None:
    with pytest.raises(BadInput, match="NaN"):
        roc_auc([0, 1], [0.1, float("nan")])


def test_vus_without_buffer_is_range_auc_by_hand() -> None:
    # window 0: no buffer; one event [1, 2]; thresholds at every score.
    y = np.array([0, 1, 1, 0, 0, 0])
    s = np.array([0.1, 0.9, 0.2, 0.3, 0.0, 0.05])
    # Alarm sets grow {1}, {1,3}, {1,2,3}, ...: TPR .5, .5, 1, 1, 1, 1; FPR 0, .25, .25, .5, .75, 1.
    assert vus_roc(y, s, window=0, n_thresholds=6) == pytest.approx(0.125 + 0.75)
    assert vus_pr(y, s, window=0, n_thresholds=6) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_vus_buffer_credits_an_alarm_next_to_the_event() -> None:
    # One-point event at 2; the top score sits at 3, one step after it (normal).
    y = np.array([0, 0, 1, 0, 0])
    s = np.array([0.0, 0.1, 0.5, 0.9, 0.2])
    result = vus_per_window(y, s, window=2, n_thresholds=5)
    # w = 0 and 1 have no buffer: the alarm at 3 is a plain false positive.
    assert result.roc_per_window[:2] == pytest.approx([0.75, 0.75])
    assert result.pr_per_window[:2] == pytest.approx([0.5, 0.5])
    # w = 2: steps 1 and 3 weigh a = sqrt(1 - 1/2) as positives; P' = P + (buffer TP) / 2.
    a = math.sqrt(0.5)
    tpr0 = a / (1 + a / 2)
    fpr = [(1 - a) / (4 - a / 2), (1 - a) / (4 - a / 2), (2 - a) / (4 - a / 2), (3 - 2 * a) / (4 - a), (4 - 2 * a) / (4 - a)]
    roc_w2 = fpr[0] * tpr0 / 2 + (fpr[2] - fpr[1]) + (fpr[3] - fpr[2]) + (fpr[4] - fpr[3]) + (1 - fpr[4])
    pr_w2 = tpr0 * a + (1 - tpr0) * (1 + a) / 2
    assert result.roc_per_window[2] == pytest.approx(roc_w2)
    assert result.pr_per_window[2] == pytest.approx(pr_w2)
    assert result.vus_roc == pytest.approx((0.75 + 0.75 + roc_w2) / 3)
    assert result.vus_pr == pytest.approx((0.5 + 0.5 + pr_w2) / 3)
    assert result.vus_pr > vus_pr(y, s, window=0, n_thresholds=5)


def test_vus_perfect_detector_and_edges() -> None:
    y = np.zeros(200, dtype=int)
    y[:3] = 1  # event at the start
    y[100] = 1  # one-point event
    y[-5:] = 1  # event at the end
    s = y.astype(float)
    result = vus_per_window(y, s, window=10)
    assert result.vus_roc == pytest.approx(1.0)
    assert result.vus_pr == pytest.approx(1.0)


def test_vus_rejects_bad_parameters() -> None:
    with pytest.raises(BadInput, match="window"):
        vus_per_window([0, 1], [0.0, 1.0], window=-1)
