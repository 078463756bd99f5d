"""``faultlab bench`` and ``faultlab check`` underneath: plan, estimate, run task by task, keep each.

A bench is a grid of tasks (:mod:`.tasks`: one method x dataset x seed). Before anything runs,
:func:`plan_bench` resolves the method names (groups such as ``seed`` or ``pyod``), checks every
name and parameter (BadInput before any training), estimates each task (:mod:`.costs`) and, with
``resume``, finds the tasks an earlier run of the same output folder already finished.
:func:`run_bench` then runs the rest through an executor (:class:`~.worker.LocalExecutor`, or the
Dask grid) and writes every finished task to ``<out>/tasks/`` at once, so Ctrl-C, a time-out or a
crash loses only the task in progress. The merged evaluation is in plan order and equals the
serial :func:`~.grid.run_evaluation` of the same methods row for row.
"""

from __future__ import annotations

import heapq
import json
import math
import pickle
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faultlab.dataset import Dataset
from faultlab.errors import BadInput, Interrupted
from faultlab.harness.evaluation.costs import Estimate, Estimator, append_history
from faultlab.harness.evaluation.grid import floor_specs, unanswerable_rows
from faultlab.harness.evaluation.table import Evaluation, MethodSpec, as_specs, tidy
from faultlab.harness.evaluation.tasks import KINDS, Task, TaskOutcome, fingerprint, merge, plan_tasks, task_key
from faultlab.harness.scoring import select_metrics

Log = Callable[[str], None]
#: ``--detectors`` / ``--classifiers`` / ``--localizers`` groups besides ``all`` and plain names
GROUPS = ("baseline", "seed", "pyod", "tsbad", "rcaeval")
TASKS_DIR = "tasks"
INDEX_FILE = "tasks.jsonl"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# ---- which methods ---------------------------------------------------------------------------
def family_of(kind: str, name: str) -> str:
    """A method's family (``baseline``, ``seed``, ``pyod``, ``tsbad``, ``rcaeval``, ``floor``)."""
    if kind == "localizer":
        from faultlab.detectors.localizers import localizer_class

        cls = localizer_class(name)
    else:
        from faultlab.detectors import CLASSIFIERS, DETECTORS

        cls = (DETECTORS if kind == "detector" else CLASSIFIERS).get(name)
    if name.startswith("rcaeval:"):
        return "rcaeval"
    return str(getattr(cls, "family", "baseline"))


def registered(kind: str) -> list[str]:
    if kind == "localizer":
        from faultlab.detectors.localizers import localizer_classes

        return list(localizer_classes())
    from faultlab.detectors import CLASSIFIERS, DETECTORS

    return (DETECTORS if kind == "detector" else CLASSIFIERS).names()


def select_methods(kind: str, choice: str | Sequence[str] | None, default: str = "baseline") -> list[str]:
    """Names for ``--detectors`` etc.: ``all``, a group (:data:`GROUPS`), names, or a mix (``seed,zscore``).

    The floors are never listed here (the evaluation adds them); ``none`` or empty gives none.
    """
    if choice is None:
        choice = default
    items = [c.strip() for c in choice.split(",")] if isinstance(choice, str) else [str(c) for c in choice]
    items = [c for c in items if c and c.lower() != "none"]
    known = registered(kind)
    out: list[str] = []
    for item in items:
        if item == "all":
            found = [n for n in known if family_of(kind, n) != "floor"]
        elif item in GROUPS:
            found = [n for n in known if family_of(kind, n) == item]
        else:
            found = [item]  # a name: checked with its parameters in plan_bench
        out += [n for n in found if n not in out]
    return out


