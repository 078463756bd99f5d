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


def test_the_worker_dies_with_its_parent(tmp_path):
    """A parent killed outright (a Dask worker under its nanny's SIGKILL) takes its task's child along."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (  # the parent starts a long training in its worker, then is killed mid-task
        "import threading, time\n"
        "from faultlab.harness.datasets.synthetic import generate\n"
        "from faultlab.harness.evaluation.table import as_specs\n"
        "from faultlab.harness.evaluation.tasks import plan_tasks\n"
        "from faultlab.harness.evaluation.worker import LocalExecutor\n"
        "data = generate(seed=1, train_steps=150, faults_per_type=1, fault_steps=(10, 20), gap_steps=(10, 20))\n"
        "tasks = plan_tasks([data], as_specs([{'name': 'lstm_ae', 'params': {'max_epochs': 2000, 'patience': 2000}}], [0]), [])\n"
        "e = LocalExecutor()\n"
        "threading.Thread(target=lambda: list(e.run(tasks, {data.name: data}, None, {})), daemon=True).start()\n"
        "while e._process is None: time.sleep(0.05)\n"
        "time.sleep(4)\n"
        "print(e._process.pid, flush=True); time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            return
        try:
            with open(f"/proc/{child_pid}/stat") as fh:  # a zombie waiting for init to reap it is gone too
                if fh.read().split()[2] == "Z":
                    return
        except FileNotFoundError:
            return
        time.sleep(0.1)
    os.kill(child_pid, signal.SIGKILL)
    raise AssertionError("the worker outlived its parent")
