"""Detectors x datasets x seeds x metrics -> one tidy table (TimeEval's shape, see STYLE.md).

One row per ``kind x model x dataset x seed x metric x protocol x breakdown``:

=========  =====================================================================================
kind       ``detector`` or ``classifier``
model      the registered name, with its parameters when any are set: ``zscore(threshold=4)``
protocol   how the number was obtained, printed next to it everywhere:
           ``own-threshold`` (the detector's ``threshold_``), ``oracle-best-f1`` (the threshold
           that maximises F1 on the test labels: an upper bound), ``threshold-free`` (from
           scores), ``point-adjusted (optimistic)``, ``labelled-segments`` (root cause ranked
           on the true fault windows), ``leave-events-out`` (classifiers)
breakdown  ``all``, ``fault_type=<type>``, ``target=<service>``; for confusion-matrix cells
           ``true=<type>,pred=<type>``
=========  =====================================================================================

Detectors are fitted on the dataset's fault-free train split and scored on its test split.
Classifiers see fault windows (:func:`detectors.fault_windows`) in a seeded k-fold split that
keeps every fault event's windows on one side (stratified by fault type, grouped by fault id,
as TELESTO's leave-one-group-out evaluation, Sec. 3.2): a window is never judged by a model
that saw its neighbours. Every report (scores.json, leaderboard, check, compare) is a view of
this table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness.dataset import Dataset
from harness.errors import BadInput

COLUMNS = ["kind", "model", "dataset", "seed", "metric", "protocol", "breakdown", "value"]
OWN = "own-threshold"
ORACLE = "oracle-best-f1"
FREE = "threshold-free"
ADJUSTED = "point-adjusted (optimistic)"
SEGMENTS = "labelled-segments"
SEGMENTS_METRIC = "labelled-segments (metric level)"
EVENT_SPLIT = "leave-events-out"
ALL = "all"

#: Classifier rows that are not registered metrics (per-class and confusion cells).
CLASSIFIER_EXTRAS = ("class_precision", "class_recall", "confusion")
#: Direction of every metric name the table can hold that METRICS does not know.
EXTRA_HIGHER_IS_BETTER = {"class_precision": True, "class_recall": True, "confusion": True}


@dataclass(frozen=True)
class MethodSpec:
    """One detector or classifier to run: registered name, parameters, seeds.

    The scenario's ``evaluate.detectors`` entries have the same three fields and are accepted
    as they are (see :func:`as_specs`).
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)

    @property
    def label(self) -> str:
        """``name`` or ``name(k=v, ...)``: the ``model`` column, unique per configuration."""
        if not self.params:
            return self.name
        args = ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in sorted(self.params.items()))
        return f"{self.name}({args})"


@dataclass(frozen=True)
class ScoreTimeline:
    """A detector's per-step test scores for one seed: what the timeline plots draw."""

    dataset: str
    model: str
    seed: int
    timestamps: pd.DatetimeIndex
    scores: np.ndarray
    threshold: float
    anomaly: np.ndarray
    fault_type: np.ndarray


@dataclass
class Evaluation:
    """The tidy table plus the score timelines the plots need (first seed of each detector)."""

    table: pd.DataFrame
    timelines: list[ScoreTimeline] = field(default_factory=list)