def parse_params(items: Sequence[str] = (), files: Sequence[str | Path] = ()) -> dict[str, dict[str, Any]]:
    """``--params FILE`` (``{method: {key: value}}``) then ``--param METHOD.KEY=VALUE`` (wins), values as YAML.

    ``pyod:PCA.n_components=3`` splits at the last dot before ``=``; ``telesto.hidden=[64]`` is a list.
    """
    import yaml

    from faultlab.documents import read_document

    out: dict[str, dict[str, Any]] = {}
    for path in files:
        doc = read_document(Path(path), f"--params {path}")
        if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
            raise BadInput(f"--params {path}: expected a mapping of method name -> {{parameter: value}}")
        for method, params in doc.items():
            out.setdefault(str(method), {}).update({str(k): v for k, v in params.items()})
    for item in items:
        target, sep, text = item.partition("=")
        method, dot, key = target.rpartition(".")
        if not sep or not dot or not method or not key:
            raise BadInput(f"--param {item!r}: expected METHOD.KEY=VALUE (e.g. zscore.threshold=4)")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as exc:
            raise BadInput(f"--param {item!r}: the value is not valid YAML ({exc.__class__.__name__})") from None
        out.setdefault(method, {})[key] = value
    return out


def with_params(specs: Sequence[MethodSpec], params: Mapping[str, Mapping[str, Any]]) -> list[MethodSpec]:
    """``specs`` with the named methods' parameters updated."""
    return [MethodSpec(s.name, {**dict(s.params), **dict(params.get(s.name, {}))}, s.seeds) for s in specs]


# ---- the plan -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedTask:
    task: Task
    key: str
    estimate: Estimate
    done: bool = False  # found finished in the output folder (``resume``)
    cells: int = 0  # the dataset's steps x series: what measured costs scale with
    kept_timeout: str = ""  # resumed: an earlier run's time-out reason, kept as the task's n/a rows


@dataclass
class BenchPlan:
    """Everything a bench will do, resolved and checked, before anything runs."""

    datasets: dict[str, Dataset]
    tasks: list[PlannedTask]
    metrics: list[str] | None
    options: dict[str, Any]
    floors: bool
    out: Path | None
    workers: int = 1  # tasks running at once (``--workers N``): the wall time is their schedule's length

    @property
    def todo(self) -> list[PlannedTask]:
        return [p for p in self.tasks if not p.done]

    @property
    def serial_s(self) -> float:
        """The unfinished tasks' estimates, one after the other."""
        return sum(p.estimate.seconds for p in self.todo)

    @property
    def estimate_s(self) -> float:
        """The expected wall time: the unfinished tasks handed in plan order to ``workers`` workers."""
        return makespan([p.estimate.seconds for p in self.todo], self.workers)

    def render(self) -> str:
        """The plan as a user reads it before a long bench: per method its tasks and their time."""
        rows: dict[tuple[str, str, str], list[PlannedTask]] = {}
        for p in self.tasks:
            rows.setdefault((p.task.dataset, p.task.kind, p.task.spec.label), []).append(p)
        spread = f" on {self.workers} workers (one after the other: {clock(self.serial_s)})" if self.workers > 1 else ""
        lines = [f"plan: {len(self.tasks)} tasks (method x dataset x seed) on {len(self.datasets)} dataset(s), "
                 f"{len(self.tasks) - len(self.todo)} already done, estimated {clock(self.estimate_s)} for the rest"
                 + spread]
        for (dataset, kind, label), group in rows.items():
            todo = [p for p in group if not p.done]
            seconds = sum(p.estimate.seconds for p in todo)
            seeds = ",".join(str(p.task.seed) for p in group)
            when = f"~{clock(seconds)} ({', '.join(sorted({p.estimate.source for p in todo}))})" if todo else "done"
            lines.append(f"  {dataset:<20} {kind:<10} {label:<40} seeds {seeds:<8} {when}")
        return "\n".join(lines)


def makespan(seconds: Sequence[float], workers: int = 1) -> float:
    """How long tasks take when each, in this order, goes to the first worker that is free.

    That is how the Dask grid hands out the bench's tasks (submitted in plan order, one thread per
    worker); with one worker it is the plain sum.
    """
    if workers <= 1:
        return float(sum(seconds))
    free = [0.0] * workers
    for s in seconds:
        heapq.heappush(free, heapq.heappop(free) + s)
    return max(free)


