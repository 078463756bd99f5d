"""A real Prometheus on backfilled data, for collection tests and benchmarks.

``promtool tsdb create-blocks-from openmetrics`` turns an OpenMetrics file with timestamps into
TSDB blocks; a ``prometheus`` process started on that data folder serves them. Blocks are
"in range" for Prometheus's time retention relative to the newest block, so old fixed
timestamps work; retention is still set very long so nothing is deleted while a test runs.

Use :func:`running_prometheus` directly, or the session fixture :func:`known_prometheus`
(import it into a test module, or list this module in ``pytest_plugins``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

# 2025-01-01T00:00:00Z: a fixed, whole-hour start so expected values never depend on the clock.
KNOWN_T0_S = 1_735_689_600
KNOWN_STEP_S = 5
KNOWN_POINTS = 121  # 10 minutes at 5 s, both ends included
#: A short lookback makes a 100 s gap in a series visible to queries (Prometheus's default is 5m).
KNOWN_LOOKBACK_S = 12


@dataclass
class OpenMetrics:
    """Builds an OpenMetrics text with explicit timestamps, one family at a time."""

    families: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    def add(
        self,
        family: str,
        kind: str,
        sample: str,
        labels: dict[str, str],
        times_s: Sequence[float] | np.ndarray,
        values: Sequence[float] | np.ndarray,
    ) -> None:
        """Append one series (``sample{labels}``) to ``family`` of type ``kind``."""
        entry = self.families.setdefault(family, (kind, []))
        if entry[0] != kind:
            raise ValueError(f"family {family} is {entry[0]}, not {kind}")
        label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        head = f"{sample}{{{label_text}}}" if label_text else sample
        entry[1].extend(f"{head} {float(v)!r} {float(t)!r}" for t, v in zip(times_s, values) if not np.isnan(v))

    def text(self) -> str:
        out = []
        for family, (kind, lines) in self.families.items():
            out.append(f"# TYPE {family} {kind}")
            out.extend(lines)
        out.append("# EOF")
        return "\n".join(out) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_binaries() -> None:
    missing = [b for b in ("prometheus", "promtool") if shutil.which(b) is None]
    if missing:
        raise RuntimeError(f"{missing} not on PATH: install Debian's 'prometheus' package (.ci/run does)")


def backfill(openmetrics_text: str, data_dir: Path) -> Path:
    """Write the text and turn it into TSDB blocks under ``data_dir``."""
    require_binaries()
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir.parent / f"{data_dir.name}.om"
    source.write_text(openmetrics_text)
    done = subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"promtool backfill of {source} failed: {done.stderr.strip()[-2000:]}")
    return data_dir


@contextmanager
def running_prometheus(data_dir: Path, lookback_s: float | None = None, ready_timeout_s: float = 60.0) -> Iterator[str]:
    """A Prometheus serving ``data_dir`` on a free loopback port; yields its URL, always stops it."""
    require_binaries()
    config = data_dir.parent / f"{data_dir.name}-prometheus.yml"
    config.write_text("global:\n  scrape_interval: 5s\n")  # no scrape jobs: only the backfill
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        "prometheus",
        f"--storage.tsdb.path={data_dir}",
        "--storage.tsdb.retention.time=100y",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--config.file={config}",
    ]
    if lookback_s is not None:
        args.append(f"--query.lookback-delta={lookback_s:g}s")
    log = (data_dir.parent / f"{data_dir.name}-prometheus.log").open("w")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, proc, ready_timeout_s, Path(log.name))
        yield url
    finally:
        _stop(proc)
        log.close()


def _wait_ready(url: str, proc: subprocess.Popen, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"prometheus at {url} not ready after {timeout_s}s: {log.read_text()[-2000:]}")


# ---- the known run: every expected value below is worked out by hand --------------------------


def _counter(per_step: float, reset_at: int | None = None, n: int = KNOWN_POINTS) -> np.ndarray:
    """Counter values growing ``per_step`` each scrape; at ``reset_at`` it restarts from 0."""
    k = np.arange(n, dtype=np.float64)
    values = per_step * k
    if reset_at is not None:
        values[reset_at:] = per_step * (k[reset_at:] - (reset_at - 1))
    return values


def known_run() -> OpenMetrics:
    """The backfilled series of the integration test (see the expectations there)."""
    n, t = KNOWN_POINTS, KNOWN_T0_S + KNOWN_STEP_S * np.arange(KNOWN_POINTS, dtype=np.float64)
    om = OpenMetrics()
    cpu = ("container_cpu_usage_seconds", "counter", "container_cpu_usage_seconds_total")
    # cart: two replicas, 0.1 cores (resets at step 60) + 0.2 cores = 0.3 cores.
    om.add(*cpu, {"service": "cart", "container": "cart-1"}, t, _counter(0.5, reset_at=60))
    om.add(*cpu, {"service": "cart", "container": "cart-2"}, t, _counter(1.0))
    # gateway: 0.05 cores up to step 80, then 0.5 cores.
    k = np.arange(n, dtype=np.float64)
    om.add(*cpu, {"service": "gateway", "container": "gw-1"}, t, np.where(k <= 80, 0.25 * k, 20 + 2.5 * (k - 80)))
    om.add(*cpu, {"service": "postgres", "container": "pg-1"}, t, _counter(0.1))
    mem = ("container_memory_working_set_bytes", "gauge", "container_memory_working_set_bytes")  # memory_bytes
    om.add(*mem, {"service": "cart", "container": "cart-1"}, t, np.full(n, 100e6))
    om.add(*mem, {"service": "cart", "container": "cart-2"}, t, np.full(n, 50e6))
    # gateway: 200 MB, no samples at steps 40..59, then 300 MB.
    gw_mem = np.where(k < 60, 200e6, 300e6)
    gw_mem[40:60] = np.nan
    om.add(*mem, {"service": "gateway", "container": "gw-1"}, t, gw_mem)
    om.add("container_network_receive_bytes", "counter", "container_network_receive_bytes_total",
           {"service": "gateway", "container": "gw-1"}, t, _counter(5000.0))
    om.add("container_network_transmit_bytes", "counter", "container_network_transmit_bytes_total",
           {"service": "gateway", "container": "gw-1"}, t, _counter(10000.0))

    req = ("http_requests", "counter", "http_requests_total")
    om.add(*req, {"service": "gateway", "method": "GET", "endpoint": "/a", "status": "200"}, t, _counter(10.0))
    om.add(*req, {"service": "gateway", "method": "GET", "endpoint": "/b", "status": "200"}, t, _counter(7.5))
    om.add(*req, {"service": "gateway", "method": "GET", "endpoint": "/b", "status": "500"}, t, _counter(2.5))
    om.add(*req, {"service": "cart", "method": "GET", "endpoint": "/cart", "status": "200"}, t, _counter(5.0))
    om.add("http_request_errors", "counter", "http_request_errors_total",
           {"service": "gateway", "endpoint": "/b"}, t, _counter(2.5))
    om.add("http_requests_in_flight", "gauge", "http_requests_in_flight", {"service": "gateway"}, t, np.full(n, 3.0))
    hist = "http_request_duration_seconds"
    labels = {"service": "gateway", "method": "GET", "endpoint": "/a"}
    for le, per_step in (("0.1", 10.0), ("0.5", 18.0), ("1.0", 20.0), ("+Inf", 20.0)):
        om.add(hist, "histogram", f"{hist}_bucket", {**labels, "le": le}, t, _counter(per_step))
    om.add(hist, "histogram", f"{hist}_sum", labels, t, _counter(4.0))
    om.add(hist, "histogram", f"{hist}_count", labels, t, _counter(20.0))
    dep = ("dependency_requests", "counter", "dependency_requests_total")
    om.add(*dep, {"service": "gateway", "dependency": "cart", "status": "ok"}, t, _counter(5.0))
    om.add(*dep, {"service": "gateway", "dependency": "catalog", "status": "ok"}, t, _counter(10.0))
    om.add(*dep, {"service": "gateway", "dependency": "catalog", "status": "error"}, t, _counter(5.0))
    dep_hist = "dependency_request_duration_seconds"
    dep_labels = {"service": "gateway", "dependency": "cart"}
    om.add(dep_hist, "histogram", f"{dep_hist}_bucket", {**dep_labels, "le": "+Inf"}, t, _counter(5.0))
    om.add(dep_hist, "histogram", f"{dep_hist}_sum", dep_labels, t, _counter(0.5))
    om.add(dep_hist, "histogram", f"{dep_hist}_count", dep_labels, t, _counter(5.0))

    om.add("locust_users", "gauge", "locust_users", {"job": "locust"}, t, np.full(n, 10.0))
    om.add("locust_requests", "counter", "locust_requests_total", {"job": "locust"}, t, _counter(20.0))
    om.add("locust_response_time_seconds", "gauge", "locust_response_time_seconds",
           {"job": "locust", "quantile": "0.95"}, t, np.full(n, 0.3))

    node_cpu = ("node_cpu_seconds", "counter", "node_cpu_seconds_total")
    for cpu_id, mode, per_step in (("0", "user", 1.5), ("0", "idle", 3.5), ("1", "system", 0.5), ("1", "idle", 4.5)):
        om.add(*node_cpu, {"cpu": cpu_id, "mode": mode}, t, _counter(per_step))
    om.add("node_memory_MemTotal_bytes", "gauge", "node_memory_MemTotal_bytes", {}, t, np.full(n, 8e9))
    om.add("node_memory_MemAvailable_bytes", "gauge", "node_memory_MemAvailable_bytes", {}, t, np.full(n, 6e9))
    rx = ("node_network_receive_bytes", "counter", "node_network_receive_bytes_total")
    om.add(*rx, {"device": "lo"}, t, _counter(5e6))
    om.add(*rx, {"device": "eth0"}, t, _counter(1500.0))
    return om


@dataclass(frozen=True)
class KnownPrometheus:
    url: str
    start_s: int
    end_s: int
    step_s: int


@pytest.fixture(scope="session")
def known_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnownPrometheus]:
    """One Prometheus per session serving :func:`known_run`; stopped at the end whatever happens."""
    data = backfill(known_run().text(), tmp_path_factory.mktemp("prom-known") / "data")
    with running_prometheus(data, lookback_s=KNOWN_LOOKBACK_S) as url:
        yield KnownPrometheus(
            url=url,
            start_s=KNOWN_T0_S,
            end_s=KNOWN_T0_S + KNOWN_STEP_S * (KNOWN_POINTS - 1),
            step_s=KNOWN_STEP_S,
        )


# ---- a Prometheus that scrapes live data (faultlab watch) ---------------------------------------


class MetricsServer:
    """A tiny exporter on a free loopback port: serves ``text()`` (Prometheus text format) at /metrics."""

    def __init__(self, text) -> None:
        import http.server
        import threading

        self.text = text
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = server.text().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.port = free_port()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> MetricsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def scraping_prometheus(data_dir: Path, targets: Sequence[str], scrape_interval_s: float = 1.0,
                        ready_timeout_s: float = 60.0) -> Iterator[str]:
    """A Prometheus on a free loopback port scraping ``targets`` every ``scrape_interval_s``; yields its URL."""
    require_binaries()
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir.parent / f"{data_dir.name}-scrape.yml"
    listed = ", ".join(f"'{t}'" for t in targets)
    config.write_text(f"global:\n  scrape_interval: {scrape_interval_s:g}s\n  evaluation_interval: {scrape_interval_s:g}s\n"
                      f"scrape_configs:\n  - job_name: live\n    static_configs:\n      - targets: [{listed}]\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data_dir.parent / f"{data_dir.name}-scrape.log").open("w")
    proc = subprocess.Popen(
        ["prometheus", f"--storage.tsdb.path={data_dir}", f"--web.listen-address=127.0.0.1:{port}",
         f"--config.file={config}"], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, proc, ready_timeout_s, Path(log.name))
        _wait_scraped(url, len(targets), ready_timeout_s, Path(log.name))
        yield url
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    """Terminate a Prometheus started here; kill it when it does not exit within 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


