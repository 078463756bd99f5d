"""The bench: a plan before anything runs, each finished task kept, resume, time-outs, Ctrl-C, parameters."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from faultlab.errors import BadInput, Interrupted
from faultlab.harness.cli import main
from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.evaluation import run_evaluation
from faultlab.harness.evaluation.bench import (
    TaskStore,
    makespan,
    parse_params,
    plan_bench,
    run_bench,
    select_methods,
)
from faultlab.harness.evaluation.costs import Estimator
from faultlab.harness.evaluation.tasks import TaskOutcome

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small():
    return generate(seed=2, train_steps=150, faults_per_type=1, fault_steps=(10, 20), gap_steps=(10, 20))


def test_groups_resolve_to_registered_families():
    seed = select_methods("detector", "seed")
    assert {"lstm_ae", "attae", "dcrnn", "gnn_lstm_vae"} <= set(seed) and "zscore" not in seed
    assert set(select_methods("classifier", "seed")) >= {"telesto", "gcn", "gin"}
    everything = select_methods("detector", "all")
    assert "always_alarm" not in everything and "random" not in everything and "zscore" in everything
    assert select_methods("detector", "baseline,lstm_ae")[-1] == "lstm_ae"
    assert select_methods("detector", "none") == [] and select_methods("detector", None) == select_methods("detector", "baseline")


def test_params_from_the_command_line_and_files_are_typed_and_validated(small, tmp_path):
    file = tmp_path / "p.yaml"
    file.write_text("zscore: {threshold: 3}\niforest: {n_estimators: 10}\n")
    params = parse_params(["zscore.threshold=5", "pyod:PCA.n_components=3", "telesto.hidden=[64]"], [file])
    assert params == {"zscore": {"threshold": 5}, "iforest": {"n_estimators": 10}, "pyod:PCA": {"n_components": 3},
                      "telesto": {"hidden": [64]}}
    with pytest.raises(BadInput, match="METHOD.KEY=VALUE"):
        parse_params(["zscore=5"])
    with pytest.raises(BadInput, match="threshhold"):  # a typo in a parameter name: before anything runs
        plan_bench([small], [{"name": "zscore", "params": {"threshhold": 4}}])
    code = main(["bench", "--dataset", "synthetic", "--detectors", "zscore", "--param", "lstm_ae.max_epochs=2", "--dry-run"])
    assert code == 2  # a parameter of a method that does not run is a typo, not ignored


def test_the_plan_lists_every_task_with_an_estimate_and_dry_run_writes_nothing(tmp_path, capsys):
    out = tmp_path / "b"
    code = main(["bench", "--dataset", "synthetic", "--detectors", "zscore,lstm_ae", "--classifiers", "none",
                 "--seeds", "0,1", "--out", str(out), "--dry-run"])
    err = capsys.readouterr().err
    assert code == 0 and not out.exists()
    assert "plan: 8 tasks (method x dataset x seed) on 1 dataset(s), 0 already done" in err
    assert "lstm_ae" in err and "always_alarm" in err and "seeds 0,1" in err
    assert "(guess)" in err or "(measured)" in err or "(last run)" in err


def test_the_wall_time_of_a_plan_on_workers_is_its_schedule_not_the_sum():
    assert makespan([10, 10, 10, 10], 1) == 40
    assert makespan([10, 10, 10, 10], 2) == 20
    assert makespan([30, 5, 5, 5, 5], 2) == 30  # one long task bounds the rest
    assert makespan([5, 5, 30], 2) == 35  # handed out in plan order: the long one starts late
    assert makespan([], 3) == 0


def test_a_plan_on_workers_with_a_time_out_caps_its_estimates(small, tmp_path, capsys):
    estimator = Estimator(costs={"zscore": 1e9, "static_threshold": 1e9}, machine_history=False)
    plan = plan_bench([small], ["zscore", "static_threshold"], (), (), [0, 1], floors=False,
                      estimator=estimator, workers=2, timeout_s=60)
    assert [p.estimate.seconds for p in plan.todo] == [60.0] * 4
    assert all(p.estimate.source == "measured, capped by the time-out" for p in plan.todo)
    assert (plan.serial_s, plan.estimate_s) == (240.0, 120.0)
    assert "estimated 2:00 for the rest on 2 workers (one after the other: 4:00)" in plan.render()


def test_a_bench_keeps_every_task_equals_the_serial_run_and_resumes(small, tmp_path, monkeypatch):
    monkeypatch.setenv("FAULTLAB_HOME", str(tmp_path / "home"))
    methods = ["zscore", {"name": "iforest", "params": {"n_estimators": 10}}]
    plan = plan_bench([small], methods, [{"name": "random_forest", "params": {"n_estimators": 10}}], (), [0, 1],
                      out=tmp_path / "b")
    result = run_bench(plan, log=lambda line: None)
    serial = run_evaluation([small], methods, [{"name": "random_forest", "params": {"n_estimators": 10}}], [0, 1])
    pd.testing.assert_frame_equal(result.evaluation.table, serial.table)
    assert result.finished == result.total == 10  # 2 detectors + 2 floors + 1 classifier, 2 seeds each
    index = [json.loads(line) for line in (tmp_path / "b" / "tasks.jsonl").read_text().splitlines()]
    assert len(index) == 10 and all(r["status"] == "done" and r["elapsed_s"] >= 0 for r in index)
    assert (tmp_path / "home" / "task_times.jsonl").exists()  # the machine's history for later estimates

    again = plan_bench([small], methods, [{"name": "random_forest", "params": {"n_estimators": 10}}], (), [0, 1],
                       out=tmp_path / "b", resume=True)
    assert not again.todo and again.estimate_s == 0
    resumed = run_bench(again, log=lambda line: None)
    pd.testing.assert_frame_equal(resumed.evaluation.table, serial.table)
    changed = plan_bench([small], [{"name": "zscore", "params": {"threshold": 4}}], (), (), [0], out=tmp_path / "b", resume=True)
    assert [p.task.spec.name for p in changed.todo] == ["zscore"]  # another configuration runs again


class _StopsAfterOne:
    """An executor whose second task is interrupted by a signal (what Ctrl-C does to the real one)."""

    closed = False

    def run(self, tasks, datasets, metrics, options):
        from faultlab.harness.evaluation.tasks import run_task

        first = tasks[0]
        yield TaskOutcome(first, run_task(datasets[first.dataset], first, metrics, options), 0.1)
        raise Interrupted("SIGINT")

    def close(self):
        self.closed = True


def test_an_interrupted_bench_keeps_what_finished(small, tmp_path):
    plan = plan_bench([small], ["zscore", "static_threshold"], (), (), [0], out=tmp_path / "b", floors=False)
    executor = _StopsAfterOne()
    result = run_bench(plan, executor, log=lambda line: None)
    assert result.interrupted == "SIGINT" and executor.closed
    assert result.finished == 1 and set(result.evaluation.table["model"]) == {"zscore"}
    assert TaskStore(tmp_path / "b").has(plan.tasks[0].key) and not TaskStore(tmp_path / "b").has(plan.tasks[1].key)


def test_a_task_over_its_time_out_is_n_a_with_the_reason(small, tmp_path):
    plan = plan_bench([small], [{"name": "lstm_ae", "params": {"max_epochs": 200}}, "zscore"], (), (), [0],
                      out=tmp_path / "b", floors=False)
    result = run_bench(plan, log=lambda line: None, timeout_s=2.0)
    table = result.evaluation.table
    slow = table[table["model"].str.startswith("lstm_ae")]
    assert not slow.empty and slow["value"].isna().all()
    assert slow["reason"].str.contains("task time-out of 2 s").all()
    assert table[table["model"] == "zscore"]["value"].notna().any()
    assert [o.status for o in result.outcomes] == ["timeout", "done"]


def test_resume_keeps_a_time_out_unless_the_time_out_grew(small, tmp_path):
    slow = {"name": "lstm_ae", "params": {"max_epochs": 200}}
    plan = plan_bench([small], [slow, "zscore"], (), (), [0], out=tmp_path / "b", floors=False, timeout_s=2.0)
    first = run_bench(plan, log=lambda line: None, timeout_s=2.0)
    assert [o.status for o in first.outcomes] == ["timeout", "done"]

    again = plan_bench([small], [slow, "zscore"], (), (), [0], out=tmp_path / "b", floors=False, timeout_s=2.0, resume=True)
    assert not again.todo and again.tasks[0].kept_timeout == "stopped after the task time-out of 2 s"
    kept = run_bench(again, log=lambda line: None, timeout_s=2.0)
    pd.testing.assert_frame_equal(kept.evaluation.table, first.evaluation.table)  # the n/a rows, with their reason
    assert not kept.outcomes  # nothing ran

    longer = plan_bench([small], [slow, "zscore"], (), (), [0], out=tmp_path / "b", floors=False, timeout_s=5.0, resume=True)
    assert [p.task.spec.name for p in longer.todo] == ["lstm_ae"]  # a longer limit tries it again
    unlimited = plan_bench([small], [slow, "zscore"], (), (), [0], out=tmp_path / "b", floors=False, resume=True)
    assert [p.task.spec.name for p in unlimited.todo] == ["lstm_ae"]


def test_ctrl_c_stops_the_cli_within_seconds_and_writes_the_board(tmp_path):
    out = tmp_path / "b"
    env = {**os.environ, "FAULTLAB_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "faultlab.harness.cli", "bench", "--dataset", "synthetic",
                             "--detectors", "zscore,lstm_ae", "--param", "lstm_ae.max_epochs=500", "--classifiers", "none",
                             "--no-floors", "--out", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "tasks.jsonl").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # lstm_ae is training in the worker now
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 10
    assert proc.returncode == 1
    assert "1 of 2 tasks finished and are on the board" in err and "--resume" in err
    assert (out / "leaderboard.md").exists() and "zscore" in (out / "leaderboard.md").read_text()
