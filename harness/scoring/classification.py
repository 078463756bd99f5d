"""Fault-type classification metrics over per-fault (or per-window) string labels.

Labels are strings such as ``"cpu"`` or ``"latency"``; the label order of per-class results and
of the confusion matrix is the one given, or the sorted union of true and predicted labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

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


def confusion_matrix(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """``C[i, j]`` = how many of true class ``labels[i]`` were predicted as ``labels[j]``.

    A fixed ``labels`` order keeps matrices comparable across runs; a label outside it is a
    BadInput rather than silently dropped.
    """
    truth, pred = _labels(y_true, y_pred)
    if labels is None:
        order = [str(x) for x in np.unique(np.concatenate([truth, pred]))]
    else:
        order = [str(x) for x in labels]
    if len(set(order)) != len(order):
        raise BadInput(f"labels repeat a name: {order}")
    true_idx, pred_idx = _codes(truth, order), _codes(pred, order)
    size = len(order)
    flat = np.bincount(true_idx * size + pred_idx, minlength=size * size)
    matrix = flat.reshape(size, size).astype(np.int64)
    return matrix, order


def _codes(values: np.ndarray, order: list[str]) -> np.ndarray:
    """Index of each value in ``order``; a value outside it is a BadInput."""
    names = np.array(order, dtype=str)
    sorter = np.argsort(names)
    pos = np.searchsorted(names, values, sorter=sorter) if len(names) else np.zeros(len(values), dtype=np.int64)
    pos = np.minimum(pos, max(len(names) - 1, 0))
    found = names[sorter[pos]] == values if len(names) else np.zeros(len(values), dtype=bool)
    if not found.all():
        raise BadInput(f"class label {str(values[~found][0])!r} is not in the label order {order}")
    return sorter[pos]


def per_class_precision_recall(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, dict[str, float]]:
    """``{label: {"precision", "recall", "f1", "support"}}``.

    Precision is 0 for a class never predicted; recall and F1 are ``nan`` for a class with no
    true example (see :mod:`faultlab.harness.scoring.base`).
    """
    matrix, order = confusion_matrix(y_true, y_pred, labels)
    tp = np.diag(matrix).astype(np.float64)
    n_pred = matrix.sum(axis=0)
    support = matrix.sum(axis=1)
    out: dict[str, dict[str, float]] = {}
    for i, name in enumerate(order):
        precision = tp[i] / n_pred[i] if n_pred[i] else 0.0
        recall = tp[i] / support[i] if support[i] else float("nan")
        f1 = float("nan") if not support[i] else (2 * tp[i] / (n_pred[i] + support[i]))
        out[name] = {"precision": float(precision), "recall": float(recall), "f1": float(f1), "support": float(support[i])}
    return out


def accuracy(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Share of exact matches; ``nan`` for no examples."""
    truth, pred = _labels(y_true, y_pred)
    return float(np.mean(truth == pred)) if len(truth) else float("nan")


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None) -> float:
    """Unweighted mean of per-class F1 over the classes that occur in ``y_true`` or ``y_pred``.

    A class that is only ever predicted counts with F1 = 0 (as scikit-learn's ``f1_score(...,
    average="macro")``); classes of a given ``labels`` order that occur nowhere are left out.
    """
    matrix, _ = confusion_matrix(y_true, y_pred, labels)
    tp = np.diag(matrix).astype(np.float64)
    denom = matrix.sum(axis=0) + matrix.sum(axis=1)
    present = denom > 0
    if not present.any():
        return float("nan")
    return float(np.mean(2 * tp[present] / denom[present]))


register("accuracy", accuracy, "classification")
register("macro_f1", macro_f1, "classification")