def _wait_scraped(url: str, targets: int, timeout_s: float, log: Path) -> None:
    """Until every target has been scraped once (Prometheus hands new targets over every 5 s)."""
    import json

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v1/query?query=up", timeout=2) as reply:
                result = json.loads(reply.read())["data"]["result"]
            if sum(float(r["value"][1]) == 1.0 for r in result) >= targets:
                return
        except (OSError, KeyError, ValueError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"prometheus at {url} scraped no target within {timeout_s}s: {log.read_text()[-2000:]}")


class DemoServices:
    """Two services' CPU counters and memory gauges, served live; ``rate`` can be changed while scraped.

    ``cpu_metric`` / ``memory_metric`` name the families (the testbed's own names, or any).
    """

    def __init__(self, cpu_metric: str = "demo_cpu_seconds_total", memory_metric: str = "demo_memory_bytes",
                 rates: dict[str, float] | None = None, memory: dict[str, float] | None = None) -> None:
        import threading

        self.cpu_metric, self.memory_metric = cpu_metric, memory_metric
        self.rate = dict(rates or {"api": 0.10, "db": 0.05})
        self.memory = dict(memory or {"api": 100e6, "db": 50e6})
        self.cpu = {s: 0.0 for s in self.rate}
        self.last = time.time()
        self.lock = threading.Lock()

    def text(self) -> str:
        import math

        with self.lock:
            now = time.time()
            for service in self.cpu:
                self.cpu[service] += self.rate[service] * (now - self.last)
            self.last = now
            lines = [f"# TYPE {self.cpu_metric} counter"]
            lines += [f'{self.cpu_metric}{{service="{s}"}} {v!r}' for s, v in self.cpu.items()]
            lines += [f"# TYPE {self.memory_metric} gauge"]
            lines += [f'{self.memory_metric}{{service="{s}"}} {m + 2e5 * math.sin(now):.0f}' for s, m in self.memory.items()]
            return "\n".join(lines) + "\n"
