"""``faultlab.dataset``: columns, splits, windows, per-service tensors, graph, save/load."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph, load_dataset, sliding_windows
from faultlab.errors import BadInput

GRAPH = ServiceGraph(
    nodes=[{"name": "api", "kind": "service"}, {"name": "db", "kind": "database"}],
    edges=[{"source": "api", "target": "db"}],
)


def _dataset(n: int = 10, train_end: str | None = None, anomalous: tuple[int, ...] = (6, 7)) -> Dataset:
    index = pd.date_range("2026-01-01", periods=n, freq="5s", tz="UTC", name="timestamp")
    metrics = pd.DataFrame(
        {
            "api:cpu_cores": np.arange(n, dtype=float),
            "api:latency_p99_s": np.arange(n, dtype=float) * 10,
            "db:cpu_cores": np.arange(n, dtype=float) * 100,
        },
        index=index,
    )
    anomaly = np.isin(np.arange(n), anomalous).astype(np.int8)
    labels = pd.DataFrame(
        {
            "anomaly": anomaly,
            "fault_type": np.where(anomaly, "cpu", ""),
            "root_cause": np.where(anomaly, "db", ""),
            "fault_id": np.where(anomaly, "f1", ""),
        },
        index=index,
    )
    columns = [
        {"name": "api:cpu_cores", "service": "api", "metric": "cpu_cores", "group": "cpu", "kind": "counter", "unit": "cores"},
        {"name": "api:latency_p99_s", "service": "api", "metric": "latency_p99_s", "group": "application", "kind": "gauge", "unit": "s"},
        {"name": "db:cpu_cores", "service": "db", "metric": "cpu_cores", "group": "cpu", "kind": "counter", "unit": "cores"},
    ]
    meta = {"name": "tiny", "scrape_interval_s": 5.0, "columns": columns}
    if train_end:
        meta["train_end"] = train_end
    mask = pd.DataFrame(False, index=index, columns=metrics.columns)
    mask.iloc[0, 0] = True
    return Dataset(metrics=metrics, labels=labels, graph=GRAPH, meta=meta, mask=mask)


def test_columns_services_and_values():
    data = _dataset()
    cols = data.columns
    assert list(cols["name"]) == ["api:cpu_cores", "api:latency_p99_s", "db:cpu_cores"]
    assert list(cols["group"]) == ["cpu", "application", "cpu"]
    assert data.services == ["api", "db"]
    assert data.values().dtype == np.float32 and data.values().shape == (10, 3)
    assert data.y.dtype == np.int8 and data.y.sum() == 2


def test_columns_fall_back_to_names_without_meta():
    data = _dataset()
    bare = Dataset(metrics=data.metrics, labels=data.labels, graph=GRAPH, meta={})
    cols = bare.columns
    assert list(cols["name"]) == list(data.metrics.columns)
    assert list(cols["service"]) == ["api", "api", "db"]
    assert list(cols["metric"]) == ["cpu_cores", "latency_p99_s", "cpu_cores"]


def test_train_test_split_on_declared_train_end():
    data = _dataset(train_end="2026-01-01T00:00:40Z", anomalous=(3, 9))  # step 8
    train, test = data.train(), data.test()
    # steps 0..7 before train_end, minus the anomalous step 3
    assert list(train.metrics["api:cpu_cores"]) == [0, 1, 2, 4, 5, 6, 7]
    assert train.labels["anomaly"].sum() == 0 and len(train.mask) == 7
    assert list(test.metrics["api:cpu_cores"]) == [8, 9]


def test_train_end_defaults_to_first_anomaly():
    data = _dataset(anomalous=(6, 7))
    assert data.train_end == data.timestamps[6]
    assert len(data.train().metrics) == 6 and len(data.test().metrics) == 4
    clean = _dataset(anomalous=())
    assert len(clean.train().metrics) == 10 and len(clean.test().metrics) == 0


def test_slice_is_half_open():
    data = _dataset()
    part = data.slice(data.timestamps[2], data.timestamps[5])
    assert list(part.metrics["api:cpu_cores"]) == [2, 3, 4]


def test_windows_end_where_documented():
    data = _dataset()
    w = data.windows(4, stride=3)
    assert w.shape == (3, 4, 3)
    for i in range(3):  # window i ends at step i*stride + size - 1
        assert w[i, -1, 0] == i * 3 + 3
    assert sliding_windows(np.zeros((2, 3)), 4).shape == (0, 4, 3)
    with pytest.raises(BadInput, match="size"):
        sliding_windows(np.zeros((5, 2)), 0)


def test_per_service_tensor_zero_fills_missing_metrics():
    data = _dataset()
    tensor, services, metrics = data.per_service()
    assert services == ["api", "db"] and metrics == ["cpu_cores", "latency_p99_s"]
    assert tensor.shape == (10, 2, 2)
    np.testing.assert_array_equal(tensor[:, 1, 0], np.arange(10) * 100)  # db cpu
    np.testing.assert_array_equal(tensor[:, 1, 1], 0)  # db has no latency
    only_cpu, _, m = data.per_service(["cpu_cores"])
    assert m == ["cpu_cores"] and only_cpu.shape == (10, 2, 1)


def test_graph_adjacency_and_edge_index():
    np.testing.assert_array_equal(GRAPH.adjacency(), [[0, 1], [0, 0]])
    np.testing.assert_array_equal(GRAPH.adjacency(["db", "api"]), [[0, 0], [1, 0]])
    np.testing.assert_array_equal(GRAPH.edge_index(), [[0], [1]])
    assert GRAPH.edge_index().dtype == np.int64


def test_save_load_round_trip(tmp_path):
    data = _dataset(train_end="2026-01-01T00:00:40Z")
    data.save(tmp_path / "ds")
    loaded = load_dataset(tmp_path / "ds")
    pd.testing.assert_frame_equal(loaded.metrics, data.metrics, check_index_type=False, check_freq=False)
    pd.testing.assert_frame_equal(loaded.labels, data.labels, check_index_type=False, check_freq=False, check_dtype=False)
    pd.testing.assert_frame_equal(loaded.mask, data.mask, check_index_type=False, check_freq=False)
    assert loaded.graph == GRAPH
    assert loaded.meta["format_version"] == 1 and loaded.meta["columns"] == data.meta["columns"]
    assert loaded.train_end == data.train_end
    assert len(loaded.train().metrics) == len(data.train().metrics)


def test_load_rejects_broken_folders(tmp_path):
    with pytest.raises(BadInput, match="missing metrics.parquet"):
        load_dataset(tmp_path)
    data = _dataset()
    data.save(tmp_path / "ds")
    meta = json.loads((tmp_path / "ds" / "meta.json").read_text())
    (tmp_path / "ds" / "meta.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(BadInput, match="format_version 99"):
        load_dataset(tmp_path / "ds")
    data.save(tmp_path / "ds2")
    data.labels.drop(columns=["fault_id"]).reset_index().to_parquet(tmp_path / "ds2" / "labels.parquet")
    with pytest.raises(BadInput, match="fault_id"):
        load_dataset(tmp_path / "ds2")


def test_per_service_windows_for_graph_models():
    """Graph detectors window the T x S x M tensor: N x size x S x M, in the graph's node order."""
    data = _dataset()
    tensor, services, _ = data.per_service()
    w = sliding_windows(tensor, 4)
    assert w.shape == (7, 4, 2, 2)
    np.testing.assert_array_equal(w[2, -1], tensor[5])
    np.testing.assert_array_equal(data.graph.adjacency(services), [[0, 1], [0, 0]])
