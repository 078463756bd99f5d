"""The run's live process end to end against a real Prometheus (no Docker): it waits for the end of
the training period, collects it, fits, saves the model, scores every scrape, alarms on a CPU burst
with the right suspect, and stops on SIGTERM leaving its status, usage and a board-ready report.

A tiny exporter serves two services under the testbed's own metric names, so the session uses the
testbed's catalogue exactly as a run does; a Prometheus (the host's binary) scrapes it every second.
"""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from faultlab.harness.live.files import LiveFiles
from faultlab.harness.live.journal import read_alerts, read_scores
from faultlab.harness.live.process import LiveProcess
from faultlab.harness.live.report import build_report
from faultlab.harness.live.session import SessionConfig
from faultlab.injectors.ground_truth import iso_ms
from tests.prom_fixtures import DemoServices, MetricsServer, scraping_prometheus

pytestmark = pytest.mark.prometheus
TRAIN_S = 26


def _wait(predicate, timeout_s: float, live: LiveProcess) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        assert live.running, f"the live process exited: {live.status()} {live.files.log.read_text()[-3000:]}"
        time.sleep(0.2)
    raise AssertionError(f"timed out; status {live.status()}")


def test_the_live_process_fits_after_training_and_alarms_on_a_burst(tmp_path):
    demo = DemoServices("container_cpu_usage_seconds_total", "container_memory_working_set_bytes")
    with MetricsServer(demo.text) as server, scraping_prometheus(tmp_path / "prom", [server.target]) as url:
        origin = float(int(time.time()))
        config = SessionConfig(
            folder=str(tmp_path / "run"), prometheus_url=url, step_s=1.0, origin_s=origin, train_end_s=origin + TRAIN_S,
            detectors=[{"name": "zscore", "params": {}, "seed": 0, "label": "zscore"}],
            groups=["cpu", "memory"], settle_s=2.0, lag_s=0.4,
        )
        live = LiveProcess(config, cgroup_root=tmp_path / "no-cgroups").start()
        try:
            _wait(lambda: live.status().get("state") == "live", TRAIN_S + 60, live)
            status = live.status()
            assert status["train_steps"] >= TRAIN_S - 2 and status["fits"]["zscore"]["fit_s"] >= 0
            time.sleep(3)
            applied = time.time()
            with demo.lock:
                demo.rate["api"] = 0.9
            _wait(lambda: any(pd.Timestamp(a["time"]).timestamp() >= applied - 1 for a in read_alerts(live.files.alerts)),
                  20, live)
            time.sleep(2)
            with demo.lock:
                demo.rate["api"] = 0.1
            reverted = time.time()
            time.sleep(4)
        finally:
            usage = live.stop({"training": (origin, origin + TRAIN_S), "faults": (origin + TRAIN_S, time.time())})
    assert usage["exit_code"] == 0 and usage["state"] == "stopped" and usage["reason"] == "SIGTERM"
    files = LiveFiles(tmp_path / "run")
    assert (files.models / "zscore" / "model.json").is_file() and (files.models / "zscore" / "stream.json").is_file()
    scores = read_scores(files.scores)
    assert scores["time"].is_monotonic_increasing and scores["scoring_ms"].median() < 100
    alarm = next(a for a in read_alerts(files.alerts) if pd.Timestamp(a["time"]).timestamp() >= applied - 1)
    assert alarm["suspects"][0]["service"] == "api"
    # the journal of the burst, as a run's injector writes it: the board times the alarm from its onset
    record = {"event": "reverted", "fault_id": "f001-cpu", "type": "cpu", "targets": ["api"], "params": {},
              "mechanism": "test", "applied_at": iso_ms(applied), "reverted_at": iso_ms(reverted),
              "effect_onset": iso_ms(applied), "effect_offset": iso_ms(reverted), "outcome": "reverted"}
    (tmp_path / "run" / "ground_truth.jsonl").write_text(json.dumps(record) + "\n")
    report = build_report(tmp_path / "run")
    [row] = report.per_type
    assert row["detected"] == 1 and 0 < row["ttd_median_s"] < 5
    assert report.detectors[0]["ac1_first_alarm"] == 1.0
