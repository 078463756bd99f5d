"""A real ``faultlab run`` stopped by SIGTERM mid-fault loses nothing (issue: interruption safety).

The run is a separate process (as under a CI time-out, ``timeout`` or a systemd stop): the
active fault is reverted, what was run is collected and labelled (the interrupted fault's
applied part included), the manifest says ``complete: false`` with the reason, the exit
status is 1 with one line on stderr and no traceback, and no fault leftover remains.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faultlab.dataset import load_dataset
from faultlab.harness.datasets.labels import read_ground_truth

pytestmark = pytest.mark.integration

SCENARIO = """\
name: sigterm
testbed: {scrape_interval_s: 2, reuse: true}
load: {shape: constant, users: 5, seed: 0}
warmup_s: 10
train_s: 30
cooldown_s: 10
faults:
  - {type: cpu, target: cart, start_s: 0, duration_s: 90, params: {load_pct: 80, cores: 1}}
  - {type: memory_alloc, target: payment, start_s: 100, duration_s: 20, params: {size_mb: 100}}
evaluate:
  detectors: [{name: zscore, seeds: [0]}]
  metrics: [f1]
"""


def _wait_for_applied(out: Path, proc: subprocess.Popen, timeout_s: float) -> Path:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        assert proc.poll() is None, f"run ended early: {proc.communicate()}"
        for journal in out.glob("*/ground_truth.jsonl"):
            if any(json.loads(line).get("event") == "applied" for line in journal.read_text().splitlines() if line):
                return journal.parent
        time.sleep(1.0)
    proc.kill()
    raise AssertionError(f"no fault applied within {timeout_s} s: {proc.communicate()}")


def test_sigterm_mid_fault_reverts_collects_labels_and_exits_1(testbed, tmp_path):
    scenario = tmp_path / "sigterm.yaml"
    scenario.write_text(SCENARIO)
    out = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "faultlab.harness.cli", "run", str(scenario), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    folder = _wait_for_applied(out, proc, timeout_s=300)
    time.sleep(10)  # a few 2 s steps of the fault
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=300)

    assert proc.returncode == 1, (stdout, stderr)
    assert "Traceback" not in stderr, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("faultlab run: incomplete run") and "interrupted by SIGTERM" in last, stderr

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] is False and "SIGTERM" in manifest["error"]

    records = [r for r in read_ground_truth(folder / "ground_truth.jsonl") if r["fault_id"] == "f001-cpu"]
    final = records[-1]
    assert final["event"] == "reverted" and final["outcome"] != "failed", final
    assert final["applied_at"] and final["reverted_at"] and final["detail"]["interrupted"] is True
    assert not any(r["fault_id"] == "f002-memory_alloc" and r.get("applied_at") for r in read_ground_truth(folder / "ground_truth.jsonl"))

    data = load_dataset(folder)
    labelled = data.labels["fault_id"] == "f001-cpu"
    assert labelled.sum() >= 3 and (data.labels.loc[labelled, "anomaly"] == 1).all()

    # nothing of the fault is left in the target
    from faultlab.injectors.docker_ops import DockerOps

    ops = DockerOps()
    assert ops.helper_ids() == []
    code, text = ops.exec(ops.resolve("cart"), ["sh", "-c", "pgrep -x stress-ng || true"])
    assert text.strip() == "", f"stress-ng still runs in cart: {text}"
