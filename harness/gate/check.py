"""The CI regression gate: re-score methods on a dataset and compare with a baseline file.

A baseline file says what to run (dataset, detectors, classifiers with params and seeds,
metrics) and what it scored (the seed mean of every metric/protocol on the ``all`` breakdown),
with an absolute tolerance, globally and per metric::

    {"format_version": 1, "dataset": "synthetic",
     "detectors": [{"name": "zscore", "params": {}, "seeds": [0]}], "classifiers": [...],
     "metrics": [], "window_steps": 12, "folds": 3,
     "floors": true, "count_recovering": false, "vus_window_s": null,
     "tolerance": 0.02, "tolerances": {"mean_delay_s": 5.0},
     "scores": [{"kind", "model", "metric", "protocol", "value"}]}

Scores are matched by method *name* (``zscore``), not by its parameters: a method whose
configuration changed (``zscore`` -> ``zscore(threshold=4)``) is shown as changed, with both
configurations and every score's delta, not as one missing and one new method.
A score *regresses* when it is worse than its baseline by more than its tolerance ("worse"
follows the metric's direction: a longer detection delay is worse), or when a baseline score
is missing or has become undefined. The reference floors (``always_alarm``, ``random``) are
re-scored and held too unless ``"floors": false``: a gate on a floor catches a change of the
labels or of the scoring itself. Improvements never fail; ``update`` rewrites the file on
purpose. Runs are seeded, so on one machine the numbers repeat exactly; the tolerance absorbs
floating-point and library-version noise elsewhere.
"""

from __future__ import annotations

import math
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.documents import read_document
from faultlab.errors import BadInput
from faultlab.harness.evaluation import ALL, MethodSpec, as_specs, higher_is_better
from faultlab.harness.evaluation.table import TRAINING
from faultlab.harness.reports.scores_file import dumps_rows

FORMAT_VERSION = 1
DEFAULT_TOLERANCE = 0.02
#: Metrics not on a 0..1 scale get tolerances in their own units.
DEFAULT_TOLERANCES = {"mean_delay_s": 5.0, "false_alarms_per_h": 2.0}
KEY = ["kind", "model", "metric", "protocol"]
MATCH = ["kind", "method", "metric", "protocol"]  # how a current score finds its baseline: by name
NOT_GATED = {"confusion"}  # counts, not scores
DIFF_COLUMNS = ["status", "kind", "model", "metric", "protocol", "baseline", "current", "delta", "tolerance"]
FAILING = ("regressed", "missing", "not run")
#: the score each kind is ranked by; a gated method without a finite one cannot be held to anything
HEADLINE = {"detector": "vus_pr", "classifier": "macro_f1"}


def method_name(model: str) -> str:
    """``zscore(threshold=4)`` -> ``zscore``: the registered name inside a model label."""
    return str(model).split("(", 1)[0]


@dataclass
class Baseline:
    """What to re-score and the scores to hold it to (``scores``: KEY columns + ``value``)."""

    dataset: str
    detectors: list[MethodSpec]
    classifiers: list[MethodSpec]
    scores: pd.DataFrame
    metrics: list[str] = field(default_factory=list)
    tolerance: float = DEFAULT_TOLERANCE
    tolerances: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TOLERANCES))
    window_steps: int = 12
    folds: int = 3
    floors: bool = True
    count_recovering: bool = False
    vus_window_s: float | None = None

    def tolerance_for(self, metric: str) -> float:
        return float(self.tolerances.get(metric, self.tolerance))

    def to_json(self) -> dict[str, Any]:
        def spec(s: MethodSpec) -> dict[str, Any]:
            return {"name": s.name, "params": dict(s.params), "seeds": [int(x) for x in s.seeds]}

        scores = [
            {**{k: row[k] for k in KEY}, "value": None if not math.isfinite(row["value"]) else float(row["value"])}
            for row in self.scores.sort_values(KEY).to_dict(orient="records")
        ]
        return {
            "format_version": FORMAT_VERSION,
            "dataset": self.dataset,
            "detectors": [spec(s) for s in self.detectors],
            "classifiers": [spec(s) for s in self.classifiers],
            "metrics": list(self.metrics),
            "window_steps": self.window_steps,
            "folds": self.folds,
            "floors": self.floors,
            "count_recovering": self.count_recovering,
            "vus_window_s": self.vus_window_s,
            "tolerance": self.tolerance,
            "tolerances": dict(sorted(self.tolerances.items())),
            "scores": scores,
        }


