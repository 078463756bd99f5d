"""The run's live process is stopped and cleaned up on every exit path, and never outlives the runner.

The child here waits for a training period that ends in an hour, so no Prometheus is needed: what
is tested is the process handling (start, status, SIGTERM, SIGKILL of the runner, CPU samples).
A fake cgroup root without a cpu controller gives the documented fallback (nice 19).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from faultlab.harness.live.process import LiveProcess
from faultlab.harness.live.session import SessionConfig

ROOT = Path(__file__).resolve().parents[2]


def _config(folder: Path) -> SessionConfig:
    now = time.time()
    return SessionConfig(folder=str(folder), prometheus_url="http://127.0.0.1:9", step_s=5.0, origin_s=now,
                         train_end_s=now + 3600, detectors=[{"name": "zscore", "params": {}, "seed": 0, "label": "zscore"}])


def _wait_for(predicate, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_sigterm_stops_the_live_process_and_leaves_its_status_and_usage(tmp_path):
    live = LiveProcess(_config(tmp_path), cgroup_root=tmp_path / "no-cgroups").start()
    try:
        _wait_for(lambda: live.status().get("state") == "waiting")
        assert live.running and live.bound.mode == "nice"
        assert os.getpriority(os.PRIO_PROCESS, live.pid) == 19
    finally:
        usage = live.stop({"all": (0.0, time.time() + 60)})
    assert not live.running and usage["exit_code"] == 0
    assert usage["state"] == "stopped" and usage["reason"] == "SIGTERM"
    assert usage["cpu_bound"]["mode"] == "nice" and usage["cpu_s"] > 0
    assert json.loads((tmp_path / "live" / "usage.json").read_text()) == usage
    assert live.stop() is usage  # idempotent
    config = json.loads((tmp_path / "live" / "config.json").read_text())
    assert config["parent_pid"] == os.getpid()


def test_the_live_process_runs_one_compute_thread(tmp_path):
    live = LiveProcess(_config(tmp_path), cgroup_root=tmp_path / "none").start()
    try:
        _wait_for(lambda: live.status().get("state") == "waiting")
        environ = Path(f"/proc/{live.pid}/environ").read_bytes().split(b"\0")
        assert b"OMP_NUM_THREADS=1" in environ
    finally:
        live.stop()


def test_stop_before_start_does_nothing(tmp_path):
    assert LiveProcess(_config(tmp_path)).stop() is None


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux only (PR_SET_PDEATHSIG)")
def test_a_sigkilled_runner_takes_its_live_process_with_it(tmp_path):
    runner = textwrap.dedent(f"""
        import os, signal, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from faultlab.harness.live.process import LiveProcess
        from tests.unit.test_live_process import _config
        live = LiveProcess(_config(Path({str(tmp_path)!r})), cgroup_root=Path({str(tmp_path / 'none')!r})).start()
        while live.status().get("state") != "waiting":
            time.sleep(0.1)
        print(live.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    child = int(done.stdout.split()[0])
    _wait_for(lambda: not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2],
              timeout_s=15)
    status = json.loads((tmp_path / "live" / "status.json").read_text())
    assert status["state"] == "stopped"


def test_cores_per_phase_come_from_the_cpu_samples(tmp_path):
    live = LiveProcess(_config(tmp_path))
    live.samples = [(100.0, 1.0), (110.0, 3.0), (120.0, 3.5), (130.0, 8.5)]
    assert live.cores({"a": (100.0, 120.0), "b": (120.0, 130.0), "none": (200.0, 300.0)}) == {"a": 0.125, "b": 0.5}


def test_a_detector_that_cannot_be_fitted_is_left_out_and_the_others_go_live(tmp_path):
    from faultlab.errors import RunFailed
    from faultlab.harness.datasets.synthetic import generate
    from faultlab.harness.live.session import Status, fit_detectors

    train = generate(train_steps=40, faults_per_type=1).train()
    status = Status(tmp_path / "status.json")
    specs = [{"name": "lstm_ae", "params": {"window": 500}, "seed": 0, "label": "lstm_ae(window=500)"},
             {"name": "zscore", "params": {}, "seed": 0, "label": "zscore"}]
    live = fit_detectors(specs, train, tmp_path / "models", 5.0, status)
    assert [d.label for d in live] == ["zscore"]
    fits = json.loads((tmp_path / "status.json").read_text())["fits"]
    assert "needs at least 500" in fits["lstm_ae(window=500)"]["error"] and (tmp_path / "models" / "zscore").is_dir()
    with pytest.raises(RunFailed, match="no live detector could be fitted"):
        fit_detectors(specs[:1], train, tmp_path / "models", 5.0, status)
