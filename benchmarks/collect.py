"""Export speed: the chunked concurrent collector vs one query_range per series in a plain loop.

Builds a testbed-sized run by backfilling a real Prometheus (``promtool tsdb
create-blocks-from openmetrics``): 9 services with the container, HTTP, histogram and
dependency series of ``testbed/README.md``, plus locust and node-exporter series. Then, with the
same ``prometheus_api_client`` client:

* ``collector, N workers``: :func:`faultlab.harness.collect.collect_metrics` over every group (one query
  per catalogue entry, chunked, ``N`` threads), including the transform to a dataset frame;
* ``raw series, N workers``: the plain loop's series, one query per metric name, through the
  collector's chunked concurrent fetch (same points as the plain loop: the fair comparison);
* ``plain loop``: list every raw series (``/api/v1/series``) and issue one ``query_range`` per
  series, one after the other.

Points = samples returned by Prometheus. Run: ``python benchmarks/collect.py [--scrape-s 5 1]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faultlab.harness.collect import collect_metrics  # noqa: E402
from faultlab.harness.collect.fetch import fetch_queries, make_client  # noqa: E402
from tests.prom_fixtures import OpenMetrics, backfill, running_prometheus  # noqa: E402

T0_S = 1_735_689_600  # 2025-01-01T00:00:00Z
APP = {  # service -> (endpoints, dependencies), as in testbed/README.md
    "gateway": (6, ["catalog", "cart", "recommendation", "checkout"]),
    "catalog": (2, ["postgres"]),
    "cart": (3, ["redis"]),
    "recommendation": (1, ["catalog"]),
    "checkout": (1, ["cart", "payment", "shipping"]),
    "payment": (1, ["postgres"]),
    "shipping": (1, ["redis"]),
}
SERVICES = [*APP, "postgres", "redis"]
BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"]


def _counter(rng: np.random.Generator, n: int, mean_step: float) -> np.ndarray:
    values = np.cumsum(rng.exponential(mean_step, n))
    reset = int(rng.integers(n // 4, n))  # one container restart per series
    values[reset:] -= values[reset - 1]
    return np.maximum(values, 0.0)


def _gauge(rng: np.random.Generator, n: int, level: float) -> np.ndarray:
    return level * (1 + 0.1 * np.cumsum(rng.normal(0, 0.05, n)))


def build_run(duration_s: int, scrape_s: float, seed: int = 0) -> tuple[OpenMetrics, int]:
    """The backfill text and its number of series."""
    rng = np.random.default_rng(seed)
    n = int(duration_s / scrape_s) + 1
    t = T0_S + scrape_s * np.arange(n)
    om = OpenMetrics()
    count = 0

    def add(family: str, kind: str, sample: str, labels: dict[str, str], values: np.ndarray) -> None:
        nonlocal count
        om.add(family, kind, sample, labels, t, values)
        count += 1

    for svc in SERVICES:
        base = {"service": svc, "container": f"faultlab-{svc}-1"}
        add("container_cpu_usage_seconds", "counter", "container_cpu_usage_seconds_total", base, _counter(rng, n, 0.1 * scrape_s))
        for name, level in (("container_memory_usage_bytes", 2e8), ("container_memory_rss_bytes", 1e8),
                            ("container_processes", 4), ("container_spec_cpu_quota_cores", 1),
                            ("container_spec_memory_limit_bytes", 1e9)):
            add(name, "gauge", name, base, _gauge(rng, n, level))
        for direction in ("receive", "transmit"):
            for what in ("bytes", "packets", "dropped", "errors"):
                fam = f"container_network_{direction}_{what}"
                add(fam, "counter", f"{fam}_total", base, _counter(rng, n, 1e4 if what == "bytes" else 10))
        for op in ("read", "write"):
            add(f"container_fs_{op}_bytes", "counter", f"container_fs_{op}_bytes_total", base, _counter(rng, n, 1e4))
    for svc, (endpoints, deps) in APP.items():
        add("http_requests_in_flight", "gauge", "http_requests_in_flight", {"service": svc}, _gauge(rng, n, 3))
        for e in range(endpoints):
            ep = {"service": svc, "method": "GET", "endpoint": f"/e{e}"}
            for status, rate in (("200", 20.0), ("500", 0.5)):
                add("http_requests", "counter", "http_requests_total", {**ep, "status": status}, _counter(rng, n, rate))
            add("http_request_errors", "counter", "http_request_errors_total",
                {"service": svc, "endpoint": f"/e{e}"}, _counter(rng, n, 0.5))
            _histogram(add, rng, n, "http_request_duration_seconds", ep)
        for dep in deps:
            dl = {"service": svc, "dependency": dep}
            for status in ("ok", "error"):
                add("dependency_requests", "counter", "dependency_requests_total", {**dl, "status": status},
                    _counter(rng, n, 10.0 if status == "ok" else 0.2))
            _histogram(add, rng, n, "dependency_request_duration_seconds", dl)
    loc = {"job": "locust"}
    add("locust_users", "gauge", "locust_users", loc, _gauge(rng, n, 20))
    for name in ("locust_requests", "locust_failures"):
        add(name, "counter", f"{name}_total", loc, _counter(rng, n, 20.0))
    for q in ("0.5", "0.95", "0.99"):
        add("locust_response_time_seconds", "gauge", "locust_response_time_seconds", {**loc, "quantile": q},
            _gauge(rng, n, 0.1))
    for cpu in ("0", "1"):
        for mode in ("user", "system", "idle", "iowait", "irq", "softirq", "steal", "nice"):
            add("node_cpu_seconds", "counter", "node_cpu_seconds_total", {"cpu": cpu, "mode": mode},
                _counter(rng, n, 0.1 * scrape_s))
    for name, level in (("node_memory_MemTotal_bytes", 2.4e10), ("node_memory_MemAvailable_bytes", 1.6e10),
                        ("node_load1", 1.0)):
        add(name, "gauge", name, {}, _gauge(rng, n, level))
    for dev in ("lo", "eth0"):
        for direction in ("receive", "transmit"):
            fam = f"node_network_{direction}_bytes"
            add(fam, "counter", f"{fam}_total", {"device": dev}, _counter(rng, n, 1e4))
    for dev in ("vda", "vdb"):
        for fam in ("node_disk_read_bytes", "node_disk_written_bytes"):
            add(fam, "counter", f"{fam}_total", {"device": dev}, _counter(rng, n, 1e5))
    return om, count


def _histogram(add, rng: np.random.Generator, n: int, name: str, labels: dict[str, str]) -> None:
    counts = rng.exponential(20.0, n)
    total = np.cumsum(counts)
    shares = np.linspace(0.05, 1.0, len(BUCKETS))
    for le, share in zip(BUCKETS, shares):
        add(name, "histogram", f"{name}_bucket", {**labels, "le": le}, total * share)
    add(name, "histogram", f"{name}_sum", labels, total * 0.08)
    add(name, "histogram", f"{name}_count", labels, total)


def plain_loop(url: str, start_s: float, end_s: float, step_s: float) -> tuple[int, int]:
    """One query_range per raw series, sequentially: (queries, points)."""
    client = make_client(url)
    start, end = datetime.fromtimestamp(start_s, UTC), datetime.fromtimestamp(end_s, UTC)
    series = client.get_series(start, end, params={"match[]": '{__name__=~".+"}'})
    points = 0
    for labels in series:
        name = labels.pop("__name__")
        selector = name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
        for item in client.custom_query_range(selector, start, end, step=f"{step_s:g}"):
            points += len(item["values"])
    return len(series), points


def chunked_same_series(url: str, start_s: float, end_s: float, step_s: float, workers: int) -> tuple[int, int]:
    """The same raw series as the plain loop, one query per metric name, chunked and concurrent."""
    client = make_client(url)
    names = client.get_label_values("__name__")
    results = fetch_queries(client, [f'{{__name__="{name}"}}' for name in names], start_s, end_s, step_s,
                            max_workers=workers)
    return len(names), sum(len(s.values) for series in results.values() for s in series)


def measure(fn, repeats: int) -> tuple[float, tuple[int, int]]:
    """Median wall time of ``repeats`` calls, and the last call's (queries, points)."""
    times, result = [], (0, 0)
    for _ in range(repeats):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-min", type=float, default=30.0)
    parser.add_argument("--scrape-s", type=float, nargs="+", default=[5.0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rows = []
    for scrape_s in args.scrape_s:
        duration_s = int(args.duration_min * 60)
        built = time.perf_counter()
        om, n_series = build_run(duration_s, scrape_s)
        with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
            data = backfill(om.text(), Path(tmp) / "data")
            build_s = time.perf_counter() - built
            print(f"scrape {scrape_s:g}s: {n_series} series x {int(duration_s / scrape_s) + 1} points backfilled "
                  f"in {build_s:.1f}s", file=sys.stderr)
            with running_prometheus(data) as url:
                start_s, end_s = T0_S + scrape_s, T0_S + duration_s  # collector fetches one step before start
                for workers in args.workers:
                    def run_collector(w=workers, start_s=start_s, end_s=end_s, scrape_s=scrape_s):
                        got = collect_metrics(url, start_s, end_s, scrape_s, max_workers=w)
                        return len(got.queries), got.raw_points
                    wall, (queries, points) = measure(run_collector, args.repeats)
                    rows.append((scrape_s, f"collector, {workers} workers", queries, points, wall))
                    wall, (queries, points) = measure(
                        lambda w=workers, start_s=start_s, end_s=end_s, scrape_s=scrape_s: chunked_same_series(
                            url, start_s - scrape_s, end_s, scrape_s, w
                        ),
                        args.repeats,
                    )
                    rows.append((scrape_s, f"raw series, {workers} workers", queries, points, wall))
                wall, (queries, points) = measure(
                    lambda start_s=start_s, end_s=end_s, scrape_s=scrape_s: plain_loop(url, start_s - scrape_s, end_s, scrape_s),
                    args.repeats,
                )
                rows.append((scrape_s, "plain loop, 1 query/series", queries, points, wall))

    header = f"| {'scrape':>6} | {'method':<28} | {'queries':>7} | {'points':>9} | {'wall s':>7} | {'points/s':>10} |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for scrape_s, method, queries, points, wall in rows:
        print(f"| {scrape_s:>5g}s | {method:<28} | {queries:>7} | {points:>9} | {wall:>7.3f} | {points / wall:>10,.0f} |")


if __name__ == "__main__":
    main()
