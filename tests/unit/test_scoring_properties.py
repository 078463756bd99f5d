"""Property tests: bounds, invariances and monotonicity that every correct metric must keep."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from faultlab.harness.scoring import (
    METRICS,
    point_f1,
    point_precision,
    point_recall,
    pr_auc,
    roc_auc,
    vus_pr,
    vus_roc,
)

FAST = settings(max_examples=60, deadline=None)

binary = st.lists(st.integers(0, 1), min_size=1, max_size=60)


@st.composite
def labelled_pair(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    y = draw(binary)
    p = draw(st.lists(st.integers(0, 1), min_size=len(y), max_size=len(y)))
    return np.array(y), np.array(p)


@st.composite
def labelled_scores(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Labels with both classes and integer-valued scores (ties likely)."""
    y = draw(st.lists(st.integers(0, 1), min_size=2, max_size=60).filter(lambda v: 0 < sum(v) < len(v)))
    s = draw(st.lists(st.integers(0, 15), min_size=len(y), max_size=len(y)))
    return np.array(y), np.array(s, dtype=np.float64)


@FAST
@given(labelled_pair())
def test_binary_metrics_within_unit_interval(pair: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = pair
    for name, metric in METRICS.items():
        if metric.kind == "binary":
            value = metric(y, p)
            undefined = y.sum() == 0 and not name.endswith("precision")  # see scoring.base
            if name == "alarm_rate":  # a share of the fault-free steps
                undefined = bool(y.all())
            assert math.isnan(value) == undefined, name
            assert undefined or 0.0 <= value <= 1.0 + 1e-12, name


@FAST
@given(labelled_scores())
def test_score_metrics_within_unit_interval(pair: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = pair
    for name, metric in METRICS.items():
        if metric.kind == "score":
            params = {"window": 6} if name.startswith("vus") else {}
            value = metric(y, s, **params)
            assert 0.0 <= value <= 1.0 + 1e-12, name


@FAST
@given(labelled_pair(), st.randoms(use_true_random=False))
def test_point_metrics_invariant_under_joint_permutation(pair: tuple[np.ndarray, np.ndarray], rnd) -> None:
    y, p = pair
    order = list(range(len(y)))
    rnd.shuffle(order)
    for fn in (point_precision, point_recall, point_f1):
        a, b = fn(y, p), fn(y[order], p[order])
        assert (math.isnan(a) and math.isnan(b)) or a == b


@FAST
@given(labelled_scores())
def test_aucs_invariant_under_monotone_transform(pair: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = pair
    t = np.exp(s / 4.0) * 3.0 - 7.0  # strictly increasing: same order, same ties
    assert math.isclose(roc_auc(y, s), roc_auc(y, t), abs_tol=1e-12)
    assert math.isclose(pr_auc(y, s), pr_auc(y, t), abs_tol=1e-12)
    assert math.isclose(vus_roc(y, s, window=4), vus_roc(y, t, window=4), abs_tol=1e-12)
    assert math.isclose(vus_pr(y, s, window=4), vus_pr(y, t, window=4), abs_tol=1e-12)


@FAST
@given(labelled_scores(), st.integers(0, 15), st.integers(0, 15))
def test_recall_monotone_in_threshold(pair: tuple[np.ndarray, np.ndarray], a: int, b: int) -> None:
    y, s = pair
    low, high = min(a, b), max(a, b)
    assert point_recall(y, s >= low) >= point_recall(y, s >= high)
    # Range recall with cardinality "one" only gains overlap as alarms are added.
    range_recall = METRICS.get("range_recall")
    assert range_recall(y, s >= low) >= range_recall(y, s >= high) - 1e-12