def clock(seconds: float) -> str:
    """``1:02:03`` / ``2:03`` / ``4 s``."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def plan_bench(
    datasets: Sequence[Dataset],
    detectors: Iterable[Any] = (),
    classifiers: Iterable[Any] = (),
    localizers: Iterable[Any] = (),
    seeds: Sequence[int] | None = None,
    metrics: Sequence[str] | None = None,
    *,
    floors: bool = True,
    options: Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    estimator: Estimator | None = None,
    save_models: str | Path | None = None,
    workers: int = 1,
    timeout_s: float | None = None,
) -> BenchPlan:
    """Resolve and check every method (BadInput before anything runs), estimate, find finished tasks.

    ``save_models``: a folder where each detector's first seed saves its fitted model (a finished
    task whose model is not there yet runs again under ``resume``). ``workers``: how many tasks run
    at once (the plan's wall time). ``timeout_s``: the task time-out, which caps every estimate."""
    from faultlab.detectors import make_classifier, make_detector
    from faultlab.harness.evaluation.classifier_rows import split_augment
    from faultlab.harness.evaluation.localizer_rows import localizer_specs

    data = list(datasets)
    if not data:
        raise BadInput("no dataset to evaluate on")
    names = [d.name for d in data]
    if len(set(names)) != len(names):
        raise BadInput(f"two datasets share the name {sorted({n for n in names if names.count(n) > 1})[0]!r}")
    det, clf, loc = as_specs(detectors, seeds), as_specs(classifiers, seeds), as_specs(localizers, seeds)
    if not (det or clf or loc):
        raise BadInput("nothing to evaluate: give at least one detector, classifier or localizer")
    options = dict(options or {})
    for spec in det:
        make_detector(spec.name, spec.params, spec.seeds[0])
    for spec in clf:
        make_classifier(spec.name, spec.params if options.get("protocol") else split_augment(spec.params)[0], spec.seeds[0])
    localizer_specs(loc)
    metric_names = [m.name for m in select_metrics(metrics)] if metrics else None
    if floors and det:
        det += floor_specs(det)
    out_path = Path(out) if out is not None else None
    store = TaskStore(out_path) if out_path is not None else None
    estimator = estimator or Estimator([out_path / INDEX_FILE] if out_path is not None else [])
    prints = {d.name: fingerprint(d) for d in data}
    cells = {d.name: int(d.metrics.shape[0] * max(d.metrics.shape[1], 1)) for d in data}
    planned = []
    for task in plan_tasks(data, det, clf, loc, save_models):
        key = task_key(task, prints[task.dataset], metric_names, options)
        family = family_of(task.kind, task.spec.name)
        estimate = estimator.estimate(task.spec.label, task.spec.name, family, task.dataset, task.seed, cells[task.dataset])
        if timeout_s is not None and estimate.seconds > timeout_s:
            estimate = Estimate(float(timeout_s), f"{estimate.source}, capped by the time-out")
        unsaved = task.save_model is not None and not (Path(task.save_model) / "model.json").exists()
        done = bool(resume and store is not None and store.has(key) and not unsaved)
        kept = store.timed_out(key, timeout_s) if resume and store is not None and not done else ""
        planned.append(PlannedTask(task, key, estimate, done or bool(kept), cells[task.dataset], kept))
    return BenchPlan({d.name: d for d in data}, planned, metric_names, options, floors, out_path, max(1, int(workers)))


# ---- finished tasks on disk ---------------------------------------------------------------------
class TaskStore:
    """``<out>/tasks/<key>.pkl`` (the task's evaluation) and ``<out>/tasks.jsonl`` (one line per task).

    Pickles are a cache of this installation's objects, for ``--resume``; the reports and
    scores.json written from them are the durable results.
    """

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.dir = self.out / TASKS_DIR

    def has(self, key: str) -> bool:
        return (self.dir / f"{key}.pkl").exists()

    def timed_out(self, key: str, timeout_s: float | None) -> str:
        """The reason of this task's last time-out when running it again under ``timeout_s`` would
        only time out again (an earlier limit at least as long), else ''.

        Why: ``--resume`` re-ran every time-out, so finishing one missing task of a bench that had
        a few 10-minute time-outs cost those 10 minutes each again. Raise ``--task-timeout`` (or
        drop it) to retry them.
        """
        path = self.out / INDEX_FILE
        if timeout_s is None or not path.exists():
            return ""
        last = None
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a torn line
            if rec.get("key") == key:
                last = rec
        if last is None or last.get("status") != "timeout":
            return ""
        limit = last.get("timeout_s")
        if limit is None:  # records written before the field: read the limit from the reason
            found = re.search(r"time-out of ([0-9.]+) s", str(last.get("reason", "")))
            limit = float(found.group(1)) if found else None
        return str(last["reason"]) if limit is not None and float(limit) >= timeout_s else ""

    def load(self, key: str) -> Evaluation:
        with open(self.dir / f"{key}.pkl", "rb") as fh:
            return pickle.load(fh)

    def save(self, planned: PlannedTask, outcome: TaskOutcome) -> dict[str, Any]:
        """Write one task's index line and, when it has results, its evaluation (atomically: a torn
        write never looks finished). Failed and timed-out tasks keep no results: ``--resume`` retries
        them (a time-out only under a longer ``--task-timeout``: :meth:`timed_out`)."""
        self.out.mkdir(parents=True, exist_ok=True)
        if outcome.evaluation is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.dir / f"{planned.key}.pkl.tmp"
            with open(tmp, "wb") as fh:
                pickle.dump(outcome.evaluation, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(self.dir / f"{planned.key}.pkl")
        record = task_record(planned, outcome)
        with open(self.out / INDEX_FILE, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
        return record


def not_applicable(outcome: TaskOutcome) -> str:
    """The method's own reason when it refused this dataset (every row of the task n/a), else ''.

    Why: such a task ends in milliseconds (too few fault-free steps, say); its time says nothing
    about the method's cost and must not plan the next run (tsbad:CNN planned 0 s on bench-mixed).
    """
    ev = outcome.evaluation
    if ev is None or ev.table.empty or "value" not in ev.table or ev.table["value"].notna().any():
        return ""
    reasons = [str(r) for r in ev.table.get("reason", []) if isinstance(r, str) and r]
    return reasons[0] if reasons else "no values"


def task_record(planned: PlannedTask, outcome: TaskOutcome) -> dict[str, Any]:
    task = planned.task
    return {"key": planned.key, "kind": task.kind, "model": task.spec.label, "name": task.spec.name,
            "dataset": task.dataset, "seed": task.seed, "status": outcome.status,
            "elapsed_s": round(outcome.elapsed_s, 3), "estimate_s": round(planned.estimate.seconds, 3),
            "estimate_source": planned.estimate.source, "cells": planned.cells,
            "reason": outcome.error or "", "not_applicable": not_applicable(outcome), "timeout_s": outcome.timeout_s,
            "finished": datetime.now(UTC).isoformat(timespec="seconds")}


# ---- running ------------------------------------------------------------------------------------
@dataclass
class BenchResult:
    evaluation: Evaluation
    outcomes: list[TaskOutcome] = field(default_factory=list)
    finished: int = 0  # tasks with results (run now or found on resume)
    total: int = 0
    interrupted: str | None = None  # the signal that stopped the bench early

    @property
    def failures(self) -> list[TaskOutcome]:
        return [o for o in self.outcomes if o.error]


class Progress:
    """One line per finished task (and a tqdm bar on a terminal), with an ETA calibrated as tasks finish."""

    def __init__(self, plan: BenchPlan, log: Log) -> None:
        self.plan, self.log = plan, log
        self.total = len(plan.todo)
        self.start = time.monotonic()
        self.done_est = self.done_real = 0.0
        self.count = 0
        self.finished_keys: set[str] = set()  # on a grid tasks finish out of plan order
        self.bar = None
        if log is _stderr and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, unit="task", file=sys.stderr, dynamic_ncols=True)

    def eta_s(self) -> float:
        left = [p.estimate.seconds for p in self.plan.todo if p.key not in self.finished_keys]
        ratio = min(max(self.done_real / self.done_est, 0.2), 5.0) if self.done_est > 0 else 1.0
        return makespan(left, self.plan.workers) * ratio

    def finished(self, planned: PlannedTask, outcome: TaskOutcome) -> None:
        self.count += 1
        self.finished_keys.add(planned.key)
        self.done_est += planned.estimate.seconds
        self.done_real += outcome.elapsed_s
        what = {"done": "done", "failed": "FAILED", "timeout": "TIMED OUT"}[outcome.status]
        line = (f"[{self.count}/{self.total}] {what} {outcome.task.label} in {outcome.elapsed_s:.1f} s "
                f"(est {clock(planned.estimate.seconds)}); elapsed {clock(time.monotonic() - self.start)}, "
                f"ETA {clock(self.eta_s())}" + (f": {outcome.error}" if outcome.error else ""))
        if self.bar is not None:
            self.bar.write(line)
            self.bar.set_postfix_str(f"ETA {clock(self.eta_s())}")
            self.bar.update(1)
        else:
            self.log(line)

    def beat(self, task: Task, elapsed: float) -> None:
        """While a long task runs: a line every minute (the bar's postfix on a terminal)."""
        if self.bar is not None:
            self.bar.set_postfix_str(f"{task.spec.label} {clock(elapsed)}, ETA {clock(self.eta_s())}")
        elif int(elapsed) % 60 == 0 and elapsed >= 60:
            self.log(f"  ... {task.short} running for {clock(elapsed)}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_bench(plan: BenchPlan, executor: Any | None = None, log: Log = _stderr, timeout_s: float | None = None) -> BenchResult:
    """Run the plan's unfinished tasks; store each as it finishes; merge everything in plan order.

    Ctrl-C or SIGTERM (an :class:`Interrupted` inside :func:`faultlab.interrupt.interruptible`)
    stops the executor at once; the result then holds what finished, with ``interrupted`` set.
    A failed or timed-out task becomes n/a rows with the reason.
    """
    from faultlab.harness.evaluation.worker import LocalExecutor

    store = TaskStore(plan.out) if plan.out is not None else None
    progress = Progress(plan, log)
    executor = executor or LocalExecutor(timeout_s=timeout_s, heartbeat=progress.beat)
    results: dict[str, Evaluation] = {}
    for p in plan.tasks:
        if p.kept_timeout:
            results[p.key] = _na_evaluation(p.task, plan, p.kept_timeout)
        elif p.done and store is not None:
            results[p.key] = store.load(p.key)
    by_task = {id(p.task): p for p in plan.todo}
    outcomes: list[TaskOutcome] = []
    interrupted = None
    try:
        for outcome in executor.run([p.task for p in plan.todo], plan.datasets, plan.metrics, plan.options):
            planned = by_task[id(outcome.task)]
            evaluation = outcome.evaluation or _na_evaluation(planned.task, plan, outcome.error or "no result")
            results[planned.key] = evaluation
            outcomes.append(outcome)
            # every finished task (a check's too, which keeps no output folder) feeds the next estimates
            append_history(store.save(planned, outcome) if store is not None else task_record(planned, outcome))
            progress.finished(planned, outcome)
    except (KeyboardInterrupt, Interrupted) as exc:
        interrupted = exc.reason if isinstance(exc, Interrupted) else "SIGINT (Ctrl-C)"
        executor.close()
    finally:
        progress.close()
    order = [p for p in plan.tasks if p.key in results]
    merged = merge([results[p.key] for p in order], [p.task.first_seed for p in order], floors=plan.floors) if order \
        else Evaluation(table=tidy([]), timelines=[], settings={})
    return BenchResult(merged, outcomes, len(order), len(plan.tasks), interrupted)


def _na_evaluation(task: Task, plan: BenchPlan, reason: str) -> Evaluation:
    """The n/a rows a failed or timed-out task stands for (its reason on the board)."""
    rows = unanswerable_rows(task.kind, task.spec, task.dataset, task.seed, select_metrics(plan.metrics), reason)
    return Evaluation(table=tidy(rows), timelines=[], settings={})


__all__ = ["BenchPlan", "BenchResult", "GROUPS", "KINDS", "PlannedTask", "TaskStore", "clock", "family_of",
           "parse_params", "plan_bench", "run_bench", "select_methods", "with_params"]
