"""``faultlab watch`` against a plain Prometheus (not the testbed's): alarms as they happen, clean stops.

A tiny exporter serves two services' CPU counters and memory gauges; a Prometheus (the host's
``prometheus`` binary) scrapes it every second. A zscore model fitted on their normal levels is
saved, ``faultlab watch`` runs it with a queries file as ``faultlab collect --queries`` takes it,
the exporter's "api" service then burns 0.9 cores instead of 0.1, and the alarm must reach
alerts.jsonl naming api first. SIGTERM and Ctrl-C (SIGINT) must each end the watch with exit
status 0 and one line, the files closed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.detectors import make_detector
from faultlab.harness.live.models import save_model
from tests.prom_fixtures import DemoServices, MetricsServer, scraping_prometheus

pytestmark = pytest.mark.prometheus

QUERIES = """\
- {metric: cpu_cores, query: demo_cpu_seconds_total, kind: counter, group: cpu, unit: cores}
- {metric: memory_bytes, query: demo_memory_bytes, kind: gauge, group: memory, unit: bytes}
"""
NORMAL = {"api": 0.10, "db": 0.05}
MEMORY = {"api": 100e6, "db": 50e6}


def _model(folder: Path) -> Path:
    """zscore fitted on five minutes of the exporter's normal levels (with a little noise), at 1 s steps."""
    rng = np.random.default_rng(0)
    n = 300
    index = pd.date_range("2026-01-01", periods=n, freq="1s", tz="UTC", name="timestamp")
    columns, table = {}, []
    for service in NORMAL:
        columns[f"{service}:cpu_cores"] = NORMAL[service] * (1 + 0.05 * rng.normal(size=n))
        columns[f"{service}:memory_bytes"] = MEMORY[service] + 2e5 * np.sin(np.arange(n))
        table += [{"name": f"{service}:cpu_cores", "service": service, "metric": "cpu_cores", "group": "cpu",
                   "kind": "counter", "unit": "cores"},
                  {"name": f"{service}:memory_bytes", "service": service, "metric": "memory_bytes", "group": "memory",
                   "kind": "gauge", "unit": "bytes"}]
    labels = pd.DataFrame({"anomaly": np.zeros(n, dtype=np.int8), "fault_type": "", "root_cause": "", "fault_id": ""},
                          index=index)
    train = Dataset(metrics=pd.DataFrame(columns, index=index), labels=labels, graph=ServiceGraph([], []),
                    meta={"name": "demo", "scrape_interval_s": 1.0, "columns": table})
    detector = make_detector("zscore").fit(train)
    return save_model(detector, folder, step_s=1.0, label="zscore", dataset="demo")


def _lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _wait_for(predicate, timeout_s: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"watch exited early ({proc.returncode}): {proc.stderr.read()}")
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


@pytest.fixture
def demo_prometheus(tmp_path):
    demo = DemoServices()
    with MetricsServer(demo.text) as server, scraping_prometheus(tmp_path / "prom", [server.target]) as url:
        time.sleep(3.0)  # a few scrapes in
        yield demo, url


def _watch(tmp_path: Path, url: str) -> tuple[subprocess.Popen, Path, Path]:
    model = _model(tmp_path / "model")
    (tmp_path / "queries.yaml").write_text(QUERIES)
    alerts, scores = tmp_path / "alerts.jsonl", tmp_path / "scores.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "faultlab.harness.cli", "watch", "--prometheus", url, "--model", str(model),
         "--queries", str(tmp_path / "queries.yaml"), "--alerts", str(alerts), "--scores", str(scores), "--lag-s", "0.4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return proc, alerts, scores


def test_watch_alarms_on_a_cpu_burst_and_stops_on_sigterm(tmp_path, demo_prometheus):
    demo, url = demo_prometheus
    proc, alerts, scores = _watch(tmp_path, url)
    try:
        _wait_for(lambda: len(_lines(scores)) >= 3, 60, proc)
        flipped = time.time()
        with demo.lock:
            demo.rate["api"] = 0.9
        _wait_for(lambda: any(pd.Timestamp(a["time"]).timestamp() >= flipped - 1 for a in _lines(alerts)), 20, proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    stopped = [line for line in err.splitlines() if line.startswith("faultlab watch: stopped by SIGTERM")]
    assert len(stopped) == 1 and "Traceback" not in err, err
    alarm = next(a for a in _lines(alerts) if pd.Timestamp(a["time"]).timestamp() >= flipped - 1)
    assert alarm["detector"] == "zscore" and alarm["score"] > alarm["threshold"]
    assert alarm["suspects"][0]["service"] == "api"
    assert pd.Timestamp(alarm["raised_at"]).timestamp() - flipped < 6  # a few 1 s scrapes after the burst
    assert "ALARM zscore" in out and alarm["time"][:19] in out.replace("+00:00", "Z")
    scored = _lines(scores)
    assert all(b["time"] > a["time"] for a, b in zip(scored, scored[1:]))


def test_ctrl_c_stops_the_watch_cleanly(tmp_path, demo_prometheus):
    _, url = demo_prometheus
    proc, _, scores = _watch(tmp_path, url)
    try:
        _wait_for(lambda: len(_lines(scores)) >= 2, 60, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert [line for line in err.splitlines() if "stopped by" in line] == [
        next(line for line in err.splitlines() if line.startswith("faultlab watch: stopped by SIGINT"))]
