"""Fetching range data from Prometheus: chunked in time, concurrent, briefly retried.

Prometheus refuses a ``query_range`` that would return more than 11,000 points per series, so
a long run is split into chunks of at most ``max_points`` steps; all (query, chunk) pairs go
through one thread pool (the HTTP calls spend their time waiting on the server), and the chunks
of each series are joined back in time order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

import numpy as np
import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from faultlab.errors import BadInput, RunFailed
from faultlab.harness.collect.transform import RawSeries

#: Prometheus's hard limit is 11,000 points per series per query; stay clear of it.
MAX_POINTS_PER_QUERY = 10_000
TRANSIENT_STATUS = ("HTTP Status Code 429", "HTTP Status Code 502", "HTTP Status Code 503", "HTTP Status Code 504")


def make_client(prometheus_url: str, timeout_s: float = 60.0) -> PrometheusConnect:
    """A client without urllib3's own retries: :func:`query_range` retries, and says so."""
    return PrometheusConnect(url=prometheus_url.rstrip("/"), retry=Retry(total=0), timeout=timeout_s)


def plan_chunks(start_s: float, end_s: float, step_s: float, max_points: int = MAX_POINTS_PER_QUERY) -> list[tuple[float, float]]:
    """Inclusive ``(start, end)`` spans covering the grid, each at most ``max_points`` steps.

    Chunk edges land on grid points and on whole seconds (the client rounds times to seconds),
    and consecutive chunks do not share a point.
    """
    if step_s <= 0:
        raise BadInput(f"step_s must be > 0, got {step_s}")
    if max_points < 1:
        raise BadInput(f"max_points must be >= 1, got {max_points}")
    if end_s < start_s:
        raise BadInput(f"collection end {end_s} is before its start {start_s}")
    points = max_points
    while points > 1 and abs(points * step_s - round(points * step_s)) > 1e-9:
        points -= 1
    total = int(np.floor((end_s - start_s) / step_s + 1e-9)) + 1
    chunks = []
    for first in range(0, total, points):
        last = min(first + points, total) - 1
        chunks.append((start_s + first * step_s, start_s + last * step_s))
    return chunks


def _is_transient(error: Exception) -> bool:
    if isinstance(error, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        return True
    return isinstance(error, PrometheusApiClientException) and str(error).startswith(TRANSIENT_STATUS)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def query_range(
    client: PrometheusConnect,
    query: str,
    start_s: float,
    end_s: float,
    step_s: float,
    attempts: int = 3,
    backoff_s: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> list[RawSeries]:
    """One ``query_range`` call, retried on transient errors; RunFailed names URL and query."""
    for attempt in range(1, attempts + 1):
        try:
            result = client.custom_query_range(query, _utc(start_s), _utc(end_s), step=f"{step_s:g}")
            return parse_result(result)
        except Exception as error:  # noqa: BLE001 - classified right below
            if attempt < attempts and _is_transient(error):
                sleep(backoff_s * 2 ** (attempt - 1))
                continue
            tried = f"after {attempt} attempts" if attempt > 1 else "on the first attempt"
            raise RunFailed(
                f"Prometheus at {client.url}: query_range {query!r} from {_utc(start_s).isoformat()} to "
                f"{_utc(end_s).isoformat()} step {step_s:g}s failed {tried}: {error}"
            ) from error
    raise AssertionError("unreachable: the loop returns or raises")


def parse_result(result: Sequence[dict[str, Any]]) -> list[RawSeries]:
    """Prometheus's matrix result (``[{"metric": {...}, "values": [[t, "v"], ...]}]``) as RawSeries."""
    out = []
    for item in result:
        values = item.get("values", [])
        arr = np.array(values, dtype=np.float64).reshape(-1, 2)  # numpy parses "NaN", "+Inf" too
        out.append(RawSeries(labels=dict(item.get("metric", {})), times_s=arr[:, 0], values=arr[:, 1]))
    return out


def merge_chunks(parts: Sequence[Sequence[RawSeries]]) -> list[RawSeries]:
    """Join the chunks of each series (identified by its label set), in time order."""
    joined: dict[frozenset[tuple[str, str]], list[RawSeries]] = {}
    for part in parts:
        for series in part:
            joined.setdefault(frozenset(series.labels.items()), []).append(series)
    out = []
    for pieces in joined.values():
        times = np.concatenate([p.times_s for p in pieces])
        values = np.concatenate([p.values for p in pieces])
        order = np.argsort(times, kind="stable")
        out.append(RawSeries(labels=pieces[0].labels, times_s=times[order], values=values[order]))
    return out


def fetch_queries(
    client: PrometheusConnect,
    queries: Sequence[str],
    start_s: float,
    end_s: float,
    step_s: float,
    max_points: int = MAX_POINTS_PER_QUERY,
    max_workers: int = 8,
    attempts: int = 3,
) -> dict[str, list[RawSeries]]:
    """Every query over ``[start_s, end_s]``, chunked and fetched concurrently."""
    unique = list(dict.fromkeys(queries))
    chunks = plan_chunks(start_s, end_s, step_s, max_points)
    parts: dict[str, list[list[RawSeries]]] = {q: [None] * len(chunks) for q in unique}  # type: ignore[list-item]
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        futures = {
            pool.submit(query_range, client, q, c0, c1, step_s, attempts): (q, i)
            for q in unique
            for i, (c0, c1) in enumerate(chunks)
        }
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in done:
            error = future.exception()
            if error is not None:
                raise error
        for future, (q, i) in futures.items():
            parts[q][i] = future.result()
    return {q: merge_chunks(p) for q, p in parts.items()}
