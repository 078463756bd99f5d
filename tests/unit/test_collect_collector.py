"""collect_dataset end to end against a fake client: columns, meta, labels, mask, round trip."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import ServiceGraph, load_dataset
from faultlab.errors import BadInput, RunFailed
from faultlab.harness.collect import collect_dataset, collect_metrics, no_fault_labels

T0 = 1_735_689_600
URL = "http://prometheus.test:9090"

Curve = Callable[[float], float]  # unix seconds -> value (NaN: no sample)


class CannedClient:
    """Answers each known query with fixed curves, sampled on the requested range."""

    url = URL

    def __init__(self, answers: dict[str, list[tuple[dict[str, str], Curve]]]):
        self.answers = answers
        self.queries: list[str] = []
        self.lock = threading.Lock()

    def custom_query_range(self, query: str, start_time: datetime, end_time: datetime, step: str):
        with self.lock:
            self.queries.append(query)
        start, end, step_s = start_time.timestamp(), end_time.timestamp(), float(step)
        times = np.arange(start, end + step_s / 2, step_s)
        out = []
        for labels, curve in self.answers.get(query, []):
            values = [[t, repr(float(curve(t)))] for t in times if not np.isnan(curve(t))]
            if values:
                out.append({"metric": labels, "values": values})
        return out


def _since(t: float) -> float:
    return t - T0


ANSWERS = {
    # 0.2 cores from well before the start: the first row has a rate thanks to the extra step.
    "container_cpu_usage_seconds_total": [({"service": "cart", "container": "c1"}, lambda t: 0.2 * (t - T0 + 100))],
    # a gauge missing at the first two steps and at 20 s (memory_bytes: the working set)
    "container_memory_working_set_bytes": [
        ({"service": "cart", "container": "c1"}, lambda t: np.nan if _since(t) in (0, 5, 20) else 1e6 + _since(t))
    ],
    "container_processes": [({"service": "zeta", "container": "z1"}, lambda t: 4.0)],
    # only before the start: must not become an all-NaN column
    "container_memory_rss_bytes": [({"service": "cart", "container": "c1"}, lambda t: 5.0 if t < T0 else np.nan)],
    "locust_users": [({"job": "locust"}, lambda t: 7.0)],
}


def _collect(**kwargs):
    client = CannedClient(ANSWERS)
    options = {"groups": ["cpu", "memory"], "client": client, **kwargs}
    return collect_dataset(URL, T0, T0 + 30, 5, **options), client


def test_columns_values_and_mask():
    ds, _ = _collect()
    assert list(ds.metrics.columns) == ["cart:cpu_cores", "cart:memory_bytes", "zeta:processes"]
    assert len(ds.metrics) == 7 and ds.metrics.index[0] == pd.Timestamp(T0, unit="s", tz="UTC")
    np.testing.assert_allclose(ds.metrics["cart:cpu_cores"], 0.2)
    assert not ds.mask["cart:cpu_cores"].any()
    # missing at 0, 5 and 20 s: backward fill at the start, forward fill inside
    np.testing.assert_allclose(ds.metrics["cart:memory_bytes"], 1e6 + np.array([10, 10, 10, 15, 15, 25, 30]))
    assert ds.mask["cart:memory_bytes"].tolist() == [True, True, False, False, True, False, False]


def test_meta_describes_every_column_and_the_collection():
    ds, client = _collect(meta={"name": "unit-run", "train_end": "2025-01-01T00:00:20Z"})
    cols = ds.columns.set_index("name")
    assert cols.loc["cart:cpu_cores", ["service", "metric", "group", "kind", "unit"]].tolist() == [
        "cart", "cpu_cores", "cpu", "counter", "cores"
    ]
    assert cols.loc["cart:memory_bytes", "kind"] == "gauge"
    assert ds.meta["name"] == "unit-run" and ds.meta["scrape_interval_s"] == 5.0
    assert ds.meta["start"] == "2025-01-01T00:00:00.000Z" and ds.meta["end"] == "2025-01-01T00:00:30.000Z"
    assert ds.meta["collection"]["groups"] == ["cpu", "memory"]
    assert ds.train_end == pd.Timestamp("2025-01-01T00:00:20Z")
    # only the chosen groups were asked for
    assert "locust_users" not in client.queries and "container_network_receive_bytes_total" not in client.queries


def test_services_filter_and_order_follow_the_caller():
    ds, _ = _collect(services=["zeta", "cart"])
    assert list(ds.metrics.columns) == ["zeta:processes", "cart:cpu_cores", "cart:memory_bytes"]
    ds, _ = _collect(services=["zeta"])
    assert list(ds.metrics.columns) == ["zeta:processes"]


def test_labels_default_dataframe_and_callable():
    ds, _ = _collect()
    assert ds.labels["anomaly"].sum() == 0
    assert list(ds.labels.columns) == ["anomaly", "fault_type", "root_cause", "fault_id", "recovering"]

    def from_grid(index: pd.DatetimeIndex) -> pd.DataFrame:
        labels = no_fault_labels(index)
        labels.loc[index[2:4], ["anomaly", "fault_type", "root_cause", "fault_id"]] = [1, "cpu", "cart", "f1"]
        return labels

    ds, _ = _collect(labels=from_grid)
    assert ds.labels["anomaly"].tolist() == [0, 0, 1, 1, 0, 0, 0]
    assert ds.labels["root_cause"].tolist()[2] == "cart"
    ds2, _ = _collect(labels=from_grid(ds.metrics.index))
    pd.testing.assert_frame_equal(ds.labels, ds2.labels)


def test_labels_that_do_not_cover_the_grid_are_bad_input():
    short = no_fault_labels(pd.date_range(pd.Timestamp(T0, unit="s", tz="UTC"), periods=3, freq="5s"))
    with pytest.raises(BadInput, match="4 of 7 time steps"):
        _collect(labels=short)
    with pytest.raises(BadInput, match="fault_id"):
        _collect(labels=short.drop(columns=["fault_id"]))


def test_round_trip_through_save_and_load(tmp_path):
    graph = {"nodes": [{"name": "cart", "kind": "service"}], "edges": []}
    ds, _ = _collect(graph=graph, meta={"name": "rt"})
    loaded = load_dataset(ds.save(tmp_path / "dataset"))
    pd.testing.assert_frame_equal(loaded.metrics, ds.metrics, check_freq=False, check_index_type=False)
    pd.testing.assert_frame_equal(loaded.mask, ds.mask, check_freq=False, check_index_type=False)
    pd.testing.assert_frame_equal(loaded.labels, ds.labels, check_freq=False, check_index_type=False)
    assert loaded.graph == ServiceGraph.from_json(graph)
    assert loaded.meta["columns"] == ds.meta["columns"] and loaded.name == "rt"
    assert loaded.values().shape == (7, 3)


def test_nothing_collected_is_run_failed():
    with pytest.raises(RunFailed, match="no series.*time range"):
        collect_metrics(URL, T0, T0 + 30, 5, groups=["disk"], client=CannedClient(ANSWERS))


def test_end_before_start_is_bad_input():
    with pytest.raises(BadInput, match="before its start"):
        collect_metrics(URL, T0 + 30, T0, 5, client=CannedClient(ANSWERS))


MONITORED = {
    **ANSWERS,
    "container_processes": [
        ({"service": "cart", "container": "c1"}, lambda t: 4.0),
        ({"service": "prometheus", "container": "p1"}, lambda t: 9.0),
        ({"service": "node-exporter", "container": "n1"}, lambda t: 2.0),
    ],
    "node_load1": [({"job": "node"}, lambda t: 0.5)],
}
SHOP = {"nodes": [{"name": "cart", "kind": "service"}, {"name": "redis", "kind": "database"}], "edges": []}


def _scenario_collect(monitoring: bool | None):
    """Collect as the runner does, with the plan resolved from a scenario."""
    from faultlab.harness.scenario.model import Scenario
    from faultlab.harness.scenario.plan import resolve_plan

    doc = {"name": "mon", "train_s": 60, "collect": {"groups": ["cpu"]}}
    if monitoring is not None:
        doc["collect"]["monitoring"] = monitoring
    plan = resolve_plan(Scenario.model_validate(doc))
    client = CannedClient(MONITORED)
    return collect_dataset(
        URL, T0, T0 + 30, 5, groups=plan.metric_groups, services=plan.collect_services,
        monitoring=plan.collect_monitoring, graph=SHOP, client=client,
    )


def test_monitoring_stack_is_not_collected_by_default_and_candidates_are_graph_nodes():
    ds = _scenario_collect(None)
    assert set(ds.services) == {"cart", "host"}  # no prometheus, no node-exporter
    assert ds.meta["candidates"] == ["cart"] and ds.candidates == ["cart"]
    assert ds.context == ["host"]
    assert ds.meta["collection"]["monitoring"] is False


def test_a_scenario_that_asks_for_the_monitoring_stack_gets_it_as_context(tmp_path):
    ds = _scenario_collect(True)
    assert {"prometheus", "node-exporter"} <= set(ds.services)
    assert ds.candidates == ["cart"]
    assert {"prometheus", "node-exporter", "host"} == set(ds.context)
    loaded = load_dataset(ds.save(tmp_path / "d"))
    assert loaded.candidates == ["cart"] and set(loaded.context) == set(ds.context)
