"""Scalers, window-to-step mapping, segments, fault windows and model files, by hand."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.detectors import fault_segments, fault_windows
from faultlab.detectors.persist import read_model, write_model
from faultlab.detectors.preprocess import fit_minmax, fit_robust, window_scores_to_steps, windows_or_fail
from faultlab.errors import BadInput
from faultlab.flags import runs_of


def test_robust_scaler_uses_median_and_scaled_mad():
    sc = fit_robust(np.array([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0], [4.0, 7.0], [100.0, 7.0]]))
    np.testing.assert_allclose(sc.center_, [3.0, 7.0])
    np.testing.assert_allclose(sc.scale_, [1.4826, 1.0])  # MAD 1; constant column falls back to 1
    np.testing.assert_allclose(sc.transform(np.array([[4.4826, 9.0]])), [[1.0, 2.0]])


def test_robust_scaler_falls_back_to_std_when_mad_is_zero():
    sc = fit_robust(np.array([[0.0], [0.0], [0.0], [0.0], [5.0]]))
    np.testing.assert_allclose(sc.scale_, [2.0])  # std of [0,0,0,0,5]


def test_minmax_scaler_maps_train_range_to_unit_interval():
    sc = fit_minmax(np.array([[2.0, 1.0], [4.0, 1.0], [6.0, 1.0]]))
    np.testing.assert_allclose(sc.transform(np.array([[2.0, 1.0], [6.0, 3.0], [8.0, 1.0]])), [[0, 0], [1, 2], [1.5, 0]])
    np.testing.assert_allclose(sc.inverse_transform(np.array([[0.5, 0.0]])), [[4.0, 1.0]])


def test_window_scores_go_to_last_step_first_steps_padded():
    np.testing.assert_array_equal(window_scores_to_steps(np.array([5.0, 6.0, 7.0]), size=3, n_steps=5), [5, 5, 5, 6, 7])
    # stride 2: windows end at steps 2 and 4; step 3 keeps the previous window's score.
    np.testing.assert_array_equal(window_scores_to_steps(np.array([1.0, 2.0]), size=3, n_steps=6, stride=2), [1, 1, 1, 1, 2, 2])


def test_too_short_for_a_window_is_bad_input():
    with pytest.raises(BadInput, match="window=5"):
        windows_or_fail(np.zeros((3, 2)), 5, "detector 'x'")


def test_segments_are_half_open_runs():
    assert runs_of(np.array([0, 1, 1, 0, 1])) == [(1, 3), (4, 5)]
    assert runs_of(np.array([0, 0])) == []
    assert runs_of(np.array([1, 1])) == [(0, 2)]


def _labelled(anomaly: list[int], fault_id: list[str], fault_type: list[str]) -> Dataset:
    n = len(anomaly)
    index = pd.date_range("2026-01-01", periods=n, freq="5s", tz="UTC", name="timestamp")
    labels = pd.DataFrame(
        {"anomaly": anomaly, "fault_type": fault_type, "root_cause": ["svc" if a else "" for a in anomaly], "fault_id": fault_id},
        index=index,
    )
    metrics = pd.DataFrame({"svc:x": np.arange(n, dtype=float)}, index=index)
    return Dataset(metrics=metrics, labels=labels, graph=ServiceGraph([], []), meta={"name": "lab"})


def test_fault_segments_split_adjacent_faults_by_id():
    data = _labelled([0, 1, 1, 1, 1, 0], ["", "f1", "f1", "f2", "f2", ""], ["", "cpu", "cpu", "disk", "disk", ""])
    segs = fault_segments(data)
    assert [(s.start, s.end, s.fault_id, s.fault_type, s.root_cause) for s in segs] == [
        (1, 3, "f1", "cpu", ("svc",)),
        (3, 5, "f2", "disk", ("svc",)),
    ]


def test_fault_windows_tile_each_event_and_keep_short_ones():
    n = 40
    anomaly = [0] * n
    ids, types = [""] * n, [""] * n
    for i in range(5, 30):  # 25 steps: windows of 10 end at 14 and 24
        anomaly[i], ids[i], types[i] = 1, "f1", "cpu"
    for i in range(33, 36):  # 3 steps: one window ending at 35
        anomaly[i], ids[i], types[i] = 1, "f2", "disk"
    fw = fault_windows(_labelled(anomaly, ids, types), size=10)
    np.testing.assert_array_equal(fw.end_index, [14, 24, 35])
    np.testing.assert_array_equal(fw.labels, ["cpu", "cpu", "disk"])
    np.testing.assert_array_equal(fw.fault_ids, ["f1", "f1", "f2"])
    assert fw.windows.shape == (3, 10, 1)
    np.testing.assert_array_equal(fw.windows[2, :, 0], np.arange(26, 36))  # values are the step numbers
    assert fw.columns == ["svc:x"]
    overlapping = fault_windows(_labelled(anomaly, ids, types), size=10, stride=5)
    np.testing.assert_array_equal(overlapping.end_index, [14, 19, 24, 29, 35])


def test_model_files_hold_json_and_arrays_only(tmp_path):
    write_model(tmp_path, {"kind": "detector", "name": "x"}, {"a_": np.arange(3.0), "names_": np.array(["p", "q"]), "t_": 1.5})
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["state"] == {"t_": 1.5} and doc["name"] == "x"
    header, state = read_model(tmp_path)
    assert header["kind"] == "detector"
    np.testing.assert_array_equal(state["a_"], [0.0, 1.0, 2.0])
    assert list(state["names_"]) == ["p", "q"] and state["t_"] == 1.5
    with pytest.raises(BadInput, match="model.json"):
        read_model(tmp_path / "nowhere")


def test_torch_state_dict_round_trips_through_model_files(tmp_path):
    import torch  # a runtime dependency (pyproject.toml)

    from faultlab.detectors.persist import arrays_to_tensors, tensors_to_arrays

    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 2)
    write_model(tmp_path, {"kind": "detector"}, {**tensors_to_arrays(layer.state_dict()), "threshold_": 0.5})
    _, state = read_model(tmp_path)
    other = torch.nn.Linear(3, 2)
    other.load_state_dict(arrays_to_tensors(state))
    x = torch.ones(1, 3)
    assert torch.equal(other(x), layer(x))


# ---- the drift option's baseline --------------------------------------------------------------------
def test_drift_baseline_removes_a_lasting_gauge_level_causally_and_leaves_counters():
    from faultlab.detectors.preprocess import DriftBaseline

    train = np.column_stack([np.full(50, 10.0), np.full(50, 3.0)])
    base = DriftBaseline.fit(train, np.array([True, False]), window_s=30.0, step_s=1.0)
    assert base.steps == 30 and base.start.tolist() == [10.0]
    values = np.column_stack([np.r_[np.full(10, 10.0), np.full(90, 20.0)], np.full(100, 3.0)])
    out = base.remove(values)
    np.testing.assert_array_equal(out[:, 1], values[:, 1])  # a counter (rate) is left alone
    assert np.all(out[:10, 0] == 0) and out[10, 0] == 10.0  # judged against the training median at first
    # kept whole while it has lasted less than half the window (14 of 30 steps), absorbed once it has lasted more
    assert out[24, 0] == 10.0 and out[26, 0] == 0.0 and out[99, 0] == 0.0
    later = values.copy()
    later[50:, 0] = -1e6  # scrambling the future changes nothing before it: no look-ahead
    np.testing.assert_array_equal(base.remove(later)[:50, 0], out[:50, 0])
    again = DriftBaseline.from_state(base.to_state())
    assert again is not None and again.steps == 30 and np.array_equal(again.remove(values), out)
    assert DriftBaseline.from_state({}) is None


# ---- physical limits (TELESTO sec. 3.2) -----------------------------------------------------------------
def _limited(tmp_path=None) -> Dataset:
    """Services a (quota 0.5 cores, 100-byte limit) and b (no quota, no limit), and the host."""
    index = pd.date_range("2026-01-01", periods=4, freq="5s", tz="UTC", name="timestamp")
    rows = [("a", "cpu_cores", "cpu", "counter", "cores"), ("a", "cpu_quota_cores", "cpu", "gauge", "cores"),
            ("a", "memory_bytes", "memory", "gauge", "bytes"), ("a", "memory_limit_bytes", "memory", "gauge", "bytes"),
            ("a", "rx_bytes_per_s", "network", "counter", "bytes/s"), ("a", "disk_read_bytes_per_s", "disk", "counter", "bytes/s"),
            ("a", "latency_s", "application", "gauge", "s"),
            ("b", "cpu_cores", "cpu", "counter", "cores"), ("b", "cpu_quota_cores", "cpu", "gauge", "cores"),
            ("b", "memory_bytes", "memory", "gauge", "bytes"), ("b", "memory_limit_bytes", "memory", "gauge", "bytes"),
            ("host", "cpu_busy_cores", "cpu", "counter", "cores")]
    values = {"a:cpu_quota_cores": 0.5, "a:memory_limit_bytes": 100.0, "b:cpu_quota_cores": 0.0, "b:memory_limit_bytes": 0.0}
    metrics = pd.DataFrame({f"{s}:{m}": np.full(4, values.get(f"{s}:{m}", 1.0)) for s, m, *_ in rows}, index=index)
    table = [{"name": f"{s}:{m}", "service": s, "metric": m, "group": g, "kind": k, "unit": u} for s, m, g, k, u in rows]
    labels = pd.DataFrame({"anomaly": 0, "fault_type": "", "root_cause": "", "fault_id": ""}, index=index)
    meta = {"name": "limits", "columns": table, "host": {"cpu_count": 4, "memory_bytes": 1000}}
    return Dataset(metrics=metrics, labels=labels, graph=ServiceGraph([], []), meta=meta)


def test_physical_limits_read_each_series_limit_from_its_own_service_else_the_host():
    from faultlab.detectors.preprocess import LINK_BYTES_PER_S, physical_limits

    data = _limited()
    columns = [str(c) for c in data.metrics.columns]
    limits = physical_limits(data, columns)
    rule = dict(zip(columns, limits.rule))
    assert rule["a:cpu_cores"] == "CPU limit" and rule["a:memory_bytes"] == "memory limit"
    assert rule["a:rx_bytes_per_s"] == "link speed" and rule["host:cpu_busy_cores"] == "host CPU"
    assert rule["a:disk_read_bytes_per_s"] == rule["a:latency_s"] == ""  # no physical limit: training min-max
    window = data.metrics.to_numpy()[None]  # one window over the whole system
    per = dict(zip(columns, limits.per_window(window)[0]))
    assert per["a:cpu_cores"] == 0.5 and per["a:memory_bytes"] == 100.0  # the service's own quota and limit
    assert per["b:cpu_cores"] == 4.0 and per["b:memory_bytes"] == 1000.0  # no quota (0): the host's
    assert per["a:cpu_quota_cores"] == 4.0 and per["a:rx_bytes_per_s"] == LINK_BYTES_PER_S
    assert np.isnan(per["a:latency_s"])


def test_physical_limits_of_per_node_windows_follow_each_window():
    from faultlab.detectors.graph_windows import scale_windows
    from faultlab.detectors.preprocess import physical_limits

    data = _limited()
    metrics = ["cpu_cores", "cpu_quota_cores", "latency_s"]  # TELESTO's per-node windows: one service each
    limits = physical_limits(data, metrics)
    assert limits.source.tolist() == [1, -1, -1]
    windows = np.array([[[0.25, 0.5, 2.0]] * 3, [[0.25, 0.0, 4.0]] * 3])  # service a (quota 0.5), then b (none)
    scaled = scale_windows(windows, lo=np.array([0.0, 0.0, 2.0]), span=np.array([1.0, 1.0, 2.0]), limits=limits)
    np.testing.assert_allclose(scaled[:, 0, 0], [0.5, 0.0625])  # 0.25 of 0.5 cores; 0.25 of the host's 4
    np.testing.assert_allclose(scaled[:, 0, 2], [0.0, 1.0])  # latency: training min-max
    no_host = physical_limits(replace(data, meta={**data.meta, "host": None}), metrics)
    assert np.isnan(no_host.per_window(windows)[1, 0])  # no quota and no host facts: training min-max


def test_host_limits_come_from_meta_or_the_runs_manifest(tmp_path):
    from faultlab.detectors.preprocess import host_limits

    data = _limited()
    assert (host_limits(data).cores, host_limits(data).memory_bytes) == (4.0, 1000.0)
    folder = tmp_path / "ds"
    (folder / "provenance").mkdir(parents=True)
    (folder / "provenance" / "manifest.json").write_text(json.dumps({"host": {"cpu_count": 2, "memory_bytes": 8e9}}))
    bare = replace(data, meta={k: v for k, v in data.meta.items() if k != "host"}, path=folder)
    assert (host_limits(bare).cores, host_limits(bare).memory_bytes) == (2.0, 8e9)
    assert host_limits(replace(bare, path=None)).cores is None
