"""The bench on Dask: the same table as the serial run, a failing task named, the others kept."""

from __future__ import annotations

import distributed  # noqa: F401  the dask extra, which scripts/setup.sh installs: missing is a broken set-up, not a skip
import pandas as pd
import pytest

from faultlab.detectors import DETECTORS as REGISTRY
from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.datasets.index import resolve_dataset
from faultlab.harness.datasets.synthetic import SyntheticSpec, generate
from faultlab.harness.evaluation import run_evaluation
from faultlab.harness.evaluation.bench import plan_bench, run_bench
from faultlab.harness.evaluation.distributed import DaskExecutor
from faultlab.harness.evaluation.table import WALL_CLOCK_METRICS, as_specs
from faultlab.harness.evaluation.tasks import plan_tasks
from tests.repofiles import import_file

DETECTORS = ["zscore", {"name": "iforest", "params": {"n_estimators": 20}}]
CLASSIFIERS = [{"name": "random_forest", "params": {"n_estimators": 20}}]


@pytest.fixture(scope="module")
def scheduler():
    import dask
    from distributed import LocalCluster

    # as `--workers N` starts it: workers that may start a process for a task under a time-out
    with dask.config.set({"distributed.worker.daemon": False}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_the_grid_equals_the_serial_run_on_synthetic(scheduler, tmp_path):
    data = resolve_dataset("synthetic")
    serial = run_evaluation([data], DETECTORS, CLASSIFIERS, [0, 1])
    lines: list[str] = []
    plan = plan_bench([data], DETECTORS, CLASSIFIERS, (), [0, 1], out=tmp_path / "b")
    result = run_bench(plan, DaskExecutor(scheduler=scheduler), log=lines.append)
    pd.testing.assert_frame_equal(result.evaluation.table, serial.table)
    assert result.evaluation.settings == serial.settings
    assert [(t.model, t.seed) for t in result.evaluation.timelines] == [(t.model, t.seed) for t in serial.timelines]
    # 2 detectors + 2 floors + 1 classifier, 2 seeds each; one progress line per finished task
    assert len(lines) == 10 and lines[-1].startswith("[10/10] ") and not result.failures
    assert any("detector 'always_alarm' on dataset 'synthetic' with seed 1" in line for line in lines)


def test_a_failing_task_is_named_and_the_others_report(scheduler):
    small = generate(seed=1, train_steps=150, faults_per_type=1, fault_steps=(10, 20), gap_steps=(10, 20))
    lines: list[str] = []
    # scikit-learn's ValueError is not bad input the evaluation turns into n/a rows: the task fails
    bad = {"name": "pyod:PCA", "params": {"n_components": 5000}}
    plan = plan_bench([small], ["zscore", bad], (), (), [0, 3], floors=False)
    result = run_bench(plan, DaskExecutor(scheduler=scheduler), log=lines.append)
    table = result.evaluation.table
    assert table[table["model"] == "zscore"]["value"].notna().any()
    failed_rows = table[table["model"] == "pyod:PCA(n_components=5000)"]
    assert failed_rows["value"].isna().all() and failed_rows["reason"].str.contains("ValueError").all()
    assert sorted(o.task.seed for o in result.failures) == [0, 3]
    failed = [line for line in lines if "FAILED" in line]
    assert len(failed) == 2 and all(f"pyod:PCA(n_components=5000)' on dataset '{small.name}'" in line for line in failed)


def test_cli_bench_on_a_cluster_writes_the_reports(scheduler, tmp_path, capsys):
    code = main(["bench", "--dataset", "synthetic", "--detectors", "zscore", "--classifiers", "none", "--no-floors",
                 "--scheduler", scheduler, "--out", str(tmp_path / "ok")])
    assert code == 0 and (tmp_path / "ok" / "scores.json").exists()
    assert "done detector 'zscore' on dataset 'synthetic' with seed 0" in capsys.readouterr().err


def test_a_task_over_its_time_out_on_the_grid_is_n_a_with_the_reason(scheduler):
    """--task-timeout with --workers: once ignored on the grid, so one slow method held a worker for hours."""
    small = generate(seed=1, train_steps=150, faults_per_type=1, fault_steps=(10, 20), gap_steps=(10, 20))
    plan = plan_bench([small], [{"name": "lstm_ae", "params": {"max_epochs": 500}}, "zscore"], (), (), [0], floors=False)
    result = run_bench(plan, DaskExecutor(scheduler=scheduler, timeout_s=3.0), log=lambda line: None)
    table = result.evaluation.table
    slow = table[table["model"].str.startswith("lstm_ae")]
    assert not slow.empty and slow["value"].isna().all()
    assert slow["reason"].str.contains("task time-out of 3 s").all()
    assert table[table["model"] == "zscore"]["value"].notna().any()
    assert sorted(o.status for o in result.outcomes) == ["done", "timeout"]


def test_a_users_own_detector_runs_on_the_workers(scheduler):
    """The workers are fresh interpreters: they import the file the user's detector registered from."""
    if "template_graph_ae" not in REGISTRY:
        import_file("docs/detector_template.py", "faultlab_detector_template")
    data = generate(SyntheticSpec(name="template-data", train_steps=400, faults_per_type=2, seed=3))
    spec = {"name": "template_graph_ae", "params": {"window": 6, "hidden": 6, "max_epochs": 2, "device": "cpu"}}
    plan = plan_bench([data], [spec], (), (), [0], floors=False)
    result = run_bench(plan, DaskExecutor(scheduler=scheduler), log=lambda line: None)
    table = result.evaluation.table
    vus = table[table["metric"] == "vus_pr"]
    assert not result.failures and len(vus) > 0, table[["model", "reason"]].drop_duplicates()
    assert vus["value"].notna().all(), vus["reason"].unique()


def test_localizers_are_tasks_too(scheduler):
    small = generate(seed=4, train_steps=150, faults_per_type=1, fault_steps=(10, 20), gap_steps=(10, 20))
    serial = run_evaluation([small], ["zscore"], [], [0, 1], floors=False, localizers=["zscore", "random"])
    plan = plan_bench([small], ["zscore"], (), ["zscore", "random"], [0, 1], floors=False)
    parallel = run_bench(plan, DaskExecutor(scheduler=scheduler), log=lambda line: None).evaluation

    def repeatable(table: pd.DataFrame) -> pd.DataFrame:  # wall-clock times differ from run to run
        return table[~table["metric"].isin(WALL_CLOCK_METRICS)].reset_index(drop=True)

    pd.testing.assert_frame_equal(repeatable(parallel.table), repeatable(serial.table))
    assert parallel.table["metric"].isin(WALL_CLOCK_METRICS).sum() == serial.table["metric"].isin(WALL_CLOCK_METRICS).sum() > 0
    assert (serial.table["kind"] != "detector").any()  # the localizers did add rows


def test_task_order_follows_the_serial_grid():
    data = [generate(seed=1, train_steps=60, faults_per_type=1, fault_steps=(5, 6), gap_steps=(5, 6), name=n) for n in ("a", "b")]
    tasks = plan_tasks(data, as_specs(["zscore", "iforest"], [0, 1]), as_specs(["random_forest"], [2]))
    assert [(t.dataset, t.kind[0], t.spec.name, t.seed, t.first_seed) for t in tasks[:5]] == [
        ("a", "d", "zscore", 0, True), ("a", "d", "zscore", 1, False), ("a", "d", "iforest", 0, True),
        ("a", "d", "iforest", 1, False), ("a", "c", "random_forest", 2, True)]
    assert tasks[5].dataset == "b" and len(tasks) == 10


def test_bad_grid_options_are_bad_input():
    with pytest.raises(BadInput, match="exactly one of --workers N or --scheduler ADDRESS"):
        DaskExecutor()
    with pytest.raises(BadInput, match="--workers must be >= 1, got 0"):
        DaskExecutor(workers=0)


def test_merging_tasks_keeps_every_detectors_series_policy_note():
    from faultlab.harness.evaluation.table import Evaluation
    from faultlab.harness.evaluation.tasks import merge

    base = {"test_steps": 10, "floors": False}
    a = Evaluation(pd.DataFrame({"x": [1]}), settings={"d": {**base, "alignment": {"zscore": {"missing": 2}}}})
    b = Evaluation(pd.DataFrame({"x": [2]}), settings={"d": {**base, "alignment": {"lstm_ae": {"new": 1}}}})
    c = Evaluation(pd.DataFrame({"x": [3]}), settings={"d": dict(base)})  # a floor's task: no note
    merged = merge([a, b, c], [True, True, True])
    assert merged.table["x"].tolist() == [1, 2, 3]
    assert merged.settings["d"]["alignment"] == {"zscore": {"missing": 2}, "lstm_ae": {"new": 1}}
    assert merged.settings["d"]["test_steps"] == 10
