"""Threshold-free metrics from continuous scores: ROC-AUC, PR-AUC and the oracle best F1.

Thin wrappers over scikit-learn that keep this package's ``nan`` conventions (see
:mod:`faultlab.harness.scoring.base`). An alarm at threshold ``t`` is ``score >= t``; the curves
step through every distinct score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import metrics as skm

from faultlab.harness.scoring.base import as_binary, as_scores, check_same_length, register


@dataclass(frozen=True)
class OracleF1:
    """The best point-wise F1 over all thresholds, found with the labels: an "oracle" number."""

    threshold: float
    f1: float
    precision: float
    recall: float


def _checked(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, int, int]:
    truth = as_binary(y_true, "y_true")
    s = as_scores(scores)
    check_same_length(truth, s, "y_true and scores")
    n_pos = int(truth.sum())
    return truth, s, n_pos, len(s) - n_pos


def roc_auc(y_true: Any, scores: Any) -> float:
    """Area under the ROC curve (scikit-learn's ``roc_auc_score``); ``nan`` unless both classes are present."""
    truth, s, n_pos, n_neg = _checked(y_true, scores)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float(skm.roc_auc_score(truth, s))


def pr_auc(y_true: Any, scores: Any) -> float:
    """Average precision, ``sum_k (R_k - R_{k-1}) P_k`` (scikit-learn's ``average_precision_score``).

    ``nan`` without labelled anomalies.
    """
    truth, s, n_pos, _ = _checked(y_true, scores)
    if n_pos == 0:
        return float("nan")
    return float(skm.average_precision_score(truth, s))


def best_f1_threshold(y_true: Any, scores: Any) -> OracleF1:
    """The threshold that maximises point-wise F1 on these labels (ties: the highest threshold).

    An upper bound that no deployed detector can reach (it peeks at the labels); always label it
    "oracle". All fields are ``nan`` without labelled anomalies. The curve is scikit-learn's
    ``precision_recall_curve`` (alarm at ``score >= t``).
    """
    truth, s, n_pos, _ = _checked(y_true, scores)
    if n_pos == 0:
        nan = float("nan")
        return OracleF1(nan, nan, nan, nan)
    precision, recall, thresholds = skm.precision_recall_curve(truth, s)
    precision, recall = precision[:-1], recall[:-1]  # the last point (recall 0) has no threshold
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = len(f1) - 1 - int(np.argmax(f1[::-1]))  # thresholds ascend: the last maximum is the highest
    return OracleF1(float(thresholds[best]), float(f1[best]), float(precision[best]), float(recall[best]))


def best_f1(y_true: Any, scores: Any) -> float:
    """The F1 of :func:`best_f1_threshold` (oracle)."""
    return best_f1_threshold(y_true, scores).f1


register("roc_auc", roc_auc, "score")
register("pr_auc", pr_auc, "score")
register("best_f1", best_f1, "score", caveat="oracle")