def as_specs(items: Iterable[Any] | None, seeds: Sequence[int] | None = None) -> list[MethodSpec]:
    """MethodSpecs from names, dicts or objects with ``name``/``params``/``seeds``.

    ``seeds`` (e.g. from ``--seeds``) overrides every entry's own seeds when given.
    """
    out: list[MethodSpec] = []
    for i, item in enumerate(items or []):
        if isinstance(item, MethodSpec):
            spec = item
        elif isinstance(item, str):
            spec = MethodSpec(item)
        elif isinstance(item, Mapping):
            if "name" not in item:
                raise BadInput(f"method entry {i}: field 'name' is missing")
            spec = MethodSpec(str(item["name"]), dict(item.get("params") or {}), tuple(item.get("seeds") or (0,)))
        elif hasattr(item, "name"):
            spec = MethodSpec(str(item.name), dict(getattr(item, "params", {}) or {}), tuple(getattr(item, "seeds", (0,))))
        else:
            raise BadInput(f"method entry {i}: expected a name or a {{name, params, seeds}} entry, got {item!r}")
        if seeds is not None:
            spec = MethodSpec(spec.name, spec.params, tuple(seeds))
        bad = [s for s in spec.seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0]
        if bad or not spec.seeds:
            raise BadInput(f"{spec.name}: seeds must be a non-empty list of integers >= 0, got {list(spec.seeds)}")
        out.append(spec)
    labels = [s.label for s in out]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise BadInput(f"method {dupes[0]!r} is listed twice with the same parameters")
    return out


def evaluate(
    datasets: Dataset | Sequence[Dataset],
    detectors: Iterable[Any] | None = None,
    classifiers: Iterable[Any] | None = None,
    seeds: Sequence[int] | None = None,
    metrics: Sequence[str] | None = None,
    *,
    window_steps: int = 12,
    folds: int = 3,
) -> pd.DataFrame:
    """The tidy results table (see the module docstring); :func:`run_evaluation` also keeps timelines."""
    return run_evaluation(
        datasets, detectors, classifiers, seeds, metrics, window_steps=window_steps, folds=folds
    ).table


def run_evaluation(
    datasets: Dataset | Sequence[Dataset],
    detectors: Iterable[Any] | None = None,
    classifiers: Iterable[Any] | None = None,
    seeds: Sequence[int] | None = None,
    metrics: Sequence[str] | None = None,
    *,
    window_steps: int = 12,
    folds: int = 3,
) -> Evaluation:
    """Fit, score and measure every method on every dataset for every seed.

    ``metrics`` restricts the registered metrics by name (empty/None: all of them);
    ``window_steps`` is the classifier window length and ``folds`` the number of event-level
    folds. Unknown names are a BadInput before anything is fitted.
    """
    from detectors import CLASSIFIERS, DETECTORS
    from harness.evaluate_methods import score_classifier, score_detector, select_metrics

    data = [datasets] if isinstance(datasets, Dataset) else list(datasets)
    if not data:
        raise BadInput("no dataset to evaluate on")
    names = [d.name for d in data]
    if len(set(names)) != len(names):
        raise BadInput(f"two datasets share the name {sorted({n for n in names if names.count(n) > 1})[0]!r}")
    det_specs = as_specs(detectors, seeds)
    clf_specs = as_specs(classifiers, seeds)
    if not det_specs and not clf_specs:
        raise BadInput("nothing to evaluate: give at least one detector or classifier")
    for spec in det_specs:
        DETECTORS.get(spec.name)
    for spec in clf_specs:
        CLASSIFIERS.get(spec.name)
    chosen = select_metrics(metrics)

    rows: list[dict[str, Any]] = []
    timelines: list[ScoreTimeline] = []
    for dataset in data:
        for spec in det_specs:
            for i, seed in enumerate(spec.seeds):
                found, timeline = score_detector(dataset, spec, int(seed), chosen)
                rows += found
                if i == 0:
                    timelines.append(timeline)
        for spec in clf_specs:
            for seed in spec.seeds:
                rows += score_classifier(dataset, spec, int(seed), chosen, window_steps, folds)
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["seed"] = table["seed"].astype(np.int64)
    table["value"] = table["value"].astype(np.float64)
    return Evaluation(table=table, timelines=timelines)


def higher_is_better(metric: str) -> bool:
    """Direction of a metric in the table (registered ones from METRICS, extras from here)."""
    from harness.scoring import METRICS

    if metric in METRICS:
        return METRICS.get(metric).higher_is_better
    return EXTRA_HIGHER_IS_BETTER.get(metric, True)