@dataclass
class CheckResult:
    """The diff table (one row per gated score, DIFF_COLUMNS) and whether the gate passed."""

    diff: pd.DataFrame
    dataset: str
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)  # method -> (baseline model, current model)
    interrupted: str | None = None  # the signal that cut the re-scoring short (unfinished scores: "not run")

    @property
    def failures(self) -> pd.DataFrame:
        return self.diff[self.diff["status"].isin(FAILING)]

    @property
    def passed(self) -> bool:
        return self.failures.empty


# ---- baseline file -------------------------------------------------------------------------
def load_baseline(path: str | Path) -> Baseline:
    """Read and validate a baseline file; BadInput names the file and the field."""
    path = Path(path)
    doc = read_document(path, f"baseline {path}", missing="no such file (create it with --update)")
    if not isinstance(doc, dict):
        raise BadInput(f"baseline {path}: expected a JSON object")
    version = doc.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise BadInput(f"baseline {path}: field 'format_version' is {version!r}, expected {FORMAT_VERSION}")

    def field_of(name: str, kind: type | tuple[type, ...], default: Any) -> Any:
        value = doc.get(name, default)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise BadInput(f"baseline {path}: field {name!r} has the wrong type ({type(value).__name__})")
        return value

    dataset = field_of("dataset", str, "")
    if not dataset:
        raise BadInput(f"baseline {path}: field 'dataset' is missing")
    tolerance = float(field_of("tolerance", (int, float), DEFAULT_TOLERANCE))
    tolerances = field_of("tolerances", dict, dict(DEFAULT_TOLERANCES))
    for name, value in [("tolerance", tolerance), *tolerances.items()]:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise BadInput(f"baseline {path}: tolerance {name!r} must be a number >= 0, got {value!r}")
    rows = field_of("scores", list, [])
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or any(k not in row for k in (*KEY, "value")):
            raise BadInput(f"baseline {path}: scores[{i}] needs fields {', '.join(KEY)}, value")
        if row["value"] is not None and (isinstance(row["value"], bool) or not isinstance(row["value"], (int, float))):
            raise BadInput(f"baseline {path}: scores[{i}].value must be a number or null, got {row['value']!r}")
    scores = pd.DataFrame(rows, columns=[*KEY, "value"])
    scores["value"] = pd.to_numeric(scores["value"]).astype(np.float64)
    try:
        detectors = as_specs(field_of("detectors", list, []))
        classifiers = as_specs(field_of("classifiers", list, []))
    except BadInput as exc:
        raise BadInput(f"baseline {path}: {exc}") from None
    return Baseline(
        dataset=dataset,
        detectors=detectors,
        classifiers=classifiers,
        scores=scores,
        metrics=[str(m) for m in field_of("metrics", list, [])],
        tolerance=tolerance,
        tolerances={str(k): float(v) for k, v in tolerances.items()},
        window_steps=int(field_of("window_steps", int, 12)),
        folds=int(field_of("folds", int, 3)),
        floors=bool(field_of("floors", bool, True)),
        count_recovering=bool(field_of("count_recovering", bool, False)),
        vus_window_s=_optional_seconds(field_of("vus_window_s", (int, float, type(None)), None), path),
    )


def _optional_seconds(value: Any, path: Path) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or value < 0:
        raise BadInput(f"baseline {path}: field 'vus_window_s' must be a number >= 0 or null, got {value!r}")
    return float(value)


def save_baseline(baseline: Baseline, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps_rows(baseline.to_json()))
    return path


