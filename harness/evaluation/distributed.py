"""The bench grid on Dask distributed: one task per (method x dataset x seed), tables merged.

TimeEval hands its algorithm x dataset grid to Dask rather than a home-made scheduler (STYLE.md);
so does ``faultlab bench --workers N`` (a local cluster of N single-threaded worker processes)
or ``--scheduler tcp://HOST:8786`` (an existing cluster). Serial stays the default.

Each task runs the public evaluation function (``run_evaluation``, or whatever ``bench`` would
call) on one dataset, one method (detector, classifier or localizer) and one seed, with the
floors off; the floors are tasks of their own, with every seed any detector uses, as the serial
grid adds them. The task results are
merged in the serial grid's order (dataset, detectors then floors, seeds; then classifiers), so
the merged table equals the serial one row for row. Progress is reported as tasks finish; a task
that fails is reported with its method, dataset and seed, and the others still report (the
failures are kept in :attr:`DaskGrid.failures`, and :meth:`DaskGrid.raise_failures` turns them
into one RunFailed after the reports are written).

Every worker needs the same Faultlab, Python packages and data paths as the client: datasets
are sent to the workers (``scatter``), methods are looked up by name there.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from faultlab.dataset import Dataset
from faultlab.errors import BadInput, RunFailed
from faultlab.harness.evaluation.grid import floor_specs
from faultlab.harness.evaluation.table import Evaluation, MethodSpec, as_specs

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Task:
    """One cell of the grid."""

    kind: str  # "detector", "classifier" or "localizer"
    spec: MethodSpec
    dataset: str
    seed: int
    first_seed: bool  # the serial grid keeps the score timeline of each method's first seed

    @property
    def label(self) -> str:
        return f"{self.kind} {self.spec.label!r} on dataset {self.dataset!r} with seed {self.seed}"


@dataclass(frozen=True)
class TaskFailure:
    task: Task
    error: str


def plan_tasks(
    data: Sequence[Dataset],
    det_specs: Sequence[MethodSpec],
    clf_specs: Sequence[MethodSpec],
    loc_specs: Sequence[MethodSpec] = (),
) -> list[Task]:
    """The grid's cells in the serial evaluation's order (per dataset: detectors, classifiers, localizers)."""
    tasks = []
    for dataset in data:
        for kind, specs in (("detector", det_specs), ("classifier", clf_specs), ("localizer", loc_specs)):
            for spec in specs:
                for i, seed in enumerate(spec.seeds):
                    tasks.append(Task(kind, spec, dataset.name, int(seed), i == 0))
    return tasks


def run_task(evaluate: Callable[..., Any], dataset: Dataset, task: Task, metrics: Sequence[str] | None, options: dict[str, Any]) -> Any:
    """Runs on a worker: the evaluation function on one dataset, one method, one seed, no floors."""
    one = [MethodSpec(task.spec.name, dict(task.spec.params), (task.seed,))]
    if task.kind == "localizer":
        return evaluate([dataset], [], [], None, metrics, floors=False, localizers=one, **options)
    detectors, classifiers = (one, []) if task.kind == "detector" else ([], one)
    return evaluate([dataset], detectors, classifiers, None, metrics, floors=False, **options)


def merge(results: Sequence[Evaluation], keep_timelines: Sequence[bool]) -> Evaluation:
    """One evaluation from the tasks': tables concatenated, the first seed's timelines kept, and
    per dataset the settings (alike in every task) with every task's series-policy notes."""
    settings: dict[str, dict[str, Any]] = {}
    for result in results:
        for dataset, setting in result.settings.items():
            into = settings.setdefault(dataset, {})
            notes = {**into.get("alignment", {}), **setting.get("alignment", {})}
            into.update(setting)
            if notes:
                into["alignment"] = notes
    return Evaluation(
        table=pd.concat([r.table for r in results], ignore_index=True),
        timelines=[t for keep, r in zip(keep_timelines, results) if keep for t in r.timelines],
        settings=settings,
    )


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class DaskGrid:
    """``evaluate``'s signature, run as a Dask grid (``workers`` local processes, or ``scheduler``)."""

    def __init__(
        self,
        evaluate: Callable[..., Any],
        *,
        workers: int | None = None,
        scheduler: str | None = None,
        progress: Progress | None = _stderr,
    ) -> None:
        if (workers is None) == (scheduler is None):
            raise BadInput("the Dask grid needs exactly one of --workers N or --scheduler ADDRESS")
        if workers is not None and workers < 1:
            raise BadInput(f"--workers must be >= 1, got {workers}")
        self.evaluate = evaluate
        self.workers = workers
        self.scheduler = scheduler
        self.progress = progress or (lambda line: None)
        self.failures: list[TaskFailure] = []

    def __call__(
        self,
        datasets: Dataset | Sequence[Dataset],
        detectors: Iterable[Any] | None = None,
        classifiers: Iterable[Any] | None = None,
        seeds: Sequence[int] | None = None,
        metrics: Sequence[str] | None = None,
        *,
        floors: bool = True,
        localizers: Iterable[Any] | None = None,
        **options: Any,
    ) -> Any:
        from faultlab.detectors import CLASSIFIERS, DETECTORS

        data = [datasets] if isinstance(datasets, Dataset) else list(datasets)
        if not data:
            raise BadInput("no dataset to evaluate on")
        det_specs, clf_specs, loc_specs = as_specs(detectors, seeds), as_specs(classifiers, seeds), as_specs(localizers, seeds)
        if not det_specs and not clf_specs and not loc_specs:
            raise BadInput("nothing to evaluate: give at least one detector or classifier")
        for spec in det_specs:
            DETECTORS.get(spec.name)
        for spec in clf_specs:
            CLASSIFIERS.get(spec.name)
        if floors and det_specs:
            det_specs += floor_specs(det_specs)
        if loc_specs:
            from faultlab.harness.evaluation.localizer_rows import localizer_specs

            localizer_specs(loc_specs)  # BadInput naming an unknown localizer before the cluster starts
        tasks = plan_tasks(data, det_specs, clf_specs, loc_specs)
        results = self._run(data, tasks, metrics, options)
        done = [i for i, r in enumerate(results) if r is not None]
        if not done:
            raise RunFailed(f"every one of the {len(tasks)} grid tasks failed; first: {self.failures[0].task.label}: {self.failures[0].error}")
        merged = merge([results[i] for i in done], [tasks[i].first_seed for i in done])
        for setting in merged.settings.values():
            if "floors" in setting:
                setting["floors"] = floors  # the tasks ran without floors; the grid as a whole has them
        return merged

    def _client(self) -> tuple[Any, Any]:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise BadInput("the Dask grid needs dask.distributed, which is not installed: pip install 'faultlab[dask]'") from None
        if self.scheduler is not None:
            try:
                return Client(self.scheduler, timeout="30s"), None
            except OSError as exc:
                raise RunFailed(f"cannot reach the Dask scheduler at {self.scheduler} ({exc})") from None
        cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster

    def _run(self, data: Sequence[Dataset], tasks: Sequence[Task], metrics: Sequence[str] | None, options: dict[str, Any]) -> list[Any]:
        from distributed import as_completed

        client, cluster = self._client()
        self.failures = []
        results: list[Any] = [None] * len(tasks)
        try:
            shared = {d.name: client.scatter(d, broadcast=False) for d in data}
            start = time.monotonic()
            futures = {
                client.submit(run_task, self.evaluate, shared[t.dataset], t, metrics, options, pure=False): i
                for i, t in enumerate(tasks)
            }
            for k, future in enumerate(as_completed(futures), start=1):
                i = futures[future]
                elapsed = time.monotonic() - start
                if future.status == "error":
                    exc = future.exception()
                    self.failures.append(TaskFailure(tasks[i], f"{type(exc).__name__}: {exc}"))
                    self.progress(f"[{k}/{len(tasks)} {elapsed:.1f} s] FAILED {tasks[i].label}: {type(exc).__name__}: {exc}")
                else:
                    results[i] = future.result()
                    self.progress(f"[{k}/{len(tasks)} {elapsed:.1f} s] done {tasks[i].label}")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return results

    def raise_failures(self) -> None:
        """RunFailed naming every failed task (call after the partial reports are written)."""
        if self.failures:
            listed = "; ".join(f"{f.task.label}: {f.error}" for f in self.failures)
            raise RunFailed(f"{len(self.failures)} grid task(s) failed: {listed}")
