"""scripts/ship_dataset.py: a run recorded on a loaded host is refused unless allowed explicitly;
a shipped recording keeps its run's data minus the monitoring stack, and its labels come from its
journal by the one labelling path (``relabel_dataset``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph, load_dataset
from faultlab.harness.datasets.labels import labels_from_ground_truth
from tests.repofiles import import_file

T0 = pd.Timestamp("2026-12-01T00:00:00Z")


def at(seconds: float) -> str:
    return (T0 + pd.Timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: one killed container: applied at 10 s, reverted at 20 s, back at baseline at 30 s
JOURNAL = [
    {"event": "applied", "fault_id": "f1", "type": "kill", "targets": ["cart"], "outcome": "applied", "applied_at": at(10.0)},
    {"event": "reverted", "fault_id": "f1", "type": "kill", "targets": ["cart"], "outcome": "reverted",
     "applied_at": at(10.0), "reverted_at": at(20.0), "detail": {"returned_to_baseline_at": at(30.0)}},
]


@pytest.fixture(scope="module")
def ship():
    return import_file("scripts/ship_dataset.py", "ship_dataset_script").ship


def recorded_run(folder: Path, warnings: list[str], journal: list[dict] | None = None,
                 labels: pd.DataFrame | None = None) -> Path:
    """A run folder as ``faultlab run`` leaves it; ``labels`` (default: from ``journal``) stand in for
    labels the run made under older rules."""
    index = pd.date_range(T0, periods=12, freq="5s")
    metrics = pd.DataFrame({"cart:cpu_cores": [0.1] * 12, "prometheus:cpu_cores": [0.2] * 12}, index=index)
    host_load = {"cores": 2, "phases": {}, "warnings": warnings}
    graph = ServiceGraph([{"name": "cart"}, {"name": "redis"}], [])
    labels = labels_from_ground_truth(journal or [], index) if labels is None else labels
    Dataset(metrics=metrics, labels=labels, graph=graph, meta={"name": "run", "host_load": host_load}).save(folder / "dataset")
    for file in ("scenario.yaml", "plan.yaml"):
        (folder / file).write_text("")
    (folder / "ground_truth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in journal or []))
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
    assert shipped.meta["candidates"] == ["cart"], "the graph's nodes that have series (redis has none)"


def test_labels_are_the_journals_under_todays_rules_recovering_included(ship, tmp_path):
    fresh = labels_from_ground_truth(JOURNAL, pd.date_range(T0, periods=12, freq="5s"))
    stale = fresh.assign(anomaly=0, fault_type="", root_cause="", fault_id="", recovering=0)  # as older rules left them
    dest = ship(recorded_run(tmp_path / "run", [], JOURNAL, labels=stale), "demo", out_root=tmp_path / "data")
    shipped = load_dataset(dest).labels
    pd.testing.assert_frame_equal(shipped, fresh, check_freq=False)
    assert shipped["anomaly"].tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert shipped["recovering"].sum() > 0 and set(shipped.loc[shipped.anomaly == 1, "root_cause"]) == {"cart"}


def test_shipping_goes_through_relabel_dataset(ship, tmp_path, monkeypatch):
    seen = []
    monkeypatch.setitem(ship.__globals__, "relabel_dataset", lambda path, **kw: seen.append((Path(path), kw)))
    dest = ship(recorded_run(tmp_path / "run", [], JOURNAL), "demo", out_root=tmp_path / "data")
    assert seen == [(dest, {"strict": False})]


def test_a_live_run_keeps_what_its_live_board_is_built_from(ship, tmp_path):
    run = recorded_run(tmp_path / "run", [], JOURNAL)
    (run / "alerts.jsonl").write_text('{"detector": "zscore"}\n')
    (run / "live" / "models" / "zscore").mkdir(parents=True)
    (run / "live" / "models" / "zscore" / "model.json").write_text("{}")
    for file in ("scores.jsonl", "status.json", "report.json"):
        (run / "live" / file).write_text("{}\n")
    dest = ship(run, "demo", out_root=tmp_path / "data")
    kept = sorted(str(p.relative_to(dest / "provenance")) for p in (dest / "provenance").rglob("*") if p.is_file())
    assert kept == ["alerts.jsonl", "ground_truth.jsonl", "live/report.json", "live/scores.jsonl", "live/status.json",
                    "manifest.json", "plan.yaml", "scenario.yaml"], "the saved models stay out"
