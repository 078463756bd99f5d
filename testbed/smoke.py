"""Bring the stack up, run load for a while, print a health and metrics summary, take it down.

This is the quickstart until a scenario run replaces it, and the integration test's core.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
import urllib.request

from faultlab.testbed.lifecycle import APP_SERVICES, TestbedConfig, down, prometheus_targets_down, up


def prom_query(prometheus_url: str, query: str) -> list[dict]:
    """Instant query through Prometheus's HTTP API; returns the result vector."""
    url = f"{prometheus_url}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = json.load(resp)
    if body.get("status") != "success":
        raise RuntimeError(f"query {query!r} failed: {body}")
    return body["data"]["result"]


def by_service(result: list[dict]) -> dict[str, float]:
    return {r["metric"].get("service", "?"): float(r["value"][1]) for r in result}


def summary(config: TestbedConfig, window_s: int = 60) -> dict:
    """Per-service request rate, p99 latency, CPU and memory, plus load-generator figures."""
    url, w = config.prometheus_url, f"{window_s}s"
    return {
        "request_rate": by_service(prom_query(url, f"sum by (service) (rate(http_requests_total[{w}]))")),
        "p99_latency_s": by_service(
            prom_query(url, f"histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket[{w}])))")
        ),
        "cpu_cores": by_service(prom_query(url, f"sum by (service) (rate(container_cpu_usage_seconds_total[{w}]))")),
        # the working set, the dataset's memory_bytes
        "memory_mb": {k: v / 2**20 for k, v in by_service(
            prom_query(url, "sum by (service) (container_memory_working_set_bytes)")).items()},
        "locust_rps": sum(float(r["value"][1]) for r in prom_query(url, "locust_requests_per_second")),
        "targets_down": prometheus_targets_down(config),
    }


def print_summary(info: dict, out=sys.stdout) -> None:
    print(f"{'service':<20}{'req/s':>10}{'p99 ms':>10}{'cpu':>8}{'mem MB':>10}", file=out)
    services = sorted(set(info["cpu_cores"]) | set(info["request_rate"]))
    for s in services:
        rate = info["request_rate"].get(s, float("nan"))
        p99 = info["p99_latency_s"].get(s, float("nan")) * 1000
        print(f"{s:<20}{rate:>10.2f}{p99:>10.1f}{info['cpu_cores'].get(s, 0):>8.3f}{info['memory_mb'].get(s, 0):>10.1f}", file=out)
    print(f"locust: {info['locust_rps']:.1f} req/s; scrape targets down: {info['targets_down'] or 'none'}", file=out)


def run_smoke(config: TestbedConfig, load_s: float = 60.0, keep_up: bool = False) -> int:
    """Exit 0 when every app service served requests and every target was up."""
    try:
        up(config)
        print(f"testbed up; running load for {load_s:.0f} s", file=sys.stderr)
        time.sleep(load_s)
        info = summary(config, window_s=max(int(load_s), 2 * int(config.scrape_interval_s)))
        print_summary(info)
        idle = [s for s in APP_SERVICES if info["request_rate"].get(s, 0) <= 0]
        if idle or info["targets_down"]:
            print(f"unhealthy: services without requests {idle}, targets down {info['targets_down']}", file=sys.stderr)
            return 1
        return 0
    finally:
        if not keep_up:
            down(config)
