"""A short scenario end to end: the run folder is complete and re-usable without Docker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from faultlab.dataset import load_dataset
from faultlab.harness.datasets.labels import read_ground_truth
from faultlab.harness.runs.folder import read_manifest, sha256_file
from faultlab.harness.runs.runner import run_scenario

pytestmark = pytest.mark.integration

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "ci-smoke.yaml"


@pytest.fixture(scope="module")
def run(testbed, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return run_scenario(SCENARIO, keep_up=True, out=out)


def final_records(folder: Path) -> dict[str, dict]:
    """The last record of each fault (the journal has intent/applied/reverted lines)."""
    last: dict[str, dict] = {}
    for record in read_ground_truth(folder / "ground_truth.jsonl"):
        last[record["fault_id"]] = {**last.get(record["fault_id"], {}), **{k: v for k, v in record.items() if v is not None}}
    return last


def test_run_completes_with_every_file(run):
    assert run.complete, run.error
    folder = run.folder.path
    for name in ("scenario.yaml", "plan.yaml", "ground_truth.jsonl", "scores.json", "leaderboard.md",
                 "leaderboard.csv", "leaderboard.html", "manifest.json"):
        assert (folder / name).is_file(), name
    for name in ("metrics.parquet", "labels.parquet", "graph.json", "meta.json"):
        assert (folder / "dataset" / name).is_file(), name


def test_every_fault_applied_and_reverted(run):
    records = final_records(run.folder.path)
    assert sorted(records) == sorted(f["fault_id"] for f in _plan_faults(run.folder.path))
    for fault_id, rec in records.items():
        assert rec.get("applied_at"), f"{fault_id} never applied: {rec}"
        assert rec.get("reverted_at"), f"{fault_id} never reverted: {rec}"
        assert rec["outcome"] in ("reverted", "partial"), rec


def _plan_faults(folder: Path) -> list[dict]:
    import yaml

    return yaml.safe_load((folder / "plan.yaml").read_text())["faults"]


def test_labels_match_the_ground_truth(run):
    data = load_dataset(run.folder.path)
    labels = data.labels
    for fault_id, rec in final_records(run.folder.path).items():
        start, end = pd.Timestamp(rec["applied_at"]), pd.Timestamp(rec["reverted_at"])
        inside = (labels.index >= start) & (labels.index <= end)
        assert inside.any(), f"{fault_id}: no grid step inside its actual window"
        assert (labels.loc[inside, "fault_id"] == fault_id).all()
        assert (labels.loc[inside, "anomaly"] == 1).all()
        assert (labels.loc[inside, "root_cause"] == ",".join(rec["targets"])).all()
    anomalous_ids = set(labels.loc[labels["anomaly"] == 1, "fault_id"])
    assert anomalous_ids <= set(final_records(run.folder.path))
    # the training part really is fault-free
    assert data.train().y.sum() == 0 and len(data.train().metrics) > 5


def test_dataset_is_rescored_without_docker(run, tmp_path):
    """Re-score the recorded dataset in a process where the docker package cannot be imported."""
    code = (
        "import sys; sys.modules['docker'] = None\n"
        "from faultlab.harness.cli import main\n"
        f"sys.exit(main(['bench', '--dataset', {str(run.folder.path)!r}, '--detectors', 'zscore', '--out', {str(tmp_path)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "scores.json").is_file()


def test_manifest_is_complete_and_hashes_match(run):
    manifest = read_manifest(run.folder.path)
    assert manifest["complete"] is True
    assert manifest["image_ids"].get("runtime", "").startswith("sha256:")
    assert manifest["seeds"]["load"] == 0
    for rel, digest in manifest["files"].items():
        assert sha256_file(run.folder.path / rel) == digest, rel
    scores = json.loads((run.folder.path / "scores.json").read_text())
    assert scores, "scores.json is empty"
    load = manifest["host_load"]  # measured outside work, per phase, in the dataset's meta too
    assert set(load["phases"]) == {"training", "faults"}, load
    for phase in load["phases"].values():
        assert phase["intervals"] >= 3 and 0.0 <= phase["outside_cores"] <= phase["busy_cores"] <= load["cores"] + 0.1
    meta = json.loads((run.folder.path / "dataset" / "meta.json").read_text())
    assert meta["host_load"] == load
