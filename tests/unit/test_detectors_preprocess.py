"""Scalers, window-to-step mapping, segments, fault windows and model files, by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faultlab.detectors import fault_segments, fault_windows
from faultlab.detectors.persist import read_model, write_model
from faultlab.detectors.preprocess import fit_minmax, fit_robust, window_scores_to_steps, windows_or_fail
from faultlab.flags import runs_of
from faultlab.dataset import Dataset, ServiceGraph
from faultlab.errors import BadInput


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
