"""Labels from hand-built ground-truth journals: actual times, outcomes, boundaries, overlaps."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from faultlab.errors import BadInput
from faultlab.harness.datasets.labels import fault_spans, labels_from_ground_truth, read_ground_truth

T0 = pd.Timestamp("2026-01-01T00:00:00Z")


def grid(n: int = 12, step_s: int = 5) -> pd.DatetimeIndex:
    return pd.date_range(T0, periods=n, freq=f"{step_s}s")


def at(seconds: float) -> str:
    return (T0 + pd.Timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def journal(fault_id, type_, targets, applied_s, reverted_s, outcome="reverted", sched=(0, 100)):
    """The usual three events of one fault: intent, applied, reverted."""
    base = {"fault_id": fault_id, "type": type_, "targets": targets, "params": {},
            "scheduled_start": at(sched[0]), "scheduled_end": at(sched[1])}
    return [
        {**base, "outcome": None, "applied_at": None, "reverted_at": None},
        {**base, "outcome": "applied", "applied_at": at(applied_s), "reverted_at": None},
        {**base, "outcome": outcome, "applied_at": at(applied_s),
         "reverted_at": None if reverted_s is None else at(reverted_s)},
    ]


def test_closed_interval_on_grid_uses_actual_not_scheduled_times():
    # scheduled 0..100 s, actually applied at 12.3 s and reverted at 30 s (exactly on the grid)
    labels = labels_from_ground_truth(journal("f1", "cpu", ["cart"], 12.3, 30.0), grid())
    # steps at 15, 20, 25, 30 s: 30 s is included (closed), 10 s is before applied_at
    assert labels["anomaly"].tolist() == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    assert labels.loc[labels.anomaly == 1, "fault_type"].unique().tolist() == ["cpu"]
    assert labels.loc[labels.anomaly == 1, "root_cause"].unique().tolist() == ["cart"]
    assert labels.loc[labels.anomaly == 1, "fault_id"].unique().tolist() == ["f1"]
    assert labels.loc[labels.anomaly == 0, "fault_id"].unique().tolist() == [""]
    assert list(labels.columns) == ["anomaly", "fault_type", "root_cause", "fault_id", "recovering"]
    assert labels.index.name == "timestamp"


def test_applied_exactly_on_a_step_includes_that_step():
    labels = labels_from_ground_truth(journal("f1", "cpu", ["cart"], 10.0, 19.999), grid())
    assert labels["anomaly"].tolist()[:5] == [0, 0, 1, 1, 0]


def test_failed_fault_is_not_labelled_but_partial_is_by_default():
    records = journal("bad", "memory_alloc", ["cart"], 5, 20, outcome="failed")
    records += journal("half", "packet_loss", ["payment"], 40, 50, outcome="partial")
    labels = labels_from_ground_truth(records, grid())
    assert labels["anomaly"].tolist() == [0] * 8 + [1, 1, 1, 0]
    assert set(labels["fault_id"]) == {"", "half"}
    strict = labels_from_ground_truth(records, grid(), include_partial=False)
    assert strict["anomaly"].sum() == 0


def test_failed_on_any_line_wins_over_a_later_reverted():
    records = journal("f", "cpu", ["cart"], 5, 20, outcome="reverted")
    records.insert(2, {"fault_id": "f", "outcome": "failed", "error": "no effect measured"})
    (span,) = fault_spans(records)
    assert span.outcome == "failed" and not span.labelled
    assert labels_from_ground_truth(records, grid())["anomaly"].sum() == 0


def test_never_reverted_runs_to_the_end_and_never_applied_is_unlabelled():
    records = journal("open", "pause", ["shipping"], 42, None, outcome="applied")
    records += [{"fault_id": "ghost", "type": "cpu", "targets": ["cart"], "outcome": "applied",
                 "applied_at": None, "reverted_at": None}]
    labels = labels_from_ground_truth(records, grid())
    assert labels["anomaly"].tolist() == [0] * 9 + [1, 1, 1]
    assert set(labels["fault_id"]) == {"", "open"}


def test_overlapping_faults_list_both_in_applied_order_and_union_targets():
    records = journal("b", "memory_leak", ["cart", "redis"], 20, 40)
    records += journal("a", "cpu", ["cart"], 10, 25)
    labels = labels_from_ground_truth(records, grid())
    assert labels["anomaly"].tolist() == [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    assert labels["fault_id"].tolist()[2:9] == ["a", "a", "a,b", "a,b", "b", "b", "b"]
    assert labels["fault_type"].tolist()[4] == "cpu,memory_leak"
    assert labels["root_cause"].tolist()[4] == "cart,redis"
    assert labels["root_cause"].tolist()[2] == "cart"


def test_naive_index_is_taken_as_utc_and_offsets_are_converted():
    idx = pd.date_range("2026-01-01T00:00:00", periods=4, freq="5s")  # naive
    records = [{"fault_id": "f", "type": "cpu", "targets": "cart", "outcome": "reverted",
                "applied_at": "2026-01-01T01:00:05.000+01:00", "reverted_at": "2026-01-01T00:00:10Z"}]
    assert labels_from_ground_truth(records, idx)["anomaly"].tolist() == [0, 1, 1, 0]


def test_bad_records_are_named():
    with pytest.raises(BadInput, match="record 0: no fault_id"):
        labels_from_ground_truth([{"type": "cpu"}], grid())
    with pytest.raises(BadInput, match="outcome 'done'"):
        labels_from_ground_truth([{"fault_id": "x", "outcome": "done"}], grid())
    with pytest.raises(BadInput, match=r"x\.applied_at: 'soon'"):
        labels_from_ground_truth([{"fault_id": "x", "outcome": "applied", "applied_at": "soon"}], grid())


def test_read_ground_truth_skips_a_torn_last_line(tmp_path):
    file = tmp_path / "ground_truth.jsonl"
    lines = [json.dumps(r) for r in journal("f", "cpu", ["cart"], 5, 15)]
    file.write_text("\n".join(lines) + '\n{"fault_id": "g", "outc')
    records = read_ground_truth(file)
    assert len(records) == 3
    assert labels_from_ground_truth(records, grid())["anomaly"].tolist()[:4] == [0, 1, 1, 1]
    file.write_text('{"broken\n' + "\n".join(lines))
    with pytest.raises(BadInput, match="ground_truth.jsonl:1"):
        read_ground_truth(file)


def test_recovering_runs_from_revert_to_the_measured_return_plus_the_tail():
    records = journal("f1", "memory_leak", ["cart"], 12.3, 30.0)
    records[-1]["detail"] = {"returned_to_baseline_at": at(41.0)}
    labels = labels_from_ground_truth(records, grid(), tail_s=5.0)
    # anomalous 15..30 s; recovering after 30 s until 41 s + one 5 s step (exclusive): 35, 40, 45
    assert labels["recovering"].tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0]
    assert labels["recovering"].dtype.kind == "i"
    assert not ((labels["recovering"] == 1) & (labels["anomaly"] == 1)).any()
    default = labels_from_ground_truth(records, grid())  # 4 grid steps: until 61 s (exclusive)
    assert default["recovering"].tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_recovering_defaults_where_the_journal_lacks_the_return():
    killed = labels_from_ground_truth(journal("f1", "kill", ["cart"], 12.3, 30.0), grid(), tail_s=0.0)
    # no measured return: a kill's restart default (15 s) from the revert: steps 35, 40 (45 is the end)
    assert killed["recovering"].tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0]
    cpu = labels_from_ground_truth(journal("f1", "cpu", ["cart"], 12.3, 30.0), grid(), tail_s=0.0)
    assert cpu["recovering"].sum() == 0  # nothing outlasts the revert unless measured
    unreverted = labels_from_ground_truth(journal("f1", "cpu", ["cart"], 12.3, None), grid())
    assert unreverted["recovering"].sum() == 0


def test_recovering_never_covers_the_next_fault():
    first = journal("f1", "kill", ["cart"], 12.3, 20.0)
    second = journal("f2", "cpu", ["cart"], 26.0, 40.0)
    labels = labels_from_ground_truth(first + second, grid(), tail_s=5.0)
    assert labels["anomaly"].tolist() == [0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0]
    # the kill recovers until 20 + 15 + 5 s; the cpu fault (no measured return) has no tail past 45 s
    assert labels["recovering"].tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]


def test_relabel_dataset_adds_recovering_and_candidates_without_touching_fault_labels(tmp_path):
    from faultlab.dataset import Dataset, ServiceGraph, load_dataset
    from faultlab.harness.datasets.labels import relabel_dataset

    records = journal("f1", "kill", ["cart"], 12.3, 30.0)
    index = grid()
    old = labels_from_ground_truth(records, index).drop(columns=["recovering"])
    metrics = pd.DataFrame({"cart:cpu": range(12), "locust:users": 5.0}, index=index, dtype=float)
    graph = ServiceGraph([{"name": "cart", "kind": "service"}, {"name": "redis", "kind": "database"}], [])
    folder = Dataset(metrics=metrics, labels=old, graph=graph, meta={"name": "rec", "faults": records}).save(tmp_path / "d")
    pd.read_parquet(folder / "labels.parquet").drop(columns=["recovering"]).to_parquet(folder / "labels.parquet")
    before = load_dataset(folder).labels["recovering"]  # a labels file without the column: zeros
    assert before.dtype == "int8" and before.sum() == 0
    counts = relabel_dataset(folder)
    again = load_dataset(folder)
    assert counts == {"recovering": int(again.labels["recovering"].sum()), "anomalous": 4} and counts["recovering"] > 0
    assert again.meta["candidates"] == ["cart"] and again.context == ["locust"]
    wrong = [dict(r, reverted_at=at(45.0)) if r.get("reverted_at") else r for r in records]
    with pytest.raises(Exception, match="differs from the journal"):
        relabel_dataset(folder, wrong)
    assert load_dataset(folder).labels["anomaly"].sum() == 4, "not rewritten"


def test_relabel_dataset_not_strict_lets_todays_rules_replace_the_fault_labels(tmp_path):
    from faultlab.dataset import Dataset, ServiceGraph, load_dataset
    from faultlab.harness.datasets.labels import relabel_dataset

    records = journal("f1", "kill", ["cart"], 12.3, 30.0)
    index = grid()
    stale = labels_from_ground_truth([], index)  # e.g. labelled by older rules: no fault at all
    metrics = pd.DataFrame({"cart:cpu": range(12)}, index=index, dtype=float)
    folder = Dataset(metrics=metrics, labels=stale, graph=ServiceGraph([{"name": "cart"}], []),
                     meta={"name": "rec"}).save(tmp_path / "d")
    assert relabel_dataset(folder, records, strict=False)["anomalous"] == 4
    pd.testing.assert_frame_equal(load_dataset(folder).labels, labels_from_ground_truth(records, index), check_freq=False)
