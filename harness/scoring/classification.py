"""Fault-type classification metrics over per-fault (or per-window) string labels.

Thin wrappers over scikit-learn's metrics that keep this package's ``nan`` conventions.

Labels are strings such as ``"cpu"`` or ``"latency"``; the label order of per-class results and
of the confusion matrix is the one given, or the sorted union of true and predicted labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

from faultlab.errors import BadInput
from faultlab.harness.scoring.base import register


def _labels(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(y_true).astype(str)
    pred = np.asarray(y_pred).astype(str)
    if truth.ndim != 1 or pred.ndim != 1:
        raise BadInput(f"class labels must be 1-D, got shapes {truth.shape} and {pred.shape}")
    if len(truth) != len(pred):
        raise BadInput(f"y_true and y_pred differ in length: {len(truth)} != {len(pred)}")
    return truth, pred


def _order(truth: np.ndarray, pred: np.ndarray, labels: Sequence[str] | None) -> list[str]:
    """The label order: the given one (checked: no repeats, nothing outside it) or the sorted union."""
    if labels is None:
        return [str(x) for x in np.unique(np.concatenate([truth, pred]))]
    order = [str(x) for x in labels]
    if len(set(order)) != len(order):
        raise BadInput(f"labels repeat a name: {order}")
    outside = sorted((set(truth.tolist()) | set(pred.tolist())) - set(order))
    if outside:
        raise BadInput(f"class label {outside[0]!r} is not in the label order {order}")
    return order


def confusion_matrix(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """``C[i, j]`` = how many of true class ``labels[i]`` were predicted as ``labels[j]``.

    scikit-learn's ``confusion_matrix``; a fixed ``labels`` order keeps matrices comparable across
    runs, and a label outside it is a BadInput rather than silently dropped.
    """
    truth, pred = _labels(y_true, y_pred)
    order = _order(truth, pred, labels)
    if not order:
        return np.zeros((0, 0), dtype=np.int64), order
    return skm.confusion_matrix(truth, pred, labels=order).astype(np.int64), order


def per_class_precision_recall(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, dict[str, float]]:
    """``{label: {"precision", "recall", "f1", "support"}}`` (scikit-learn's ``precision_recall_fscore_support``).

    Precision is 0 for a class never predicted; recall and F1 are ``nan`` for a class with no
    true example (see :mod:`faultlab.harness.scoring.base`).
    """
    truth, pred = _labels(y_true, y_pred)
    order = _order(truth, pred, labels)
    if not order:
        return {}
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        truth, pred, labels=order, zero_division=np.nan)
    precision = np.nan_to_num(precision, nan=0.0)
    f1 = np.where(support > 0, np.nan_to_num(f1, nan=0.0), np.nan)
    return {name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                   "support": float(support[i])} for i, name in enumerate(order)}


def accuracy(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Share of exact matches (scikit-learn's ``accuracy_score``); ``nan`` for no examples."""
    truth, pred = _labels(y_true, y_pred)
    return float(skm.accuracy_score(truth, pred)) if len(truth) else float("nan")


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None) -> float:
    """Unweighted mean of per-class F1 over the classes that occur in ``y_true`` or ``y_pred``.

    scikit-learn's ``f1_score(..., average="macro")``: a class that is only ever predicted counts
    with F1 = 0; classes of a given ``labels`` order that occur nowhere are left out.
    """
    truth, pred = _labels(y_true, y_pred)
    order = _order(truth, pred, labels)
    present = [c for c in order if c in set(truth.tolist()) | set(pred.tolist())]
    if not present:
        return float("nan")
    return float(skm.f1_score(truth, pred, labels=present, average="macro", zero_division=0))


register("accuracy", accuracy, "classification")
register("macro_f1", macro_f1, "classification")
