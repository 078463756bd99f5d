"""The metric registry entry and the input checks every metric shares.

Conventions for every metric in this package:

- Scores: higher = more anomalous; predictions and labels are 0/1 per time step.
- A metric whose answer needs labelled anomalies (recall, F1, ROC-AUC, PR-AUC, VUS, best-F1,
  detection delay) returns ``nan`` when the labels hold no anomaly: the question has no answer,
  and ``nan`` keeps such a series out of ``nanmean`` instead of dragging the mean to 0.
- Precision with no positive prediction is 0 (scikit-learn's ``zero_division=0``): a detector
  that never alarms gets no credit, and a leaderboard can still rank it.
- ROC-AUC and VUS-ROC are ``nan`` when there is no normal step (a ROC curve needs both classes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from faultlab.errors import BadInput
from faultlab.registry import Registry

MetricKind = Literal["binary", "score", "events", "classification", "rootcause"]

#: What each kind's function takes as positional arguments (context goes in keywords).
KIND_SIGNATURES: dict[str, str] = {
    "binary": "fn(y_true, y_pred) with 0/1 arrays",
    "score": "fn(y_true, scores) with 0/1 labels and float scores (higher = more anomalous)",
    "events": "fn(y_true, y_pred, *, timestamps_s=None, step_s=None) with 0/1 arrays",
    "classification": "fn(y_true, y_pred) with sequences of fault-type strings",
    "rootcause": "fn(ranked, truth) with ranked candidate lists and true root-cause sets",
}


@dataclass(frozen=True)
class Metric:
    """One registered metric: enough for an evaluator to call it without knowing it.

    ``caveat`` is a label to print next to the number (``"oracle"`` for a threshold chosen with
    the labels, ``"optimistic"`` for point adjustment); empty for an honest metric.
    """

    name: str
    fn: Callable[..., float]
    kind: MetricKind
    higher_is_better: bool = True
    caveat: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    reference: str = ""

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        return float(self.fn(*args, **{**self.params, **kwargs}))

    @property
    def display_name(self) -> str:
        """``"best_f1 (oracle)"``: the name with its caveat, for tables."""
        return f"{self.name} ({self.caveat})" if self.caveat else self.name


METRICS: Registry[Metric] = Registry("metric")


def register(
    name: str,
    fn: Callable[..., float],
    kind: MetricKind,
    *,
    higher_is_better: bool = True,
    caveat: str = "",
    params: Mapping[str, Any] | None = None,
    reference: str = "",
) -> Metric:
    """Add a :class:`Metric` to :data:`METRICS` and return it."""
    if kind not in KIND_SIGNATURES:
        raise ValueError(f"metric {name!r}: unknown kind {kind!r}")
    metric = Metric(name, fn, kind, higher_is_better, caveat, dict(params or {}), reference)
    return METRICS.add(name, metric)


def select_metrics(names: Sequence[str] | None) -> list[Metric]:
    """The registered metrics named, once each in the order given (all when empty); BadInput
    names an unknown one before anything is fitted."""
    if not names:
        return [METRICS.get(n) for n in METRICS.names()]
    return [METRICS.get(str(n)) for n in dict.fromkeys(names)]


# ---- input checks --------------------------------------------------------------------------
def as_binary(values: Any, name: str) -> np.ndarray:
    """A 1-D bool array from 0/1 (or bool) values; anything else is a BadInput naming ``name``."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise BadInput(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr
    if arr.size and not np.isin(arr, (0, 1)).all():
        bad = arr[~np.isin(arr, (0, 1))][0]
        raise BadInput(f"{name} must hold only 0 and 1, found {bad!r}")
    return arr.astype(bool)


def as_scores(values: Any, name: str = "scores") -> np.ndarray:
    """A 1-D finite float64 array; NaN or inf scores are a BadInput (they have no order)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise BadInput(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise BadInput(f"{name} holds {int((~np.isfinite(arr)).sum())} NaN/inf values")
    return arr


def check_same_length(a: np.ndarray, b: np.ndarray, names: str = "y_true and y_pred") -> None:
    if len(a) != len(b):
        raise BadInput(f"{names} differ in length: {len(a)} != {len(b)}")


def safe_ratio(num: float, den: float, when_zero: float) -> float:
    """``num / den``, or ``when_zero`` where the denominator is 0."""
    return float(num) / float(den) if den else when_zero


def f_beta(precision: float, recall: float, beta: float = 1.0) -> float:
    """Weighted harmonic mean; ``nan`` if either input is ``nan``, 0 if both are 0."""
    if np.isnan(precision) or np.isnan(recall):
        return float("nan")
    b2 = beta * beta
    den = b2 * precision + recall
    return (1.0 + b2) * precision * recall / den if den > 0 else 0.0
