"""The bench grid on Dask distributed: tasks (:mod:`.tasks`) run on a cluster, as they finish.

TimeEval hands its algorithm x dataset grid to Dask rather than a home-made scheduler (STYLE.md);
so does ``faultlab bench --workers N`` (a local cluster of N single-threaded worker processes)
or ``--scheduler tcp://HOST:8786`` (an existing cluster). The default executor runs the tasks one
by one in a local worker process (:mod:`.worker`). Either way the bench (:mod:`.bench`) stores
each task as it finishes and merges them in plan order, so the table equals the serial one row
for row; a task that fails is reported with its method, dataset and seed, and the others go on.

Every worker needs the same Faultlab, Python packages and data paths as the client: datasets
are sent to the workers (``scatter``), methods are looked up by name there, and the files of a
user's own methods (registered from outside the package) are imported on every worker first
(:mod:`.dask_plugins`), as the local worker does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from faultlab.dataset import Dataset
from faultlab.errors import BadInput, RunFailed
from faultlab.harness.evaluation.tasks import Task, TaskOutcome, run_task
from faultlab.harness.evaluation.worker import LocalExecutor, user_modules


def _timed(dataset: Dataset, task: Task, metrics: Sequence[str] | None, options: dict[str, Any],
           timeout_s: float | None = None) -> TaskOutcome:
    """Runs on a worker: the task's outcome with its own wall time (not the queue's).

    With a time-out the task runs in a child of the worker (:class:`.worker.LocalExecutor`), which
    is killed when the time is up: a Dask task cannot be stopped from outside once it runs.
    """
    if timeout_s is None:
        start = time.monotonic()
        return TaskOutcome(task, run_task(dataset, task, metrics, options), time.monotonic() - start)
    try:
        (outcome,) = LocalExecutor(timeout_s).run([task], {task.dataset: dataset}, metrics, options)
    except AssertionError as exc:  # multiprocessing: "daemonic processes are not allowed to have children"
        raise RunFailed(f"--task-timeout needs Dask workers that may start processes ({exc}); start the "
                        "cluster's workers with the config distributed.worker.daemon = False") from None
    return outcome


class DaskExecutor:
    """Runs bench tasks on ``workers`` local processes or on the cluster at ``scheduler``."""

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None,
                 timeout_s: float | None = None) -> None:
        """``timeout_s``: stop one task after this long (n/a with the reason), as the local executor does."""
        if (workers is None) == (scheduler is None):
            raise BadInput("the Dask grid needs exactly one of --workers N or --scheduler ADDRESS")
        if workers is not None and workers < 1:
            raise BadInput(f"--workers must be >= 1, got {workers}")
        self.workers = workers
        self.scheduler = scheduler
        self.timeout_s = timeout_s
        self._client: Any = None
        self._cluster: Any = None

    def _connect(self) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise BadInput("the Dask grid needs dask.distributed, which is not installed: pip install 'faultlab[dask]'") from None
        if self.scheduler is not None:
            try:
                self._client = Client(self.scheduler, timeout="30s")
            except OSError as exc:
                raise RunFailed(f"cannot reach the Dask scheduler at {self.scheduler} ({exc})") from None
        else:
            import dask

            # non-daemonic workers: a task under --task-timeout runs in a child process of its worker
            with dask.config.set({"distributed.worker.daemon": False}):
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None)
            self._client = Client(self._cluster)
        modules = user_modules()
        if modules:
            from faultlab.harness.evaluation.dask_plugins import PLUGIN_NAME, UserModules

            self._client.register_plugin(UserModules(modules), name=PLUGIN_NAME)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def run(self, tasks: Sequence[Task], datasets: Mapping[str, Dataset], metrics: Sequence[str] | None,
            options: dict[str, Any]) -> Iterator[TaskOutcome]:
        """Every task's outcome, in the order they finish."""
        from distributed import as_completed

        self._connect()
        try:
            shared = {name: self._client.scatter(d, broadcast=False) for name, d in datasets.items()
                      if any(t.dataset == name for t in tasks)}
            submitted = time.monotonic()
            futures = {self._client.submit(_timed, shared[t.dataset], t, metrics, options, self.timeout_s, pure=False): t
                       for t in tasks}
            for future in as_completed(futures):
                task = futures[future]
                if future.status == "error":
                    exc = future.exception()
                    yield TaskOutcome(task, None, time.monotonic() - submitted, f"{type(exc).__name__}: {exc}")
                else:  # the worker's copy of the task, swapped back for the one the bench planned
                    yield replace(future.result(), task=task)
        finally:
            self.close()