def gated_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Seed means of the ``all`` breakdown, one row per KEY: what a baseline holds (info rows of
    protocol ``training``, such as epochs run and fit time, are not scores and are not held)."""
    part = table[(table["breakdown"] == ALL) & ~table["metric"].isin(NOT_GATED) & (table["protocol"] != TRAINING)]
    if part.empty:
        return pd.DataFrame(columns=[*KEY, "value"])
    means = part.groupby(KEY, sort=True)["value"].apply(lambda v: float(np.nanmean(v)) if np.isfinite(v).any() else math.nan)
    return means.reset_index()


# ---- comparison ----------------------------------------------------------------------------
def compare_to_baseline(current: pd.DataFrame, baseline: Baseline, dataset: str = "",
                        not_run: set[str] | None = None) -> CheckResult:
    """Diff ``gated_scores`` of a fresh run against the baseline's scores (see the module docstring).

    ``not_run``: methods (model labels) whose re-scoring did not finish (an interrupted check);
    their baseline scores are ``not run`` (failing), not ``missing``.
    """
    base = baseline.scores.assign(method=baseline.scores["model"].map(method_name))
    now = current.assign(method=current["model"].map(method_name))
    merged = base.merge(now, on=MATCH, how="outer", suffixes=("_baseline", "_current"), indicator=True)
    changed = {}
    for method, group in merged[merged["_merge"] == "both"].groupby("method"):
        old, new = str(group["model_baseline"].iloc[0]), str(group["model_current"].iloc[0])
        if old != new:
            changed[str(method)] = (old, new)
    rows = []
    for row in merged.to_dict(orient="records"):
        base_v, now_v = row["value_baseline"], row["value_current"]
        model = row["model_current"] if isinstance(row.get("model_current"), str) else row["model_baseline"]
        tol = baseline.tolerance_for(row["metric"])
        sign = 1.0 if higher_is_better(row["metric"]) else -1.0
        delta = now_v - base_v if row["_merge"] == "both" else math.nan
        if row["_merge"] == "right_only":
            status = "new"
        elif row["_merge"] == "left_only" and row["model_baseline"] in (not_run or set()):
            status = "not run"
        elif row["_merge"] == "left_only" or (math.isfinite(base_v) and not math.isfinite(now_v)):
            status = "missing"
        elif not math.isfinite(base_v):
            status = "ok"
        elif sign * delta < -tol - 1e-12:
            status = "regressed"
        elif sign * delta > tol:
            status = "improved"
        else:
            status = "ok"
        rows.append({"status": status, "kind": row["kind"], "model": model, "metric": row["metric"],
                     "protocol": row["protocol"], "baseline": base_v, "current": now_v, "delta": delta, "tolerance": tol})
    order = {"regressed": 0, "missing": 1, "not run": 2, "improved": 3, "new": 4, "ok": 5}
    diff = pd.DataFrame(rows, columns=DIFF_COLUMNS)
    diff = diff.sort_values(["status", "kind", "model", "metric", "protocol"], key=lambda s: s.map(order) if s.name == "status" else s)
    return CheckResult(diff=diff.reset_index(drop=True), dataset=dataset or baseline.dataset, changed=changed)


def run_check(
    baseline_path: str | Path,
    dataset: str | Path | None = None,
    *,
    tolerance: float | None = None,
    tolerances: Mapping[str, float] | None = None,
    update: bool = False,
    detectors: Sequence[Any] | None = None,
    classifiers: Sequence[Any] | None = None,
    seeds: Sequence[int] | None = None,
    floors: bool | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    task_timeout_s: float | None = None,
    log: Any = None,
) -> CheckResult:
    """Re-score what the baseline names (or the given methods) and diff; ``update`` rewrites it.

    Without a baseline file, ``update`` creates one (methods: the given ones, else every
    registered detector and classifier, seed 0; dataset: the given one, else ``synthetic``).
    ``floors`` (with ``update``) turns the reference floors on or off in the baseline; ``params``
    (``{method: {key: value}}``) changes the named methods' parameters (a check then shows them as
    changed configurations). The re-scoring prints its plan and progress (:mod:`.bench`); when it
    is interrupted, the result holds what finished and marks the rest ``not run``.
    """
    from faultlab.detectors import CLASSIFIERS
    from faultlab.detectors.floors import scored_detectors
    from faultlab.harness.datasets.index import resolve_dataset
    from faultlab.harness.evaluation.bench import plan_bench, run_bench, with_params

    path = Path(baseline_path)
    if path.exists() or not update:
        baseline = load_baseline(path)
    else:
        baseline = Baseline(dataset=str(dataset or "synthetic"),
                            detectors=as_specs(scored_detectors()),
                            classifiers=as_specs(CLASSIFIERS.names()), scores=pd.DataFrame(columns=[*KEY, "value"]))
    if tolerance is not None:
        if tolerance < 0:
            raise BadInput(f"--tolerance must be >= 0, got {tolerance}")
        baseline.tolerance = float(tolerance)
    baseline.tolerances.update({k: float(v) for k, v in (tolerances or {}).items()})
    if detectors is not None or classifiers is not None:
        baseline.detectors = as_specs(detectors or [])
        baseline.classifiers = as_specs(classifiers or [])
    if seeds is not None:
        baseline.detectors = as_specs(baseline.detectors, seeds)
        baseline.classifiers = as_specs(baseline.classifiers, seeds)
    if params:
        named = {s.name for s in [*baseline.detectors, *baseline.classifiers]}
        unknown = sorted(set(params) - named)
        if unknown:
            raise BadInput(f"--param names method(s) {', '.join(unknown)} that baseline {path} does not hold "
                           f"(it holds: {', '.join(sorted(named))})")
        baseline.detectors = with_params(baseline.detectors, params)
        baseline.classifiers = with_params(baseline.classifiers, params)
    if dataset is not None and update:
        baseline.dataset = str(dataset)
    if floors is not None and update:
        baseline.floors = bool(floors)
    data = resolve_dataset(dataset if dataset is not None else baseline.dataset)
    options = {"window_steps": baseline.window_steps, "folds": baseline.folds,
               "count_recovering": baseline.count_recovering, "vus_window_s": baseline.vus_window_s}
    plan = plan_bench([data], baseline.detectors, baseline.classifiers, (), None, baseline.metrics or None,
                      floors=baseline.floors, options=options, timeout_s=task_timeout_s)
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    say(plan.render())
    result = run_bench(plan, log=say, timeout_s=task_timeout_s)
    table = result.evaluation.table
    current = gated_scores(table) if not table.empty else pd.DataFrame(columns=[*KEY, "value"])
    finished = set(table["model"]) if not table.empty else set()
    not_run = {p.task.spec.label for p in plan.tasks} - finished if result.interrupted else set()
    if update and not result.interrupted:
        unscored = unscored_methods(current)
        if unscored:
            raise BadInput(f"baseline {path} not written: no {' or '.join(sorted(set(HEADLINE.values())))} for "
                           f"{', '.join(unscored)} on {data.name}: a gate cannot catch their regressions "
                           "(faultlab bench on that dataset shows why they are n/a)")
        baseline.scores = current
        save_baseline(baseline, path)
    outcome = compare_to_baseline(current, baseline, data.name, not_run)
    outcome.interrupted = result.interrupted
    return outcome


def unscored_methods(scores: pd.DataFrame) -> list[str]:
    """Gated methods (model labels) whose headline score (:data:`HEADLINE`) is n/a everywhere.

    Why: a baseline stores n/a as null and a check passes a null baseline whatever comes back, so
    a method that failed when the gate was written is never checked again (dcrnn sat in two
    gates that way, 2026-12-06). ``check --update`` refuses to write such a baseline.
    """
    out = []
    for (kind, model), group in scores.groupby(["kind", "model"]):
        head = pd.to_numeric(group.loc[group["metric"] == HEADLINE.get(str(kind), ""), "value"], errors="coerce")
        if len(head) and not np.isfinite(head.to_numpy(dtype=float)).any():
            out.append(str(model))
    return sorted(out)


# ---- reports -------------------------------------------------------------------------------
def _num(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.4g}"


def render_diff(result: CheckResult, show_all: bool = False) -> str:
    """A plain-text table of the failing (or, with ``show_all``, every) score, then a tally."""
    rows = result.diff if show_all else result.diff[result.diff["status"] != "ok"]
    counts = result.diff["status"].value_counts()
    tally = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("regressed", "missing", "not run", "improved", "new", "ok")
                      if s != "not run" or counts.get(s, 0))
    verdict = "PASSED" if result.passed else "FAILED"
    header = f"faultlab check on {result.dataset}: {verdict} ({tally})"
    for method, (old, new) in sorted(result.changed.items()):
        header += f"\nconfiguration of {method} changed: baseline {old} -> now {new} (scores compared, deltas below)"
    if result.interrupted:
        header += f"\ninterrupted by {result.interrupted}: methods that did not finish are 'not run'"
    if rows.empty:
        return header + "\n"
    shown = rows.assign(
        baseline=rows["baseline"].map(_num), current=rows["current"].map(_num),
        delta=rows["delta"].map(lambda v: "n/a" if not math.isfinite(v) else f"{v:+.4g}"),
        tolerance=rows["tolerance"].map(_num),
    )
    widths = {c: max(len(c), *(len(str(v)) for v in shown[c])) for c in DIFF_COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in DIFF_COLUMNS), "  ".join("-" * widths[c] for c in DIFF_COLUMNS)]
    for row in shown.itertuples(index=False):
        lines.append("  ".join(str(getattr(row, c)).ljust(widths[c]) for c in DIFF_COLUMNS).rstrip())
    return "\n".join(lines) + "\n\n" + header + "\n"


def junit_xml(result: CheckResult) -> str:
    """JUnit XML: one test case per gated score, a ``<failure>`` for each regression."""
    suite = ET.Element("testsuite", {
        "name": f"faultlab check {result.dataset}", "tests": str(len(result.diff)),
        "failures": str(len(result.failures)), "errors": "0", "skipped": "0",
    })
    for row in result.diff.itertuples(index=False):
        case = ET.SubElement(suite, "testcase", {
            "classname": f"faultlab.{result.dataset}.{row.kind}.{row.model}",
            "name": f"{row.metric} [{row.protocol}]", "time": "0",
        })
        if row.status in FAILING:
            message = (f"{row.metric} [{row.protocol}] {row.status}: baseline {_num(row.baseline)}, "
                       f"current {_num(row.current)}, tolerance {_num(row.tolerance)}")
            ET.SubElement(case, "failure", {"message": message, "type": row.status}).text = message
        else:
            ET.SubElement(case, "system-out").text = f"{row.status}: baseline {_num(row.baseline)}, current {_num(row.current)}"
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
