"""scripts/ship_dataset.py: a run recorded on a loaded host is refused unless allowed explicitly."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph, load_dataset
from faultlab.harness.datasets.labels import labels_from_ground_truth
from tests.repofiles import import_file


@pytest.fixture(scope="module")
def ship():
    return import_file("scripts/ship_dataset.py", "ship_dataset_script").ship


def recorded_run(folder: Path, warnings: list[str]) -> Path:
    index = pd.date_range("2026-12-01", periods=6, freq="1s", tz="UTC")
    metrics = pd.DataFrame({"cart:cpu_cores": [0.1] * 6, "prometheus:cpu_cores": [0.2] * 6}, index=index)
    host_load = {"cores": 2, "phases": {}, "warnings": warnings}
    Dataset(metrics=metrics, labels=labels_from_ground_truth([], index), graph=ServiceGraph([{"name": "cart"}], []),
            meta={"name": "run", "host_load": host_load}).save(folder / "dataset")
    for file in ("scenario.yaml", "plan.yaml", "ground_truth.jsonl"):
        (folder / file).write_text("")
    (folder / "manifest.json").write_text(json.dumps({"complete": True}))
    return folder


def test_a_run_on_a_loaded_host_is_refused_with_the_reason(ship, tmp_path):
    run = recorded_run(tmp_path / "run", ["during the faults phase work outside the testbed used 1.80 ..."])
    with pytest.raises(SystemExit, match="not shipped, during the faults phase .*--allow-loaded-host"):
        ship(run, "demo", out_root=tmp_path / "data")
    assert not (tmp_path / "data").exists()
    dest = ship(run, "demo", out_root=tmp_path / "data", allow_loaded_host=True)
    assert load_dataset(dest).meta["host_load"]["warnings"]


def test_a_quiet_run_ships_without_the_monitoring_stack(ship, tmp_path):
    dest = ship(recorded_run(tmp_path / "run", []), "demo", out_root=tmp_path / "data")
    shipped = load_dataset(dest)
    assert list(shipped.metrics.columns) == ["cart:cpu_cores"] and shipped.meta["name"] == "demo"
    assert sorted(p.name for p in (dest / "provenance").iterdir()) == [
        "ground_truth.jsonl", "manifest.json", "plan.yaml", "scenario.yaml"]
