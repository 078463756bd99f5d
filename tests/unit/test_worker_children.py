"""The bench's worker process may start processes of its own (RCAEval's RUN, TSB-AD's KShapeAD do)."""

from __future__ import annotations

import pytest

from faultlab.detectors import DETECTORS
from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.evaluation.bench import plan_bench, run_bench
from faultlab.harness.evaluation.worker import LocalExecutor
from tests.repofiles import import_file


@pytest.fixture
def pool_detector():
    import_file("tests/unit/pool_detector.py", "faultlab_test_pool_detector")
    yield "test_uses_a_pool"
    DETECTORS._items.pop("test_uses_a_pool", None)  # leave the registry as the other tests expect it


def test_a_method_that_starts_a_pool_runs_in_the_worker(pool_detector):
    """Once a daemon, the worker refused ("daemonic processes are not allowed to have children")."""
    data = generate(seed=2, train_steps=60, faults_per_type=1, fault_steps=(8, 10), gap_steps=(8, 10))
    result = run_bench(plan_bench([data], [pool_detector], floors=False), log=lambda line: None)
    assert not result.failures, [o.error for o in result.failures]
    table = result.evaluation.table
    assert table[table["metric"] == "vus_pr"]["value"].notna().all(), table["reason"].unique()


def test_the_worker_is_gone_once_the_executor_closes():
    executor = LocalExecutor()
    executor._start()
    process = executor._process
    assert process.is_alive() and not process.daemon
    executor.close()
    assert not process.is_alive()
