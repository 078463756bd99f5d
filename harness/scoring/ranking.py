"""Threshold-free metrics from continuous scores: ROC-AUC, PR-AUC and the oracle best F1.

An alarm at threshold ``t`` is ``score >= t``; the curves step through every distinct score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from faultlab.harness.scoring.base import as_binary, as_scores, check_same_length, register


@dataclass(frozen=True)
class OracleF1:
    """The best point-wise F1 over all thresholds, found with the labels: an "oracle" number."""

    threshold: float
    f1: float
    precision: float
    recall: float


def _counts(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """True and false positive counts at each distinct score (descending), with P and N."""
    truth = as_binary(y_true, "y_true")
    s = as_scores(scores)
    check_same_length(truth, s, "y_true and scores")
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    last_of_tie = np.append(np.flatnonzero(np.diff(s_sorted)), len(s) - 1)
    tps = np.cumsum(truth[order], dtype=np.int64)[last_of_tie]
    fps = last_of_tie + 1 - tps
    n_pos = int(truth.sum())
    return tps, fps, s_sorted[last_of_tie], n_pos, len(s) - n_pos


def roc_auc(y_true: Any, scores: Any) -> float:
    """Area under the ROC curve (trapezoids); ``nan`` unless both classes are present."""
    tps, fps, _, n_pos, n_neg = _counts(y_true, scores)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    tpr = np.concatenate(([0.0], tps / n_pos))
    fpr = np.concatenate(([0.0], fps / n_neg))
    return float(np.trapezoid(tpr, fpr))


def pr_auc(y_true: Any, scores: Any) -> float:
    """Average precision, ``sum_k (R_k - R_{k-1}) P_k`` (no interpolation, as scikit-learn).

    ``nan`` without labelled anomalies.
    """
    tps, fps, _, n_pos, _ = _counts(y_true, scores)
    if n_pos == 0:
        return float("nan")
    recall = tps / n_pos
    precision = tps / (tps + fps)
    return float(np.sum(np.diff(np.concatenate(([0.0], recall))) * precision))


def best_f1_threshold(y_true: Any, scores: Any) -> OracleF1:
    """The threshold that maximises point-wise F1 on these labels (ties: the highest threshold).

    An upper bound that no deployed detector can reach (it peeks at the labels); always label it
    "oracle". All fields are ``nan`` without labelled anomalies.
    """
    tps, fps, thresholds, n_pos, _ = _counts(y_true, scores)
    if n_pos == 0:
        nan = float("nan")
        return OracleF1(nan, nan, nan, nan)
    f1 = 2.0 * tps / (n_pos + tps + fps)
    best = int(np.argmax(f1))
    return OracleF1(
        threshold=float(thresholds[best]),
        f1=float(f1[best]),
        precision=float(tps[best] / (tps[best] + fps[best])),
        recall=float(tps[best] / n_pos),
    )


def best_f1(y_true: Any, scores: Any) -> float:
    """The F1 of :func:`best_f1_threshold` (oracle)."""
    return best_f1_threshold(y_true, scores).f1


register("roc_auc", roc_auc, "score")
register("pr_auc", pr_auc, "score")
register("best_f1", best_f1, "score", caveat="oracle")
