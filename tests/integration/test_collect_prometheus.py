"""Collection against a real Prometheus 2.x serving backfilled, hand-computed series.

The series are defined in ``tests.prom_fixtures.known_run``: 10 minutes at a 5 s scrape from
2025-01-01T00:00:00Z. Every expected number below follows from those definitions by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import load_dataset
from faultlab.harness.collect import collect_dataset, collect_metrics
from faultlab.harness.collect.fetch import make_client
from tests.prom_fixtures import KNOWN_POINTS, KnownPrometheus, known_prometheus  # noqa: F401 (fixture)

pytestmark = pytest.mark.prometheus


@pytest.fixture(scope="module")
def dataset(known_prometheus: KnownPrometheus):  # noqa: F811
    p = known_prometheus
    return collect_dataset(p.url, p.start_s, p.end_s, p.step_s, meta={"name": "known"})


def _col(ds, name: str) -> np.ndarray:
    return ds.metrics[name].to_numpy()


def test_grid_covers_the_run(dataset):
    assert len(dataset.metrics) == KNOWN_POINTS
    assert dataset.metrics.index[0] == pd.Timestamp("2025-01-01T00:00:00Z")
    assert dataset.metrics.index[-1] == pd.Timestamp("2025-01-01T00:10:00Z")


def test_counter_rates_with_a_reset_and_replicas(dataset):
    # cart-1 grows 0.5 s per 5 s and restarts from 0 at step 60; cart-2 grows 1.0 s per 5 s.
    np.testing.assert_allclose(_col(dataset, "cart:cpu_cores"), 0.3, rtol=1e-12)
    # Row 0 has no earlier sample (the run starts there): backward-filled and masked.
    assert dataset.mask["cart:cpu_cores"].tolist() == [True] + [False] * (KNOWN_POINTS - 1)
    gw = _col(dataset, "gateway:cpu_cores")
    np.testing.assert_allclose(gw[:81], 0.05, rtol=1e-12)
    np.testing.assert_allclose(gw[81:], 0.5, rtol=1e-12)
    np.testing.assert_allclose(_col(dataset, "postgres:cpu_cores"), 0.02, rtol=1e-12)
    np.testing.assert_allclose(_col(dataset, "gateway:rx_bytes_per_s"), 1000.0, rtol=1e-12)
    np.testing.assert_allclose(_col(dataset, "gateway:tx_bytes_per_s"), 2000.0, rtol=1e-12)


def test_client_side_rate_matches_prometheus_rate(known_prometheus):  # noqa: F811
    """Across the reset, PromQL rate() over 4 scrapes agrees with our per-step rates."""
    p = known_prometheus
    start, end = pd.Timestamp(p.start_s + 20, unit="s", tz="UTC"), pd.Timestamp(p.end_s, unit="s", tz="UTC")
    ours = collect_metrics(p.url, start, end, p.step_s, groups=["cpu"], services=["cart"]).metrics["cart:cpu_cores"]
    theirs = make_client(p.url).custom_query_range(
        "sum by (service) (rate(container_cpu_usage_seconds_total{service='cart'}[20s]))",
        start.to_pydatetime(),
        end.to_pydatetime(),
        step="5",
    )
    np.testing.assert_allclose([float(v) for _, v in theirs[0]["values"]], ours.to_numpy(), rtol=1e-9)


def test_gauges_and_a_gap_filled_forward_with_mask(dataset):
    np.testing.assert_allclose(_col(dataset, "cart:memory_bytes"), 150e6)
    # gateway: 200 MB, no samples at steps 40..59, 300 MB from step 60. With a 12 s lookback
    # steps 40 and 41 still see step 39's sample; 42..59 are missing and filled forward.
    gw = _col(dataset, "gateway:memory_bytes")
    np.testing.assert_allclose(gw[:60], 200e6)
    np.testing.assert_allclose(gw[60:], 300e6)
    missing = np.flatnonzero(dataset.mask["gateway:memory_bytes"].to_numpy())
    assert missing.tolist() == list(range(42, 60))
    np.testing.assert_allclose(_col(dataset, "gateway:in_flight"), 3.0)


def test_application_rates_latency_and_dependencies(dataset):
    np.testing.assert_allclose(_col(dataset, "gateway:request_rate"), 4.0, rtol=1e-12)  # 2 + 1.5 + 0.5
    np.testing.assert_allclose(_col(dataset, "cart:request_rate"), 1.0, rtol=1e-12)
    np.testing.assert_allclose(_col(dataset, "gateway:error_rate"), 0.5, rtol=1e-12)
    np.testing.assert_allclose(_col(dataset, "gateway:latency_mean_s"), 0.2, rtol=1e-12)  # 4 s / 20 requests
    # bucket rates 2, 3.6, 4, 4 per s at le 0.1, 0.5, 1, +Inf: p50 rank 2 -> 0.1;
    # p95 rank 3.8 -> 0.5 + 0.5 * 0.2/0.4 = 0.75; p99 rank 3.96 -> 0.5 + 0.5 * 0.36/0.4 = 0.95
    np.testing.assert_allclose(_col(dataset, "gateway:latency_p50_s"), 0.1, rtol=1e-9)
    np.testing.assert_allclose(_col(dataset, "gateway:latency_p95_s"), 0.75, rtol=1e-9)
    np.testing.assert_allclose(_col(dataset, "gateway:latency_p99_s"), 0.95, rtol=1e-9)
    np.testing.assert_allclose(_col(dataset, "gateway:calls_to_cart_per_s"), 1.0, rtol=1e-12)
    np.testing.assert_allclose(_col(dataset, "gateway:calls_to_catalog_per_s"), 3.0, rtol=1e-12)  # ok 2 + error 1
    np.testing.assert_allclose(_col(dataset, "gateway:calls_to_cart_latency_mean_s"), 0.1, rtol=1e-12)
    # one 20 s window needs two samples: the first step has none
    assert dataset.mask["gateway:latency_p95_s"].tolist()[:2] == [True, False]


def test_locust_and_host(dataset):
    np.testing.assert_allclose(_col(dataset, "locust:users"), 10.0)
    np.testing.assert_allclose(_col(dataset, "locust:request_rate"), 4.0, rtol=1e-12)
    np.testing.assert_allclose(_col(dataset, "locust:response_time_p95_s"), 0.3)
    np.testing.assert_allclose(_col(dataset, "host:cpu_busy_cores"), 0.4, rtol=1e-12)  # user 0.3 + system 0.1
    np.testing.assert_allclose(_col(dataset, "host:memory_used_bytes"), 2e9)
    np.testing.assert_allclose(_col(dataset, "host:rx_bytes_per_s"), 300.0, rtol=1e-12)  # lo excluded


def test_meta_columns_and_round_trip(dataset, tmp_path):
    cols = dataset.columns.set_index("name")
    assert cols.loc["gateway:latency_p99_s", "kind"] == "gauge"
    assert cols.loc["cart:cpu_cores", "kind"] == "counter"
    assert set(cols["group"]) == {"cpu", "memory", "network", "application"}
    loaded = load_dataset(dataset.save(tmp_path / "dataset"))
    np.testing.assert_array_equal(loaded.values(), dataset.values())
    assert loaded.mask.to_numpy().sum() == dataset.mask.to_numpy().sum()
    assert loaded.meta["columns"] == dataset.meta["columns"] and loaded.name == "known"


def test_group_selection(known_prometheus):  # noqa: F811
    p = known_prometheus
    ds = collect_dataset(p.url, p.start_s, p.end_s, p.step_s, groups=["memory"])
    assert list(ds.metrics.columns) == ["cart:memory_bytes", "gateway:memory_bytes", "host:memory_used_bytes"]


def test_many_small_chunks_give_the_same_dataset(dataset, known_prometheus):  # noqa: F811
    p = known_prometheus
    chunked = collect_dataset(p.url, p.start_s, p.end_s, p.step_s, max_points=7, max_workers=3, meta={"name": "known"})
    pd.testing.assert_frame_equal(chunked.metrics, dataset.metrics)
    pd.testing.assert_frame_equal(chunked.mask, dataset.mask)


def test_starting_inside_the_run_needs_no_fill_for_counters(known_prometheus):  # noqa: F811
    p = known_prometheus
    ds = collect_dataset(p.url, p.start_s + 5, p.end_s, p.step_s, groups=["cpu"], services=["cart"])
    assert not ds.mask.to_numpy().any()
    np.testing.assert_allclose(_col(ds, "cart:cpu_cores"), 0.3, rtol=1e-12)
