"""The bench's estimates: where each comes from, in which order, and that every finished task feeds them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.evaluation.bench import plan_bench, run_bench
from faultlab.harness.evaluation.costs import (
    Estimator,
    history_file,
    measured_costs,
    per_million_cells,
    read_records,
    write_costs,
)


def _record(model: str, dataset: str, seconds: float, cells: int | None = None, seed: int = 0, status: str = "done") -> dict:
    rec = {"model": model, "name": model.split("(")[0], "dataset": dataset, "seed": seed, "elapsed_s": seconds, "status": status}
    if cells is not None:
        rec["cells"] = cells
    return rec


def _write(path: Path, records: list[dict], torn: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + torn, encoding="utf-8")
    return path


def test_records_keep_finished_tasks_and_skip_torn_lines_and_failures(tmp_path):
    path = _write(tmp_path / "t.jsonl", [_record("zscore", "a", 2.0), _record("zscore", "a", 9.0, status="failed")],
                  torn='{"model": "zscore", "elapsed_')
    assert [r["elapsed_s"] for r in read_records([path, tmp_path / "missing.jsonl"])] == [2.0]


def test_estimates_prefer_the_same_run_then_scaled_history_then_measured_then_a_guess(tmp_path):
    history = _write(tmp_path / "t.jsonl", [
        _record("lstm_ae", "ladder", 40.0, cells=2_000_000),
        _record("lstm_ae", "ladder", 60.0, cells=2_000_000, seed=1),
        _record("attae", "ladder", 10.0, cells=1_000_000),
    ])
    est = Estimator([history], costs={"dcrnn": 30.0}, machine_history=False)
    assert (est.estimate("lstm_ae", "lstm_ae", "seed", "ladder", 0, 2_000_000).seconds, "last run") == (40.0, "last run")
    other_seed = est.estimate("lstm_ae", "lstm_ae", "seed", "ladder", 7, 2_000_000)
    assert (other_seed.seconds, other_seed.source) == (50.0, "last run")  # median over the dataset's seeds
    scaled = est.estimate("attae", "attae", "seed", "bench-mixed", 0, 3_000_000)
    assert (scaled.seconds, scaled.source) == (30.0, "last run, scaled")  # 10 s per million cells x 3
    measured = est.estimate("dcrnn(max_epochs=2)", "dcrnn", "seed", "ladder", 0, 2_000_000)
    assert (measured.seconds, measured.source) == (60.0, "measured")  # by name when the label is not measured
    assert est.estimate("gnn_lstm_vae", "gnn_lstm_vae", "seed", "ladder", 0, 300_000).source == "guess"


def test_a_dataset_shipped_again_at_another_size_scales_its_old_times(tmp_path):
    history = _write(tmp_path / "t.jsonl", [
        _record("dcrnn", "bench-mixed", 10.0, cells=1_000_000),  # the old, short recording
        _record("dcrnn", "bench-mixed", 30.0, cells=1_000_000, seed=1),
        _record("zscore", "bench-mixed", 2.0),  # of unknown size: taken as it is
    ])
    est = Estimator([history], costs={}, machine_history=False)
    grown = est.estimate("dcrnn", "dcrnn", "seed", "bench-mixed", 0, 4_000_000)
    assert (grown.seconds, grown.source) == (40.0, "last run, scaled")  # 10 s x 4
    other_seed = est.estimate("dcrnn", "dcrnn", "seed", "bench-mixed", 5, 4_000_000)
    assert (other_seed.seconds, other_seed.source) == (80.0, "last run, scaled")  # median of 40 and 120
    same = est.estimate("dcrnn", "dcrnn", "seed", "bench-mixed", 0, 1_000_000)
    assert (same.seconds, same.source) == (10.0, "last run")
    assert est.estimate("zscore", "zscore", "baseline", "bench-mixed", 0, 4_000_000).seconds == 2.0


def test_measured_costs_round_trip_and_use_the_known_size_of_old_records(tmp_path):
    records = [_record("zscore", "ladder", 3.0), _record("zscore", "ladder", 5.0, cells=1_000_000), _record("zscore", "toy", 1.0)]
    costs = per_million_cells(records, {"ladder": 2_000_000}.get)
    assert costs == {"zscore": pytest.approx(3.25)}  # median of 1.5 and 5.0; the toy's size is unknown
    write_costs(costs, tmp_path / "costs.json", note="test")
    assert measured_costs(tmp_path / "costs.json") == {"zscore": 3.25}


def test_a_bench_without_an_output_folder_still_records_its_times(tmp_path, monkeypatch):
    """``faultlab check`` keeps no output folder; its tasks must still inform the next plan."""
    monkeypatch.setenv("FAULTLAB_HOME", str(tmp_path / "home"))
    data = generate(seed=3, train_steps=120, faults_per_type=1, fault_steps=(10, 15), gap_steps=(10, 15))
    plan = plan_bench([data], ["zscore"], floors=False)
    assert plan.tasks[0].estimate.source in ("measured", "guess")  # nothing run here yet
    run_bench(plan, log=lambda line: None)
    (rec,) = read_records([history_file()])
    assert rec["model"] == "zscore" and rec["cells"] == data.metrics.shape[0] * data.metrics.shape[1]
    again = plan_bench([data], ["zscore"], floors=False)
    assert again.tasks[0].estimate.source == "last run"
    assert again.tasks[0].estimate.seconds == pytest.approx(rec["elapsed_s"])


def test_a_task_the_method_refused_keeps_its_reason_and_plans_nothing(tmp_path, monkeypatch):
    """A detector that refuses a dataset (too few fault-free steps) ends in milliseconds: that time
    is not its cost (tsbad:CNN's 0.009 s on a short recording once planned 0 s on bench-mixed)."""
    monkeypatch.setenv("FAULTLAB_HOME", str(tmp_path / "home"))
    data = generate(seed=3, train_steps=12, faults_per_type=1, fault_steps=(10, 15), gap_steps=(10, 15))
    run_bench(plan_bench([data], ["iforest", "static_threshold"], floors=False), log=lambda line: None)
    lines = {r["model"]: r for r in map(json.loads, history_file().read_text(encoding="utf-8").splitlines())}
    assert "has 12 fault-free step(s); it needs at least 20" in lines["iforest"]["not_applicable"]
    assert lines["static_threshold"]["not_applicable"] == ""  # needs 10: it ran
    assert [r["model"] for r in read_records([history_file()])] == ["static_threshold"]
