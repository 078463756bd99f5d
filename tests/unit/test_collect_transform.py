"""Pure transforms: counter rates with resets, grid alignment, per-service sums, gap filling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faultlab.harness.collect.catalog import MetricSpec
from faultlab.harness.collect.transform import (
    RawSeries,
    counter_rate,
    fill_gaps,
    grid_seconds,
    make_grid,
    on_grid,
    spec_columns,
    to_utc,
)

T0 = 1_735_689_600.0


def test_counter_rate_steady():
    times = T0 + np.array([0, 5, 10, 15.0])
    rates = counter_rate(times, np.array([0.0, 1.0, 2.5, 3.0]))
    np.testing.assert_allclose(rates, [np.nan, 0.2, 0.3, 0.1])


def test_counter_rate_reset_counts_new_value_as_increment():
    # 10 -> 12 (+2), then restart: 12 -> 3 means +3 since the restart, then +1.
    times = T0 + np.array([0, 5, 10, 15.0])
    rates = counter_rate(times, np.array([10.0, 12.0, 3.0, 4.0]))
    np.testing.assert_allclose(rates, [np.nan, 0.4, 0.6, 0.2])


def test_counter_rate_reset_to_zero_gives_zero_rate():
    rates = counter_rate(T0 + np.array([0, 1, 2.0]), np.array([7.0, 0.0, 2.0]))
    np.testing.assert_allclose(rates, [np.nan, 0.0, 2.0])


def test_counter_rate_across_gap_spreads_over_elapsed_time():
    # Missing at 5 and 10: the +6 from t=0 to t=15 is 0.4/s, placed at t=15; gaps stay NaN.
    times = T0 + np.array([0, 5, 10, 15, 20.0])
    rates = counter_rate(times, np.array([0.0, np.nan, np.nan, 6.0, 7.0]))
    np.testing.assert_allclose(rates, [np.nan, np.nan, np.nan, 0.4, 0.2])


def test_counter_rate_needs_two_samples():
    assert np.isnan(counter_rate(np.array([T0]), np.array([1.0]))).all()
    assert counter_rate(np.array([]), np.array([])).shape == (0,)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=2, max_size=40))
def test_counter_rate_never_negative_and_integrates_to_total_increase(increments):
    """Rates are >= 0 and, without resets, sum(rate * dt) is the counter's last minus first value."""
    values = np.cumsum(np.asarray(increments))
    times = T0 + 5.0 * np.arange(len(values))
    rates = counter_rate(times, values)
    assert np.all(rates[1:] >= 0)
    assert np.sum(rates[1:] * 5.0) == pytest.approx(values[-1] - values[0], rel=1e-9, abs=1e-6)


def test_make_grid_includes_both_ends_and_is_utc():
    grid = make_grid("2025-01-01T00:00:00Z", "2025-01-01T00:00:10Z", 5)
    assert list(grid.strftime("%H:%M:%S")) == ["00:00:00", "00:00:05", "00:00:10"]
    assert str(grid.tz) == "UTC"
    np.testing.assert_allclose(grid_seconds(grid), [T0, T0 + 5, T0 + 10])
    assert len(make_grid(T0, T0 + 9.9, 5)) == 2  # the end need not sit on the grid


def test_to_utc_accepts_unix_seconds_naive_and_aware():
    assert to_utc(T0) == pd.Timestamp("2025-01-01T00:00:00Z")
    assert to_utc("2025-01-01 00:00:00") == pd.Timestamp("2025-01-01T00:00:00Z")
    assert to_utc("2025-01-01T01:00:00+01:00") == pd.Timestamp("2025-01-01T00:00:00Z")


