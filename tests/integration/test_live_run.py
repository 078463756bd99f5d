"""A live run on the real testbed: zscore, fitted during the run, alarms on a CPU fault as it happens.

A short scenario (ci-smoke's shape, one CPU fault) runs through the runner with ``evaluate.live``;
the alarm must be in alerts.jsonl while the fault is on, the board must give its time to detect,
and the live process must be gone with its CPU group when the run ends.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from faultlab.harness.datasets.labels import read_ground_truth
from faultlab.harness.live.journal import read_alerts
from faultlab.harness.live.models import model_dir_name
from faultlab.harness.runs.runner import run_scenario

pytestmark = pytest.mark.integration

ZSCORE = {"name": "zscore", "params": {"threshold": 5, "margin": 2.0}, "seeds": [0]}  # as scenarios/live.yaml
LABEL = "zscore(margin=2.0, threshold=5)"
SCENARIO = {
    "name": "live-smoke",
    "description": "One CPU fault, scored live by zscore (as in scenarios/live.yaml).",
    "testbed": {"scrape_interval_s": 2},
    "load": {"shape": "constant", "users": 5, "seed": 0},
    "warmup_s": 20,
    "train_s": 90,
    "cooldown_s": 20,
    "faults": [{"type": "cpu", "target": "cart", "start_s": 60, "duration_s": 30, "params": {"load_pct": 90, "cores": 1}}],
    "evaluate": {"live": [ZSCORE], "detectors": [ZSCORE], "metrics": ["f1"]},
}


@pytest.fixture(scope="module")
def run(testbed, tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    scenario = folder / "live-smoke.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    return run_scenario(scenario, keep_up=True, out=folder / "runs")


def _fault(folder: Path) -> dict:
    folded: dict = {}
    for record in read_ground_truth(folder / "ground_truth.jsonl"):
        folded.update({k: v for k, v in record.items() if v is not None})
    return folded


def test_the_live_run_completes_and_its_process_is_gone(run):
    assert run.complete, run.error
    folder = run.folder.path
    manifest = json.loads((folder / "manifest.json").read_text())
    live = manifest["live"]
    assert live["exit_code"] == 0 and live["state"] == "stopped"
    assert manifest["host_load"]["live"]["cpu_s"] > 0
    status = json.loads((folder / "live" / "status.json").read_text())
    assert not Path(f"/proc/{status['pid']}").exists()
    if live["cpu_bound"]["cgroup"]:
        assert not Path(live["cpu_bound"]["cgroup"]).exists()
    assert (folder / "live" / "models" / model_dir_name(LABEL) / "model.json").is_file()


def test_zscore_alarms_on_the_cpu_fault_in_alerts_jsonl(run):
    folder = run.folder.path
    fault = _fault(folder)
    start, end = pd.Timestamp(fault["applied_at"]), pd.Timestamp(fault["reverted_at"])
    during = [a for a in read_alerts(folder / "alerts.jsonl") if start <= pd.Timestamp(a["time"]) <= end]
    assert during, "no live alarm while the CPU fault was on"
    assert all(a["detector"] == LABEL and a["score"] > a["threshold"] for a in during)
    named = [a for a in during if a["suspects"] and a["suspects"][0]["service"] == "cart"]
    assert named, f"no alarm during the CPU fault named cart first: {[a['suspects'][:1] for a in during]}"
    assert pd.Timestamp(named[0]["raised_at"]) < end  # raised while the fault was still on


def test_the_board_gives_the_time_to_detect(run):
    folder = run.folder.path
    report = json.loads((folder / "live" / "report.json").read_text())
    [cpu] = [r for r in report["per_type"] if r["fault_type"] == "cpu"]
    assert cpu["detected"] == 1 and cpu["missed"] == 0
    assert 0 <= cpu["ttd_median_s"] < 20
    [zscore] = report["detectors"]
    assert zscore["scoring_ms_median"] < 100
    board = (folder / "leaderboard.md").read_text()
    assert "## Live detection" in board and "time to detect" in board
