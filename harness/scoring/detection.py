"""Detection metrics from binary predictions: point-wise, point-adjusted and range-based.

All take ``(y_true, y_pred)`` 0/1 arrays of one length; see :mod:`faultlab.harness.scoring.base` for the
``nan`` / 0 conventions (recall and F1 are ``nan`` without labelled anomalies; precision is 0
without positive predictions).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from faultlab.errors import BadInput
from faultlab.harness.scoring.base import as_binary, check_same_length, f_beta, register, safe_ratio
from faultlab.harness.scoring.events import segment_events

Cardinality = Literal["one", "reciprocal"]
Bias = Literal["flat", "front", "middle", "back"]
BIASES = ("flat", "front", "middle", "back")
CARDINALITIES = ("one", "reciprocal")


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    truth = as_binary(y_true, "y_true")
    pred = as_binary(y_pred, "y_pred")
    check_same_length(truth, pred)
    return truth, pred


# ---- point-wise ----------------------------------------------------------------------------
def _point_counts(truth: np.ndarray, pred: np.ndarray) -> tuple[int, int, int]:
    """True positives, predicted positives, labelled positives."""
    return int(np.count_nonzero(truth & pred)), int(np.count_nonzero(pred)), int(np.count_nonzero(truth))


def point_precision(y_true: Any, y_pred: Any) -> float:
    """Share of alarmed steps that are labelled anomalous (0 without alarms)."""
    tp, n_pred, _ = _point_counts(*_pair(y_true, y_pred))
    return safe_ratio(tp, n_pred, 0.0)


def point_recall(y_true: Any, y_pred: Any) -> float:
    """Share of anomalous steps alarmed (``nan`` without labelled anomalies)."""
    tp, _, n_true = _point_counts(*_pair(y_true, y_pred))
    return safe_ratio(tp, n_true, float("nan"))


def point_f1(y_true: Any, y_pred: Any) -> float:
    """Harmonic mean of point-wise precision and recall."""
    tp, n_pred, n_true = _point_counts(*_pair(y_true, y_pred))
    return f_beta(safe_ratio(tp, n_pred, 0.0), safe_ratio(tp, n_true, float("nan")))


def alarm_rate(y_true: Any, y_pred: Any) -> float:
    """Share of the fault-free steps alarmed: what an operator pays for a threshold (``nan`` without one).

    Lower is better; a calibrated detector alarms on about as many fault-free test steps as its
    threshold quantile promises on its training part.
    """
    truth, pred = _pair(y_true, y_pred)
    normal = ~truth
    return float(pred[normal].mean()) if normal.any() else float("nan")


# ---- point adjustment (optimistic) ---------------------------------------------------------
def point_adjust(y_true: Any, y_pred: Any) -> np.ndarray:
    """Predictions with every labelled event that holds one alarm marked alarmed as a whole.

    The protocol of Xu et al. 2018 (Donut, WWW'18, Sec. 4.2): it credits a single lucky alarm
    with the whole event, so it overstates detectors (Kim et al., AAAI 2022); report it only
    next to honest metrics and labelled "optimistic".
    """
    truth, pred = _pair(y_true, y_pred)
    adjusted = pred.copy()
    events = segment_events(truth)
    if len(events):
        cum = np.concatenate(([0], np.cumsum(pred, dtype=np.int64)))
        hit = events[(cum[events[:, 1] + 1] - cum[events[:, 0]]) > 0]
        marks = np.zeros(len(pred) + 1, dtype=np.int64)
        np.add.at(marks, hit[:, 0], 1)
        np.add.at(marks, hit[:, 1] + 1, -1)
        adjusted |= np.cumsum(marks[:-1]) > 0
    return adjusted


def pa_precision(y_true: Any, y_pred: Any) -> float:
    """Point-wise precision after :func:`point_adjust` (optimistic)."""
    return point_precision(y_true, point_adjust(y_true, y_pred))


def pa_recall(y_true: Any, y_pred: Any) -> float:
    """Point-wise recall after :func:`point_adjust` (optimistic)."""
    return point_recall(y_true, point_adjust(y_true, y_pred))


def pa_f1(y_true: Any, y_pred: Any) -> float:
    """Point-adjusted F1 (Xu et al. 2018): optimistic, always report it labelled as such."""
    return point_f1(y_true, point_adjust(y_true, y_pred))


# ---- range-based (Tatbul et al. 2018) ------------------------------------------------------
def _bias_cumsum(k: np.ndarray, length: np.ndarray, bias: str) -> np.ndarray:
    """``sum_{i=1..k} delta(i, length)`` in closed form for each positional bias δ (Sec. 3)."""
    k = k.astype(np.float64)
    length = length.astype(np.float64)
    if bias == "flat":
        return k
    if bias == "back":  # δ(i) = i
        return k * (k + 1) / 2
    if bias == "front":  # δ(i) = L - i + 1
        return k * (length + 1) - k * (k + 1) / 2
    if bias == "middle":  # δ(i) = i up to L/2, then L - i + 1
        m = np.floor(length / 2)
        rising = np.minimum(k, m)
        falling = np.maximum(k - m, 0)
        return rising * (rising + 1) / 2 + falling * (length + 1) - (
            (m + falling) * (m + falling + 1) - m * (m + 1)
        ) / 2
    raise BadInput(f"positional bias must be one of {', '.join(BIASES)}, got {bias!r}")


def _range_score(own: np.ndarray, other: np.ndarray, alpha: float, cardinality: str, bias: str) -> float:
    """Mean over ``own`` ranges of ``alpha * existence + (1 - alpha) * gamma * sum(omega)``."""
    if not 0.0 <= alpha <= 1.0:
        raise BadInput(f"alpha must be within [0, 1], got {alpha!r}")
    if cardinality not in CARDINALITIES:
        raise BadInput(f"cardinality must be one of {', '.join(CARDINALITIES)}, got {cardinality!r}")
    n_own = len(own)
    # Ranges are sorted and disjoint: the ones of `other` overlapping own[i] are a contiguous block.
    lo = np.searchsorted(other[:, 1], own[:, 0], side="left")
    hi = np.searchsorted(other[:, 0], own[:, 1], side="right")
    count = np.maximum(hi - lo, 0)
    owner = np.repeat(np.arange(n_own), count)
    offsets = np.concatenate(([0], np.cumsum(count)[:-1]))
    partner = lo[owner] + np.arange(len(owner)) - offsets[owner]
    start, end = own[owner, 0], own[owner, 1]
    first = np.maximum(start, other[partner, 0]) - start + 1  # 1-based positions in own range
    last = np.minimum(end, other[partner, 1]) - start + 1
    length = end - start + 1
    omega = (_bias_cumsum(last, length, bias) - _bias_cumsum(first - 1, length, bias)) / _bias_cumsum(
        length, length, bias
    )
    overlap = np.bincount(owner, weights=omega, minlength=n_own)
    gamma = np.ones(n_own) if cardinality == "one" else 1.0 / np.maximum(count, 1)
    per_range = alpha * (count > 0) + (1.0 - alpha) * gamma * overlap
    return float(per_range.mean())


def range_recall(
    y_true: Any, y_pred: Any, alpha: float = 0.0, cardinality: Cardinality = "one", bias: Bias = "flat"
) -> float:
    """Range-based recall of Tatbul et al., NeurIPS 2018, "Precision and Recall for Time Series".

    Per labelled range: ``alpha`` x existence reward + (1 - ``alpha``) x cardinality factor x
    positional-bias-weighted overlap; averaged over ranges. ``nan`` without labelled ranges.
    """
    truth, pred = _pair(y_true, y_pred)
    real = segment_events(truth)
    if len(real) == 0:
        return float("nan")
    return _range_score(real, segment_events(pred), alpha, cardinality, bias)


def range_precision(
    y_true: Any, y_pred: Any, alpha: float = 0.0, cardinality: Cardinality = "one", bias: Bias = "flat"
) -> float:
    """Range-based precision of Tatbul et al. 2018: the same reward seen from each alarm range.

    0 without alarm ranges. The paper recommends ``alpha = 0`` for precision.
    """
    truth, pred = _pair(y_true, y_pred)
    predicted = segment_events(pred)
    if len(predicted) == 0:
        return 0.0
    return _range_score(predicted, segment_events(truth), alpha, cardinality, bias)


def range_f1(
    y_true: Any,
    y_pred: Any,
    *,
    beta: float = 1.0,
    precision_alpha: float = 0.0,
    recall_alpha: float = 0.0,
    cardinality: Cardinality = "one",
    precision_bias: Bias = "flat",
    recall_bias: Bias = "flat",
) -> float:
    """F-beta of :func:`range_precision` and :func:`range_recall` (Tatbul et al. 2018, Sec. 4)."""
    recall = range_recall(y_true, y_pred, recall_alpha, cardinality, recall_bias)
    precision = range_precision(y_true, y_pred, precision_alpha, cardinality, precision_bias)
    return f_beta(precision, recall, beta)


TATBUL = "Tatbul et al., NeurIPS 2018"
XU = "Xu et al., WWW 2018 (point adjustment)"
register("precision", point_precision, "binary")
register("recall", point_recall, "binary")
register("f1", point_f1, "binary")
register("alarm_rate", alarm_rate, "binary", higher_is_better=False)
register("pa_precision", pa_precision, "binary", caveat="optimistic", reference=XU)
register("pa_recall", pa_recall, "binary", caveat="optimistic", reference=XU)
register("pa_f1", pa_f1, "binary", caveat="optimistic", reference=XU)
register("range_precision", range_precision, "binary", reference=TATBUL)
register("range_recall", range_recall, "binary", reference=TATBUL)
register("range_f1", range_f1, "binary", reference=TATBUL)
