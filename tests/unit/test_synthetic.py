"""The synthetic dataset: deterministic, shaped like a testbed run, faults where the labels say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import METRIC_GROUPS
from faultlab.errors import BadInput
from faultlab.harness.datasets.synthetic import FAULT_TYPES, MB, generate
from faultlab.testbed.topology import service_graph


@pytest.fixture(scope="module")
def data():
    return generate()


def test_same_seed_same_dataset_other_seed_differs():
    a, b, c = generate(seed=4, faults_per_type=1), generate(seed=4, faults_per_type=1), generate(seed=5, faults_per_type=1)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    pd.testing.assert_frame_equal(a.labels, b.labels)
    assert a.meta == b.meta
    assert not a.metrics.equals(c.metrics.iloc[: len(a.metrics)])


def test_default_is_small_with_every_fault_type(data):
    assert 2000 <= len(data.metrics) <= 3500
    types = [f["type"] for f in data.meta["faults"]]
    assert sorted(types) == sorted(FAULT_TYPES * 3)
    assert data.scrape_interval_s == 5.0
    assert (np.diff(data.timestamps) == pd.Timedelta(seconds=5)).all()


def test_services_columns_and_graph_match_the_testbed(data):
    graph = service_graph()
    assert data.services == graph.names
    assert data.graph.to_json() == graph.to_json()
    cols = data.columns
    assert list(cols["name"]) == list(data.metrics.columns)
    assert set(cols["group"]) == set(METRIC_GROUPS)
    assert "gateway:latency_p99_s" in data.metrics and "cart:cpu_cores" in data.metrics
    assert "postgres:latency_p99_s" not in data.metrics  # databases export no HTTP metrics
    assert "postgres:memory_bytes" in data.metrics
    assert (data.values() >= 0).all()


def test_training_period_is_fault_free(data):
    train_end = pd.Timestamp(data.meta["train_end"])
    assert train_end == data.timestamps[1200]
    assert data.labels.loc[data.labels.index < train_end, "anomaly"].sum() == 0
    assert all(pd.Timestamp(f["applied_at"]) > train_end for f in data.meta["faults"])
    assert len(data.train().metrics) == 1200


def test_labels_follow_the_ground_truth_records(data):
    labels = data.labels
    for fault in data.meta["faults"]:
        here = labels["fault_id"] == fault["fault_id"]
        steps = labels.index[here]
        assert steps[0] == pd.Timestamp(fault["effect_onset"]) and steps[-1] == pd.Timestamp(fault["effect_offset"])
        assert (labels.loc[here, "anomaly"] == 1).all()
        assert set(labels.loc[here, "fault_type"]) == {fault["type"]}
        assert set(labels.loc[here, "root_cause"]) == {",".join(fault["targets"])}
        assert fault["outcome"] == "reverted" and fault["mechanism"] == "synthetic"
    assert labels["anomaly"].sum() == (labels["fault_id"] != "").sum()


def _fault_and_before(data, fault, metric):
    col = f"{fault['targets'][0]}:{metric}"
    during = data.metrics.loc[data.labels["fault_id"] == fault["fault_id"], col]
    start = data.timestamps.get_loc(during.index[0])
    before = data.metrics[col].iloc[start - 20 : start]
    return during, before


def test_fault_footprints_are_visible_on_the_target(data):
    for fault in data.meta["faults"]:
        kind = fault["type"]
        if kind == "cpu":
            during, before = _fault_and_before(data, fault, "cpu_cores")
            assert during.iloc[2:].mean() > before.mean() + 0.4
        elif kind == "memory_alloc":
            during, before = _fault_and_before(data, fault, "memory_bytes")
            assert during.iloc[2:].mean() > before.mean() + 150 * MB
        elif kind == "memory_leak":
            during, _ = _fault_and_before(data, fault, "memory_bytes")
            assert during.iloc[-1] - during.iloc[0] > 100 * MB  # it grows
        elif kind == "disk":
            during, before = _fault_and_before(data, fault, "disk_write_bytes_per_s")
            assert during.iloc[2:].mean() > before.mean() + 15 * MB
        elif kind == "network_overload":
            during, before = _fault_and_before(data, fault, "rx_bytes_per_s")
            assert during.iloc[2:].mean() > before.mean() + 4 * MB


def test_packet_loss_slows_the_target_and_its_callers():
    data = generate(seed=0, faults_per_type=3, fault_types=("packet_loss",))
    kinds = {n["name"]: n["kind"] for n in data.graph.nodes}
    callers = {n: [e["source"] for e in data.graph.edges if e["target"] == n] for n in kinds}
    fault = next(f for f in data.meta["faults"] if kinds[f["targets"][0]] == "service" and callers[f["targets"][0]])
    during, before = _fault_and_before(data, fault, "latency_p50_s")
    assert during.mean() > 1.8 * before.mean()  # latency x2..4 on the target
    caller = callers[fault["targets"][0]][0]
    during, before = _fault_and_before(data, {**fault, "targets": [caller]}, "latency_p50_s")
    assert during.mean() > 1.1 * before.mean()  # diluted by the caller's other calls


def test_bad_spec_is_bad_input():
    with pytest.raises(BadInput, match="cpu_spike"):
        generate(fault_types=("cpu_spike",))
    with pytest.raises(BadInput, match="fault_steps"):
        generate(fault_steps=(10, 5))
    with pytest.raises(BadInput, match="bogus"):
        generate(bogus=1)