def test_on_grid_places_samples_and_leaves_missing_nan():
    grid_s = T0 + np.array([0, 5, 10, 15.0])
    series = RawSeries({}, T0 + np.array([5.0, 15.0, 99.0]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(on_grid(series, grid_s), [np.nan, 1.0, np.nan, 2.0])


def _series(labels, values, step=5.0):
    values = np.asarray(values, dtype=np.float64)
    return RawSeries(labels, T0 + step * np.arange(len(values)), values)


GRID_S = T0 + 5.0 * np.arange(4)


def test_counter_spec_sums_rates_of_raw_series_per_service():
    spec = MetricSpec("request_rate", "http_requests_total", "application", "counter", "requests/s")
    results = {
        "http_requests_total": [
            _series({"service": "a", "endpoint": "/x"}, [0, 5, 10, 15]),  # 1/s
            _series({"service": "a", "endpoint": "/y"}, [100, 110, 5, 15]),  # 2/s, reset at step 2 -> 1/s, 2/s
            _series({"service": "b", "endpoint": "/x"}, [0, 0, 0, 0]),
        ]
    }
    cols = spec_columns(spec, results, GRID_S, 20.0)
    assert set(cols) == {("a", "request_rate"), ("b", "request_rate")}
    np.testing.assert_allclose(cols[("a", "request_rate")], [np.nan, 3.0, 2.0, 3.0])
    np.testing.assert_allclose(cols[("b", "request_rate")], [np.nan, 0.0, 0.0, 0.0])


def test_sum_ignores_a_series_that_appears_late():
    spec = MetricSpec("request_rate", "http_requests_total", "application", "counter", "requests/s")
    late = RawSeries({"service": "a", "endpoint": "/new"}, T0 + np.array([10.0, 15.0]), np.array([1.0, 6.0]))
    results = {"http_requests_total": [_series({"service": "a"}, [0, 5, 10, 15]), late]}
    col = spec_columns(spec, results, GRID_S, 20.0)[("a", "request_rate")]
    np.testing.assert_allclose(col, [np.nan, 1.0, 1.0, 2.0])


def test_gauge_spec_sums_replicas_and_filters_services():
    spec = MetricSpec("memory_bytes", "container_memory_usage_bytes", "memory", "gauge", "bytes")
    results = {
        "container_memory_usage_bytes": [
            _series({"service": "a", "container": "a1"}, [1, 2, 3, 4]),
            _series({"service": "a", "container": "a2"}, [10, 20, np.nan, 40]),
            _series({"service": "b", "container": "b1"}, [7, 7, 7, 7]),
        ]
    }
    cols = spec_columns(spec, results, GRID_S, 20.0, services={"a"})
    assert list(cols) == [("a", "memory_bytes")]
    np.testing.assert_allclose(cols[("a", "memory_bytes")], [11, 22, 3, 44])


def test_split_label_gives_one_column_per_value():
    spec = MetricSpec(
        "calls_to_{}_per_s", "dependency_requests_total", "application", "counter", "requests/s",
        split_label="dependency",
    )
    results = {
        "dependency_requests_total": [
            _series({"service": "gw", "dependency": "cart", "status": "ok"}, [0, 5, 10, 15]),
            _series({"service": "gw", "dependency": "cart", "status": "error"}, [0, 0, 5, 5]),
            _series({"service": "gw", "dependency": "db", "status": "ok"}, [0, 10, 20, 30]),
        ]
    }
    cols = spec_columns(spec, results, GRID_S, 20.0)
    np.testing.assert_allclose(cols[("gw", "calls_to_cart_per_s")], [np.nan, 1.0, 2.0, 1.0])
    np.testing.assert_allclose(cols[("gw", "calls_to_db_per_s")], [np.nan, 2.0, 2.0, 2.0])


def test_divide_by_is_ratio_of_summed_rates_and_nan_without_requests():
    spec = MetricSpec(
        "latency_mean_s", "h_sum", "application", "counter", "s", divide_by="h_count"
    )
    results = {
        "h_sum": [_series({"service": "a", "endpoint": "/x"}, [0, 1, 1, 4]),
                  _series({"service": "a", "endpoint": "/y"}, [0, 1, 1, 1])],
        "h_count": [_series({"service": "a", "endpoint": "/x"}, [0, 10, 10, 20]),
                    _series({"service": "a", "endpoint": "/y"}, [0, 10, 10, 10])],
    }
    col = spec_columns(spec, results, GRID_S, 20.0)[("a", "latency_mean_s")]
    # step 1: 2 s over 20 requests = 0.1; step 2: no requests -> NaN; step 3: 3 s over 10 = 0.3
    np.testing.assert_allclose(col, [np.nan, 0.1, np.nan, 0.3])
    assert spec.column_kind == "gauge"


def test_fixed_service_ignores_labels():
    spec = MetricSpec("users", "locust_users", "application", "gauge", "users", service="locust")
    cols = spec_columns(spec, {"locust_users": [_series({"job": "locust"}, [5, 5, 6, 6])]}, GRID_S, 20.0)
    np.testing.assert_allclose(cols[("locust", "users")], [5, 5, 6, 6])


def test_series_without_service_label_is_skipped():
    spec = MetricSpec("cpu_cores", "container_cpu_usage_seconds_total", "cpu", "counter", "cores")
    cols = spec_columns(spec, {"container_cpu_usage_seconds_total": [_series({"job": "x"}, [0, 1, 2, 3])]}, GRID_S, 20.0)
    assert cols == {}


def test_fill_gaps_forward_then_backward_with_mask():
    index = make_grid(T0, T0 + 20, 5)
    frame = pd.DataFrame(
        {"a": [np.nan, 1.0, np.nan, np.nan, 4.0], "b": [2.0, 2.0, 3.0, np.nan, np.nan], "c": np.nan}, index=index
    )
    filled, mask = fill_gaps(frame)
    np.testing.assert_allclose(filled["a"], [1, 1, 1, 1, 4])
    np.testing.assert_allclose(filled["b"], [2, 2, 3, 3, 3])
    assert filled["c"].isna().all()
    assert mask["a"].tolist() == [True, False, True, True, False]
    assert mask["b"].tolist() == [False, False, False, True, True]
    assert mask["c"].all()
    assert frame["a"].isna().sum() == 3  # the input is left alone
