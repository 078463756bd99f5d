"""run_evaluation().table: the tidy table's rows, protocols and breakdowns, checked by hand on tiny data;
event-level classifier folds; scores.json round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.errors import BadInput
from faultlab.harness.datasets.index import resolve_dataset
from faultlab.harness.evaluation import (
    ADJUSTED,
    ALL,
    COLUMNS,
    FREE,
    ORACLE,
    OWN,
    REASON,
    SEGMENTS,
    SEGMENTS_METRIC,
    MethodSpec,
    as_specs,
    run_evaluation,
)
from faultlab.harness.evaluation.classifier_rows import event_folds
from faultlab.harness.evaluation.table import FROM_ALARM
from faultlab.harness.reports.scores_file import read_scores, summarize, write_scores

STATIC = {"name": "static_threshold", "params": {"metric": "a:cpu_cores", "value": 2.0}}


def tiny() -> Dataset:
    """30 steps at 5 s; train = steps 0..19; one cpu fault on service a at steps 24..26.

    a:cpu_cores is 1 except 5 at steps 24, 25, 26 (the fault) and 28 (a false alarm).
    b:cpu_cores wobbles around 1 and never deviates much.
    """
    index = pd.date_range("2026-01-01", periods=30, freq="5s", tz="UTC", name="timestamp")
    a = np.ones(30)
    a[[24, 25, 26, 28]] = 5.0
    a[:20] = [1.0, 1.1, 0.9, 1.0, 1.2, 0.8, 1.0, 1.1, 0.9, 1.0] * 2
    b = 1.0 + 0.1 * np.sin(np.arange(30))
    labels = pd.DataFrame({"anomaly": 0, "fault_type": "", "root_cause": "", "fault_id": ""}, index=index)
    labels.iloc[24:27] = [1, "cpu", "a", "f1"]
    labels["anomaly"] = labels["anomaly"].astype(np.int8)
    meta = {"name": "tiny", "scrape_interval_s": 5.0, "train_end": str(index[20])}
    return Dataset(pd.DataFrame({"a:cpu_cores": a, "b:cpu_cores": b}, index=index), labels,
                   ServiceGraph([], []), meta)


def value(table: pd.DataFrame, metric: str, protocol: str, breakdown: str = ALL, model: str | None = None) -> float:
    rows = table[(table["metric"] == metric) & (table["protocol"] == protocol) & (table["breakdown"] == breakdown)]
    if model is not None:
        rows = rows[rows["model"] == model]
    assert len(rows) == 1, rows
    return float(rows["value"].iloc[0])


@pytest.fixture(scope="module")
def static_table() -> pd.DataFrame:
    return run_evaluation(tiny(), [STATIC], seeds=[0], floors=False).table


def test_table_is_tidy_with_one_row_per_key(static_table):
    assert list(static_table.columns) == [*COLUMNS, REASON]
    key = ["kind", "model", "dataset", "seed", "metric", "protocol", "breakdown"]
    assert not static_table.duplicated(key).any()
    assert set(static_table["model"]) == {'static_threshold(metric="a:cpu_cores", value=2.0)'}
    assert set(static_table["breakdown"]) == {ALL, "fault_type=cpu", "target=a"}


def test_own_threshold_metrics_by_hand(static_table):
    # Alarms (a > 2) at steps 24, 25, 26, 28; the fault is 24..26.
    assert value(static_table, "precision", OWN) == pytest.approx(3 / 4)
    assert value(static_table, "recall", OWN) == pytest.approx(1.0)
    assert value(static_table, "f1", OWN) == pytest.approx(2 * 0.75 / 1.75)
    assert value(static_table, "mean_delay_s", OWN) == pytest.approx(0.0)
    # One false alarm event over 7 normal test steps of 5 s = 35 s.
    assert value(static_table, "false_alarms_per_h", OWN) == pytest.approx(3600 / 35)
    # The only fault type and target see the same steps as "all".
    assert value(static_table, "f1", OWN, "fault_type=cpu") == value(static_table, "f1", OWN)
    assert value(static_table, "f1", OWN, "target=a") == value(static_table, "f1", OWN)


def test_every_number_carries_its_protocol(static_table):
    protocols = static_table.groupby("metric")["protocol"].unique().map(set)
    assert protocols["pa_f1"] == {ADJUSTED}  # optimistic: never shown as the plain protocol
    assert protocols["best_f1"] == {ORACLE}
    assert protocols["f1"] == {OWN, ORACLE}
    assert protocols["roc_auc"] == {FREE}
    # The oracle threshold is the score of the four alarmed steps: same alarms, same F1.
    assert value(static_table, "f1", ORACLE) == pytest.approx(6 / 7)
    # Positives score 1.5; of the 7 normal steps one ties at 1.5 (half credit), six are -0.5.
    assert value(static_table, "roc_auc", FREE) == pytest.approx(6.5 / 7)
    assert "ac@1" not in set(static_table["metric"])  # static_threshold does not localize


def test_root_cause_from_localize_on_labelled_segments():
    table = run_evaluation(tiny(), ["zscore"], metrics=["ac@1", "avg@5"], floors=False).table
    # the faults per breakdown, and from the detector's own alarm: the faults missed and the delay to the alarm
    assert set(table["metric"]) == {"ac@1", "avg@5", "n_faults", "rca_missed", "rca_delay_s"}
    assert set(table["protocol"]) == {SEGMENTS, SEGMENTS_METRIC, FROM_ALARM}  # services, service:metric columns, from alarm
    assert value(table, "ac@1", SEGMENTS) == 1.0  # a deviates, b does not
    assert value(table, "ac@1", SEGMENTS, "target=a") == 1.0


def test_seeds_are_rows_and_runs_repeat_exactly():
    specs = [{"name": "iforest", "params": {"n_estimators": 10}}]
    first = run_evaluation(tiny(), specs, seeds=[0, 1], metrics=["roc_auc"]).table
    again = run_evaluation(tiny(), specs, seeds=[0, 1], metrics=["roc_auc"]).table  # the floors repeat too
    assert sorted(first["seed"].unique()) == [0, 1]
    pd.testing.assert_frame_equal(first, again)


def test_timelines_keep_the_first_seed_scores_and_threshold():
    ev = run_evaluation(tiny(), [STATIC], seeds=[3, 4], metrics=["f1"], floors=False)
    (tl,) = ev.timelines
    assert tl.seed == 3 and tl.threshold == 0.0
    np.testing.assert_allclose(tl.scores[4], 1.5)  # (5 - 2) / 2 at test step 4 (= step 24)
    np.testing.assert_array_equal(tl.anomaly, tiny().test().y)


def test_bad_input_is_named_before_anything_is_fitted():
    with pytest.raises(BadInput, match="unknown detector 'nope'"):
        _ = run_evaluation(tiny(), ["zscore", "nope"]).table
    with pytest.raises(BadInput, match="unknown metric 'f2'"):
        _ = run_evaluation(tiny(), ["zscore"], metrics=["f2"]).table
    with pytest.raises(BadInput, match="nothing to evaluate"):
        _ = run_evaluation(tiny(), [], []).table
    with pytest.raises(BadInput, match="listed twice"):
        as_specs(["zscore", {"name": "zscore"}])
    with pytest.raises(BadInput, match="seeds"):
        as_specs([{"name": "zscore", "seeds": [-1]}])


def test_as_specs_accepts_names_dicts_and_scenario_entries():
    class Entry:  # the scenario's evaluate.detectors entries have these three fields
        name, params, seeds = "zscore", {"threshold": 4}, [1, 2]

    specs = as_specs(["iforest", {"name": "static_threshold", "params": {"value": 1}}, Entry()])
    assert specs[0] == MethodSpec("iforest")
    assert specs[1].label == "static_threshold(value=1)"
    assert specs[2].seeds == (1, 2)
    assert as_specs(["zscore"], seeds=[5, 6])[0].seeds == (5, 6)


# ---- classifiers ---------------------------------------------------------------------------
def test_event_folds_keep_each_event_together_and_spread_types():
    ids = np.array(["e1", "e1", "e2", "e3", "e3", "e4", "e5", "e6"])
    types = np.array(["cpu", "cpu", "cpu", "cpu", "cpu", "disk", "disk", "disk"])
    fold = event_folds(ids, types, 3, seed=0)
    for event in set(ids):
        assert len(set(fold[ids == event])) == 1
    # 3 cpu and 3 disk events dealt round-robin over 3 folds: one of each per fold.
    for t in ("cpu", "disk"):
        assert sorted(fold[np.isin(ids, ids[types == t])][np.unique(ids[types == t], return_index=True)[1]]) == [0, 1, 2]
    np.testing.assert_array_equal(fold, event_folds(ids, types, 3, seed=0))


def test_classifier_rows_agree_with_their_confusion_matrix():
    table = run_evaluation(resolve_dataset("synthetic"), None, [{"name": "random_forest", "params": {"n_estimators": 10}}]).table
    cells = table[table["metric"] == "confusion"]
    parsed = cells["breakdown"].str.extract(r"true=(.*),pred=(.*)")
    matrix = pd.concat([parsed, cells["value"]], axis=1).pivot(index=0, columns=1, values="value")
    total, correct = matrix.to_numpy().sum(), np.trace(matrix.to_numpy())
    assert total == 55  # every fault window of the synthetic dataset is predicted exactly once
    assert value(table, "accuracy", "leave-events-out") == pytest.approx(correct / total)
    for cls in matrix.index:
        recall = matrix.loc[cls, cls] / matrix.loc[cls].sum()
        assert value(table, "class_recall", "leave-events-out", f"fault_type={cls}") == pytest.approx(recall)
        assert value(table, "accuracy", "leave-events-out", f"fault_type={cls}") == pytest.approx(recall)


# ---- scores.json ---------------------------------------------------------------------------
def test_scores_json_round_trip_with_summary_and_nulls(tmp_path, static_table):
    table = pd.concat([static_table, static_table.assign(seed=1, value=static_table["value"] + 0.2)], ignore_index=True)
    path = write_scores(table, tmp_path / "scores.json", {"command": "test"})
    doc = json.loads(path.read_text())
    assert doc["format_version"] == 1 and doc["command"] == "test" and doc["datasets"] == ["tiny"]
    assert len(doc["rows"]) == len(table)
    pd.testing.assert_frame_equal(read_scores(tmp_path), table)  # a folder works, NaN survives as null
    summary = {(r["metric"], r["protocol"], r["breakdown"]): r for r in doc["summary"]}
    f1 = summary[("f1", OWN, ALL)]
    assert f1["mean"] == pytest.approx(6 / 7 + 0.1) and f1["std"] == pytest.approx(0.2 / np.sqrt(2)) and f1["n"] == 2
    assert len(summarize(table)) == len(static_table)


def test_read_scores_names_the_file_on_bad_input(tmp_path):
    with pytest.raises(BadInput, match="no scores.json"):
        read_scores(tmp_path)
    (tmp_path / "scores.json").write_text("{not json")
    with pytest.raises(BadInput, match="scores.json: not valid JSON"):
        read_scores(tmp_path / "scores.json")
    (tmp_path / "scores.json").write_text('{"format_version": 1}')
    with pytest.raises(BadInput, match="'rows'"):
        read_scores(tmp_path)


def test_metric_level_root_cause_uses_each_fault_types_declared_metrics():
    """Hand-computed AC@1 / AC@3 over ranked ``service:metric`` columns.

    cpu on cart: truth {cart:cpu_cores}, ranked first -> AC@1 1, AC@3 1.
    memory_alloc on payment: truth {payment:memory_bytes, payment:rss_bytes}, only rss ranked
    second -> AC@1 0, AC@3 1/min(3, 2) = 0.5. pause declares no metric: left out.
    """
    from types import SimpleNamespace as NS

    from faultlab.harness.evaluation import SEGMENTS_METRIC
    from faultlab.harness.evaluation.segment_scores import metric_level_scores
    from faultlab.harness.scoring import METRICS

    names = ["cart:cpu_cores", "x:y", "q:r", "payment:rss_bytes", "payment:memory_bytes"]
    columns = pd.DataFrame({"name": names, "service": [n.split(":")[0] for n in names],
                            "metric": [n.split(":")[1] for n in names]})
    data = NS(columns=columns, candidates=["cart", "x", "q", "payment"])  # the column table is the truth's source
    segments = [NS(fault_type="cpu", root_cause=("cart",)), NS(fault_type="pause", root_cause=("cart",)),
                NS(fault_type="memory_alloc", root_cause=("payment",))]
    rankings = [NS(metrics=[("cart:cpu_cores", 5.0), ("x:y", 1.0)]), NS(metrics=[("cart:cpu_cores", 1.0)]),
                NS(metrics=[("q:r", 3.0), ("payment:rss_bytes", 2.0)])]
    scores = metric_level_scores(data, rankings, segments, [METRICS.get("ac@1"), METRICS.get("ac@3")])
    value = {(metric, where): v for (metric, protocol, where), v in scores.items() if protocol == SEGMENTS_METRIC}
    assert value[("ac@1", "all")] == pytest.approx(0.5)
    assert value[("ac@3", "all")] == pytest.approx(0.75)
    assert value[("ac@3", "fault_type=memory_alloc")] == pytest.approx(0.5)
    assert ("ac@1", "fault_type=pause") not in value


def test_series_filled_or_ignored_at_scoring_time_are_stated_in_settings_and_on_the_board():
    """The series policy's counts (Detector.alignment_) reach the dataset's settings and its notes."""
    from faultlab.harness.evaluation.grid import _note_alignment
    from faultlab.harness.reports.leaderboard import settings_line

    settings: dict = {}
    _note_alignment(settings, "zscore", {"policy": "fill", "missing": 0, "new": 0})
    assert "alignment" not in settings  # nothing to say
    _note_alignment(settings, "zscore", {"policy": "fill", "missing": 3, "new": 2,
                                         "missing_columns": ["a", "b", "c"], "new_columns": ["x", "y"]})
    assert settings["alignment"]["zscore"]["missing"] == 3
    line = settings_line("d", settings)
    assert "Series policy of zscore (fill): 3 series missing at scoring time filled from training, 2 new series ignored." in line
