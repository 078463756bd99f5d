"""Classification, root-cause, breakdown and seed aggregation, plus the registry contract."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from faultlab.errors import BadInput
from faultlab.harness.scoring import (
    KIND_SIGNATURES,
    METRICS,
    Metric,
    ac_at_k,
    accuracy,
    aggregate_seeds,
    aggregate_table,
    avg_at_k,
    breakdown,
    breakdown_by,
    breakdown_items,
    confusion_matrix,
    group_masks,
    macro_f1,
    per_class_precision_recall,
    point_recall,
    roc_auc,
)

TRUE = ["cpu", "cpu", "mem", "net", "net", "net"]
PRED = ["cpu", "mem", "mem", "net", "cpu", "net"]


# ---- classification ------------------------------------------------------------------------
def test_confusion_matrix_fixed_order() -> None:
    matrix, order = confusion_matrix(TRUE, PRED, labels=["net", "mem", "cpu", "disk"])
    assert order == ["net", "mem", "cpu", "disk"]
    assert matrix.tolist() == [[2, 0, 1, 0], [0, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    with pytest.raises(BadInput, match="'net' is not in the label order"):
        confusion_matrix(TRUE, PRED, labels=["cpu", "mem"])


def test_accuracy_macro_f1_per_class_by_hand() -> None:
    assert accuracy(TRUE, PRED) == pytest.approx(4 / 6)
    # F1 per class: cpu 2*1/(2+2) = .5, mem 2*1/(2+1) = 2/3, net 2*2/(3+2) = .8.
    assert macro_f1(TRUE, PRED) == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    # A class of the fixed order that occurs nowhere does not dilute the mean.
    assert macro_f1(TRUE, PRED, labels=["cpu", "mem", "net", "disk"]) == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    per = per_class_precision_recall(TRUE, PRED, labels=["cpu", "mem", "net", "disk"])
    assert per["cpu"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2.0}
    assert per["net"]["precision"] == pytest.approx(1.0)
    assert per["net"]["recall"] == pytest.approx(2 / 3)
    assert per["disk"]["precision"] == 0.0
    assert math.isnan(per["disk"]["recall"])


def test_only_predicted_class_counts_as_zero() -> None:
    assert macro_f1(["a", "a"], ["a", "b"]) == pytest.approx((2 / 3 + 0.0) / 2)
    assert math.isnan(accuracy([], []))


# ---- root cause ----------------------------------------------------------------------------
RANKED = [["db", "cart", "api"], ["api", "cart", "db", "web"], ["web", "api", "api", "cart", "db", "x"]]
CAUSES = [{"db"}, {"db"}, {"cart"}]


def test_ac_at_k_by_hand() -> None:
    # Rank of the root cause: 1, 3, 3 (the repeated "api" counts once).
    assert ac_at_k(RANKED, CAUSES, 1) == pytest.approx(1 / 3)
    assert ac_at_k(RANKED, CAUSES, 2) == pytest.approx(1 / 3)
    assert ac_at_k(RANKED, CAUSES, 3) == pytest.approx(1.0)
    assert avg_at_k(RANKED, CAUSES, 5) == pytest.approx((1 / 3 + 1 / 3 + 1 + 1 + 1) / 5)


def test_ac_at_k_several_root_causes() -> None:
    ranked = [["a", "x", "b", "c"]]
    truth = [{"a", "b"}]
    assert ac_at_k(ranked, truth, 1) == pytest.approx(1.0)  # 1 hit / min(1, 2)
    assert ac_at_k(ranked, truth, 2) == pytest.approx(0.5)  # 1 hit / 2
    assert ac_at_k(ranked, truth, 3) == pytest.approx(1.0)  # 2 hits / 2
    assert ac_at_k([["a"]], ["a"], 1) == 1.0  # a bare string is one root cause


def test_ac_at_k_bad_input() -> None:
    with pytest.raises(BadInput, match="empty"):
        ac_at_k([["a"]], [set()], 1)
    with pytest.raises(BadInput, match="differ in length"):
        ac_at_k([["a"]], [], 1)
    assert math.isnan(ac_at_k([], [], 1))


# ---- breakdowns ----------------------------------------------------------------------------
def test_group_masks_types_and_services() -> None:
    types = group_masks(["", "cpu", "cpu", "", "mem"])
    assert sorted(types) == ["cpu", "mem"]
    assert types["cpu"].tolist() == [False, True, True, False, False]
    services = group_masks(["", "cart,db", "cart", "db", ""], split=",")
    assert services["db"].tolist() == [False, True, False, True, False]
    assert services["cart"].tolist() == [False, True, True, False, False]


def test_breakdown_keeps_normal_steps_and_drops_other_faults() -> None:
    y = np.array([0, 1, 1, 0, 1, 1, 0])
    fault_type = ["", "cpu", "cpu", "", "mem", "mem", ""]
    pred = np.array([0, 1, 1, 0, 0, 0, 0])
    scores = np.array([0.1, 0.9, 0.8, 0.2, 0.15, 0.05, 0.3])
    masks = group_masks(fault_type)
    assert breakdown(point_recall, y, pred, masks) == {"cpu": 1.0, "mem": 0.0}
    by_type = breakdown(roc_auc, y, scores, masks)
    assert by_type["cpu"] == pytest.approx(1.0)
    # mem steps (0.15, 0.05) against normal (0.1, 0.2, 0.3): 1 pair of 6 ordered right.
    assert by_type["mem"] == pytest.approx(1 / 6)


def test_breakdown_cuts_timestamps_too() -> None:
    metric = METRICS.get("mean_delay_s")
    y = np.array([0, 1, 1, 0, 1, 1])
    p = np.array([0, 0, 1, 0, 1, 0])
    t = np.arange(6) * 10.0
    out = breakdown(metric, y, p, group_masks(["", "a", "a", "", "b", "b"]), timestamps_s=t)
    assert out == {"a": 10.0, "b": 0.0}


def test_breakdown_by_labels_frame() -> None:
    labels = pd.DataFrame(
        {
            "anomaly": [0, 1, 1, 0, 1, 1, 0],
            "fault_type": ["", "cpu", "cpu", "", "mem", "mem", ""],
            "root_cause": ["", "cart,db", "cart,db", "", "web", "web", ""],
            "fault_id": ["", "f1", "f1", "", "f2", "f2", ""],
        }
    )
    pred = np.array([0, 1, 0, 0, 0, 0, 1])
    assert breakdown_by(point_recall, labels, pred) == {"cpu": 0.5, "mem": 0.0}
    assert breakdown_by(point_recall, labels, pred, by="root_cause") == {"cart": 0.5, "db": 0.5, "web": 0.0}
    assert breakdown_by(point_recall, labels, pred, by="fault_id") == {"f1": 0.5, "f2": 0.0}
    with pytest.raises(BadInput, match="'service'"):
        breakdown_by(point_recall, labels, pred, by="service")


def test_breakdown_items_per_fault_type() -> None:
    out = breakdown_items(lambda r, c: ac_at_k(r, c, 1), ["db", "db", "svc"], RANKED, CAUSES)
    assert out == {"db": 0.5, "svc": 0.0}


def test_aggregate_seeds() -> None:
    summary = aggregate_seeds([0.5, 0.7, float("nan"), 0.9])
    assert summary.mean == pytest.approx(0.7)
    assert summary.std == pytest.approx(0.2)
    assert summary.n == 3
    single = aggregate_seeds([0.4])
    assert single.mean == 0.4 and math.isnan(single.std)
    assert aggregate_seeds([]).n == 0


def test_aggregate_table() -> None:
    table = pd.DataFrame(
        {
            "detector": ["a", "a", "b", "b"],
            "metric": ["f1"] * 4,
            "seed": [0, 1, 0, 1],
            "value": [0.2, 0.4, 0.5, 0.5],
        }
    )
    out = aggregate_table(table)
    assert out["detector"].tolist() == ["a", "b"]
    assert out["mean"].tolist() == pytest.approx([0.3, 0.5])
    assert out["std"].tolist() == pytest.approx([math.sqrt(0.02), 0.0])
    assert out["n"].tolist() == [2, 2]
    with pytest.raises(BadInput, match="'seed'"):
        aggregate_table(table.drop(columns="seed"))


# ---- registry ------------------------------------------------------------------------------
def test_registry_has_every_metric_with_a_kind() -> None:
    expected = {
        "precision", "recall", "f1", "pa_f1", "range_precision", "range_recall", "range_f1",
        "roc_auc", "pr_auc", "vus_roc", "vus_pr", "best_f1", "mean_delay_s", "false_alarms_per_h",
        "accuracy", "macro_f1", "ac@1", "ac@3", "ac@5", "avg@5",
    }  # fmt: skip
    assert expected <= set(METRICS.names())
    for name, metric in METRICS.items():
        assert isinstance(metric, Metric) and metric.name == name
        assert metric.kind in KIND_SIGNATURES
    assert METRICS.get("best_f1").display_name == "best_f1 (oracle)"
    assert METRICS.get("pa_f1").caveat == "optimistic"
    assert not METRICS.get("false_alarms_per_h").higher_is_better
    with pytest.raises(BadInput, match="unknown metric"):
        METRICS.get("nope")


def test_every_metric_is_callable_generically() -> None:
    """What an evaluator does: pick the inputs by kind, call, get a float."""
    y = np.array([0, 0, 1, 1, 0, 0, 1, 0, 0, 0])
    scores = np.array([0.1, 0.2, 0.9, 0.7, 0.3, 0.1, 0.8, 0.2, 0.6, 0.1])
    inputs = {
        "binary": ((y, (scores > 0.5).astype(int)), {}),
        "score": ((y, scores), {}),
        "events": ((y, (scores > 0.5).astype(int)), {"step_s": 5.0}),
        "classification": ((TRUE, PRED), {}),
        "rootcause": ((RANKED, CAUSES), {}),
    }
    for name, metric in METRICS.items():
        args, context = inputs[metric.kind]
        value = metric(*args, **context)
        assert isinstance(value, float) and math.isfinite(value), name
        if metric.kind != "events":
            assert 0.0 <= value <= 1.0, name
    assert METRICS.get("ac@3")(RANKED, CAUSES) == pytest.approx(1.0)
    assert METRICS.get("ac@1")(RANKED, CAUSES) == pytest.approx(1 / 3)
