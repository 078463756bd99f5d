"""The bench grid's cells: one task per (method x dataset x seed), and how their tables merge.

A task runs the public evaluation function (:func:`~faultlab.harness.evaluation.grid.run_evaluation`)
on one dataset, one method (detector, classifier or localizer) and one seed, with the floors off;
the floors are tasks of their own, with every seed any detector uses, as the serial grid adds
them. Merged in plan order (dataset, detectors then floors, seeds; classifiers; localizers), the
tasks' tables equal the serial evaluation's row for row. Every executor (the local worker
process, :mod:`.worker`; the Dask grid, :mod:`.distributed`) runs these tasks, and the bench
(:mod:`.bench`) keeps each finished one on disk under its :func:`task_key`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from faultlab.dataset import Dataset
from faultlab.harness.evaluation.table import Evaluation, MethodSpec

KINDS = ("detector", "classifier", "localizer")


@dataclass(frozen=True)
class Task:
    """One cell of the grid."""

    kind: str  # "detector", "classifier" or "localizer"
    spec: MethodSpec
    dataset: str
    seed: int
    first_seed: bool  # the serial grid keeps the score timeline of each method's first seed
    save_model: str | None = None  # bench --save-models: this detector, fitted, is saved to this folder

    @property
    def label(self) -> str:
        return f"{self.kind} {self.spec.label!r} on dataset {self.dataset!r} with seed {self.seed}"

    @property
    def short(self) -> str:
        return f"{self.spec.label} seed {self.seed} on {self.dataset}"


@dataclass(frozen=True)
class TaskOutcome:
    """What running one task gave: its evaluation, or why there is none."""

    task: Task
    evaluation: Evaluation | None
    elapsed_s: float
    error: str | None = None  # a failure (exception text) or a time-out
    timed_out: bool = False
    timeout_s: float | None = None  # the limit it ran under, when it timed out

    @property
    def status(self) -> str:
        return "timeout" if self.timed_out else "failed" if self.error else "done"


def plan_tasks(
    data: Sequence[Dataset],
    det_specs: Sequence[MethodSpec],
    clf_specs: Sequence[MethodSpec],
    loc_specs: Sequence[MethodSpec] = (),
    save_models: str | Path | None = None,
) -> list[Task]:
    """The grid's cells in the serial evaluation's order (per dataset: detectors, classifiers, localizers).

    ``save_models``: the first seed of each detector (floors aside) also saves its fitted model
    to ``<save_models>/<dataset>/<model>/`` (:func:`save_fitted`).
    """
    from faultlab.detectors.floors import FLOORS
    from faultlab.harness.live.models import model_dir_name

    tasks = []
    for dataset in data:
        for kind, specs in zip(KINDS, (det_specs, clf_specs, loc_specs)):
            for spec in specs:
                for i, seed in enumerate(spec.seeds):
                    save = (str(Path(save_models) / model_dir_name(dataset.name) / model_dir_name(spec.label))
                            if save_models is not None and kind == "detector" and i == 0 and spec.name not in FLOORS else None)
                    tasks.append(Task(kind, spec, dataset.name, int(seed), i == 0, save))
    return tasks


def task_key(task: Task, fingerprint: str, metrics: Sequence[str] | None, options: dict[str, Any]) -> str:
    """A stable name for a task's result: method, parameters, seed, dataset contents, metrics, options.

    ``--resume`` reuses a stored result only when all of these are the same, so a changed
    parameter, dataset or scoring option runs again instead of reporting a stale number.
    """
    doc = {
        "kind": task.kind, "name": task.spec.name, "params": dict(task.spec.params), "seed": task.seed,
        "dataset": task.dataset, "fingerprint": fingerprint, "metrics": sorted(metrics or []),
        "options": {k: repr(v) for k, v in sorted(options.items())},
    }
    digest = hashlib.sha1(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in task.spec.name)
    return f"{task.dataset}--{task.kind}--{safe}--s{task.seed}--{digest}"


def fingerprint(dataset: Dataset) -> str:
    """A short hash of a dataset's values, labels and column table (what scores depend on)."""
    h = hashlib.sha1()
    h.update(pd.util.hash_pandas_object(dataset.metrics, index=True).to_numpy().tobytes())
    h.update(pd.util.hash_pandas_object(dataset.labels.astype(str), index=True).to_numpy().tobytes())
    h.update(json.dumps(dataset.meta.get("columns", []), sort_keys=True, default=str).encode())
    h.update(str(dataset.meta.get("train_end")).encode())
    return h.hexdigest()[:16]


def run_task(dataset: Dataset, task: Task, metrics: Sequence[str] | None, options: dict[str, Any]) -> Evaluation:
    """The evaluation of one method, one seed, one dataset, floors off (runs in a worker)."""
    from faultlab.harness.evaluation.grid import run_evaluation

    one = [MethodSpec(task.spec.name, dict(task.spec.params), (task.seed,))]
    if task.kind == "localizer":
        return run_evaluation([dataset], [], [], None, metrics, floors=False, localizers=one, **options)
    detectors, classifiers = (one, []) if task.kind == "detector" else ([], one)
    evaluation = run_evaluation([dataset], detectors, classifiers, None, metrics, floors=False, **options)
    if task.save_model:
        save_fitted(dataset, task)
    return evaluation


def save_fitted(dataset: Dataset, task: Task) -> Path:
    """The task's detector fitted on ``dataset.train()`` and saved to ``task.save_model`` for
    ``faultlab watch`` (:mod:`faultlab.harness.live.models`). The evaluation fitted its own copy;
    fits are seeded, so this is the same model, at the cost of a second fit of the first seed."""
    from faultlab.detectors import make_detector
    from faultlab.harness.live.models import save_model

    assert task.save_model is not None
    detector = make_detector(task.spec.name, dict(task.spec.params), task.seed).fit(dataset.train())
    return save_model(detector, task.save_model, step_s=dataset.scrape_interval_s, label=task.spec.label,
                      dataset=dataset.name)


def merge(results: Sequence[Evaluation], keep_timelines: Sequence[bool], floors: bool | None = None) -> Evaluation:
    """One evaluation from the tasks': tables concatenated, the first seed's timelines kept, and
    per dataset the settings (alike in every task) with every task's series-policy notes.
    ``floors`` records whether the grid as a whole scored the floors (each task ran without)."""
    settings: dict[str, dict[str, Any]] = {}
    for result in results:
        for dataset, setting in result.settings.items():
            into = settings.setdefault(dataset, {})
            notes = {**into.get("alignment", {}), **setting.get("alignment", {})}
            into.update(setting)
            if notes:
                into["alignment"] = notes
    if floors is not None:
        for setting in settings.values():
            if "floors" in setting:
                setting["floors"] = floors
    tables = [r.table for r in results if not r.table.empty]
    return Evaluation(
        table=pd.concat(tables, ignore_index=True) if tables else results[0].table if results else pd.DataFrame(),
        timelines=[t for keep, r in zip(keep_timelines, results) if keep for t in r.timelines],
        settings=settings,
    )
