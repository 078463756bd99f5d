"""Fetching: chunk planning, chunk merging, retries and the RunFailed message.

The client is a small fake standing in for ``PrometheusConnect.custom_query_range``; one test
uses a real closed port to see the error a user would get.
"""

from __future__ import annotations

import threading
from datetime import datetime

import numpy as np
import pytest
import requests
from prometheus_api_client import PrometheusApiClientException

from faultlab.errors import BadInput, RunFailed
from faultlab.harness.collect.fetch import fetch_queries, make_client, merge_chunks, parse_result, plan_chunks, query_range
from faultlab.harness.collect.transform import RawSeries
from tests.prom_fixtures import free_port

T0 = 1_735_689_600


def test_plan_chunks_respects_max_points_without_overlap():
    chunks = plan_chunks(T0, T0 + 95, 5, max_points=7)  # 20 points -> 7 + 7 + 6
    assert chunks == [(T0, T0 + 30), (T0 + 35, T0 + 65), (T0 + 70, T0 + 95)]


def test_plan_chunks_single_chunk_and_single_point():
    assert plan_chunks(T0, T0 + 1800, 5) == [(T0, T0 + 1800)]
    assert plan_chunks(T0, T0, 5) == [(T0, T0)]


def test_plan_chunks_keeps_chunk_edges_on_whole_seconds():
    chunks = plan_chunks(T0, T0 + 10, 0.5, max_points=5)  # 5 * 0.5 is not whole: 4 points per chunk
    assert all(float(a).is_integer() for a, _ in chunks)
    assert chunks[0] == (T0, T0 + 1.5) and chunks[1][0] == T0 + 2


def test_plan_chunks_rejects_bad_input():
    with pytest.raises(BadInput, match="step_s"):
        plan_chunks(T0, T0 + 10, 0)
    with pytest.raises(BadInput, match="before"):
        plan_chunks(T0 + 10, T0, 5)


def test_parse_result_reads_prometheus_strings_including_nan():
    parsed = parse_result([{"metric": {"service": "a"}, "values": [[T0, "1.5"], [T0 + 5, "NaN"], [T0 + 10, "+Inf"]]}])
    assert parsed[0].labels == {"service": "a"}
    np.testing.assert_array_equal(parsed[0].times_s, [T0, T0 + 5, T0 + 10])
    assert parsed[0].values[0] == 1.5 and np.isnan(parsed[0].values[1]) and np.isinf(parsed[0].values[2])


def test_merge_chunks_joins_each_series_in_time_order():
    a1 = RawSeries({"s": "a"}, np.array([10.0, 15.0]), np.array([3.0, 4.0]))
    a0 = RawSeries({"s": "a"}, np.array([0.0, 5.0]), np.array([1.0, 2.0]))
    b1 = RawSeries({"s": "b"}, np.array([10.0]), np.array([9.0]))
    merged = {m.labels["s"]: m for m in merge_chunks([[a1, b1], [a0]])}
    np.testing.assert_array_equal(merged["a"].times_s, [0, 5, 10, 15])
    np.testing.assert_array_equal(merged["a"].values, [1, 2, 3, 4])
    np.testing.assert_array_equal(merged["b"].values, [9])


class FakeClient:
    """Answers ``custom_query_range`` with one series per query: value = unix time; logs calls."""

    url = "http://prometheus.test:9090"

    def __init__(self, failures: list[Exception] | None = None):
        self.failures = list(failures or [])
        self.calls: list[tuple[str, float, float, str]] = []
        self.lock = threading.Lock()

    def custom_query_range(self, query: str, start_time: datetime, end_time: datetime, step: str):
        with self.lock:
            self.calls.append((query, start_time.timestamp(), end_time.timestamp(), step))
            if self.failures:
                raise self.failures.pop(0)
        start, end, step_s = start_time.timestamp(), end_time.timestamp(), float(step)
        times = np.arange(start, end + step_s / 2, step_s)
        return [{"metric": {"q": query}, "values": [[t, str(t)] for t in times]}]


def test_fetch_queries_chunks_every_query_and_rebuilds_full_series():
    client = FakeClient()
    out = fetch_queries(client, ["a", "b", "a"], T0, T0 + 95, 5, max_points=7, max_workers=4)
    assert set(out) == {"a", "b"}
    assert len(client.calls) == 2 * 3  # duplicates are fetched once, 3 chunks each
    assert {c[3] for c in client.calls} == {"5"}
    for series in out.values():
        assert len(series) == 1
        np.testing.assert_array_equal(series[0].times_s, T0 + 5.0 * np.arange(20))
        np.testing.assert_array_equal(series[0].values, series[0].times_s)


def test_query_range_retries_transient_errors_then_succeeds():
    client = FakeClient([requests.ConnectionError("refused"), PrometheusApiClientException("HTTP Status Code 503 (b'')")])
    slept: list[float] = []
    series = query_range(client, "up", T0, T0 + 10, 5, attempts=3, backoff_s=0.1, sleep=slept.append)
    assert len(series[0].values) == 3
    assert slept == [0.1, 0.2]


def test_query_range_gives_up_with_url_and_query_named():
    client = FakeClient([requests.ConnectionError("refused")] * 3)
    with pytest.raises(RunFailed) as info:
        query_range(client, "rate(x[1m])", T0, T0 + 10, 5, attempts=3, sleep=lambda s: None)
    message = str(info.value)
    assert "http://prometheus.test:9090" in message and "'rate(x[1m])'" in message and "3 attempts" in message


def test_query_range_does_not_retry_a_bad_query():
    client = FakeClient([PrometheusApiClientException("HTTP Status Code 400 (b'parse error')")])
    with pytest.raises(RunFailed, match="first attempt.*parse error"):
        query_range(client, "sum(", T0, T0 + 10, 5, sleep=lambda s: None)
    assert len(client.calls) == 1


def test_fetch_queries_raises_the_first_failure():
    client = FakeClient([PrometheusApiClientException("HTTP Status Code 400 (b'bad')")])
    with pytest.raises(RunFailed, match="bad"):
        fetch_queries(client, ["a"], T0, T0 + 10, 5)


def test_unreachable_prometheus_is_run_failed_naming_the_url():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(RunFailed, match=f"Prometheus at {url}.*'up'"):
        query_range(make_client(url, timeout_s=2), "up", T0, T0 + 10, 5, attempts=2, backoff_s=0.01)
