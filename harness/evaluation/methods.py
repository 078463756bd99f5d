"""Scoring one detector or classifier for one seed on one dataset: rows of the tidy table.

Kept apart from :mod:`faultlab.harness.evaluation.grid` (which loops and assembles) so each file has one job.
See that module's docstring for the meaning of the columns and protocols.

A value that the data cannot give (no labelled anomaly in a breakdown, a fault type seen in no
training fold, too few events to build folds) is ``nan`` with a ``reason``, never 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from faultlab.dataset import Dataset
from faultlab.errors import BadInput
from faultlab.harness.scoring import METRICS, Metric, best_f1_threshold, breakdown_items, group_masks
from faultlab.harness.scoring.classification import confusion_matrix, per_class_precision_recall
from faultlab.harness.scoring.events import to_seconds
from faultlab.harness.scoring.rootcause import random_ranking_expectation
from faultlab.harness.scoring.vus import VusResult, VusWindow, derive_window, vus_per_window
from faultlab.harness.radiography import detector_radiographies
from faultlab.harness.evaluation.table import (
    ADJUSTED, ALL, EVENT_SPLIT, FREE, ORACLE, OWN, SEGMENTS, SEGMENTS_METRIC, TRAIN_ALARM_RATE, MethodSpec,
    ScoreTimeline, ScoringOptions,
)

DETECTOR_KINDS = ("binary", "events", "score", "rootcause")
#: Metrics computed together from one VUS surface (one pass gives both).
VUS_METRICS = {"vus_roc": lambda r: r.vus_roc, "vus_pr": lambda r: r.vus_pr}


def select_metrics(names: Sequence[str] | None) -> list[Metric]:
    """The registered metrics named (all when empty); BadInput names an unknown one."""
    if not names:
        return [METRICS.get(n) for n in METRICS.names()]
    return [METRICS.get(str(n)) for n in dict.fromkeys(names)]


def _row(kind: str, spec: MethodSpec, dataset: str, seed: int, metric: str, protocol: str, where: str, value: float,
         reason: str = "") -> dict[str, Any]:
    value = float(value)
    return {"kind": kind, "model": spec.label, "dataset": dataset, "seed": seed, "metric": metric,
            "protocol": protocol, "breakdown": where, "value": value,
            "reason": reason if not np.isfinite(value) else ""}


def _why(metric: str, y: np.ndarray) -> str:
    """Why a detection metric is undefined on these labels (the n/a reason)."""
    if not y.any():
        return "no labelled anomaly among the scored steps"
    if y.all():
        return "no fault-free step among the scored steps"
    if metric == "mean_delay_s":
        return "no fault event was detected"
    return "undefined for these labels and alarms"


def _label_groups(labels: Any) -> dict[str, np.ndarray]:
    """Per-step masks named ``fault_type=...`` and ``target=...`` (the breakdowns)."""
    groups = {f"fault_type={k}": v for k, v in group_masks(labels["fault_type"].to_numpy()).items()}
    groups |= {f"target={k}": v for k, v in group_masks(labels["root_cause"].to_numpy(), split=",").items()}
    return groups


def recovering_mask(labels: Any) -> np.ndarray:
    """Steps labelled ``recovering`` and not anomalous (a missing column means none)."""
    anomaly = labels["anomaly"].to_numpy() > 0
    if "recovering" not in labels.columns:
        return np.zeros(len(labels), dtype=bool)
    return (labels["recovering"].fillna(0).to_numpy().astype(np.float64) > 0) & ~anomaly


# ---- detectors -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoredSteps:
    """The test steps detectors are judged on, prepared once per dataset.

    ``keep`` drops recovering steps unless they are counted; ``y``, ``timestamps_s`` and the
    breakdown ``groups`` are over the kept steps; ``vus`` is the buffer derived on them.
    """

    test: Dataset
    keep: np.ndarray
    y: np.ndarray
    timestamps_s: np.ndarray
    groups: dict[str, np.ndarray]
    vus: VusWindow
    candidates: list[str]

    def cut(self, name: str) -> np.ndarray:
        """Kept steps of breakdown ``name``: the normal ones plus that group's faults."""
        return self.groups[name] | ~self.y


def scored_steps(dataset: Dataset, options: ScoringOptions | None = None) -> ScoredSteps:
    """:class:`ScoredSteps` of ``dataset.test()`` under ``options``; the settings the reports print."""
    options = options or ScoringOptions()
    test = dataset.test()
    keep = np.ones(len(test.labels), dtype=bool) if options.count_recovering else ~recovering_mask(test.labels)
    y = test.y.astype(bool)[keep]
    groups = {k: v[keep] for k, v in _label_groups(test.labels).items()}
    cuts = [y] + [y[m | ~y] for m in groups.values()]
    vus = derive_window(cuts, dataset.scrape_interval_s, window_s=options.vus_window_s)
    return ScoredSteps(test, keep, y, to_seconds(test.timestamps)[keep], groups, vus, list(dataset.candidates))


def dataset_settings(dataset: Dataset, options: ScoringOptions | None = None) -> dict[str, Any]:
    """What the leaderboard and scores.json state about how ``dataset`` was scored."""
    options = options or ScoringOptions()
    steps = scored_steps(dataset, options)
    n_recovering = int(recovering_mask(steps.test.labels).sum())
    return {
        "interval_s": dataset.scrape_interval_s,
        "test_steps": len(steps.test.labels),
        "anomalous_share": float(steps.test.y.mean()) if len(steps.test.labels) else float("nan"),
        "vus": steps.vus.to_json(),
        "candidates": steps.candidates,
        "context": list(dataset.context),
        "recovering_steps": n_recovering,
        "recovering": options.recovering_policy,
        "floors": options.floors,
    }


def score_detector(
    dataset: Dataset, spec: MethodSpec, seed: int, metrics: Sequence[Metric], *,
    options: ScoringOptions | None = None, steps: ScoredSteps | None = None,
) -> tuple[list[dict[str, Any]], ScoreTimeline]:
    """Fit on ``dataset.train()``, score ``dataset.test()``, one row per metric/protocol/breakdown.

    ``steps`` (from :func:`scored_steps`) saves preparing the test part again for every method.
    """
    from faultlab.detectors import can_localize, make_detector

    train = dataset.train()
    steps = steps or scored_steps(dataset, options)
    test = steps.test
    if len(train.metrics) == 0:
        raise BadInput(f"dataset {dataset.name!r} has no fault-free training steps before train_end {dataset.train_end}")
    if len(test.metrics) == 0:
        raise BadInput(f"dataset {dataset.name!r} has no test steps after train_end {dataset.train_end}")
    detector = make_detector(spec.name, spec.params, seed).fit(train)
    full_scores = detector.score(test)
    scores = full_scores[steps.keep]
    own = scores > detector.threshold_  # Detector.predict's rule, without scoring twice
    y = steps.y
    oracle_t = best_f1_threshold(y, scores).threshold
    oracle = scores >= oracle_t if np.isfinite(oracle_t) else None  # ranking's rule: alarm at >= t
    context = {"timestamps_s": steps.timestamps_s}

    rows: list[dict[str, Any]] = []

    def put(metric: str, protocol: str, where: str, value: float, truth: np.ndarray) -> None:
        rows.append(_row("detector", spec, dataset.name, seed, metric, protocol, where, value, _why(metric, truth)))

    def add(metric: Metric, protocol: str, x: np.ndarray, ctx: dict[str, Any]) -> None:
        put(metric.name, protocol, ALL, metric(y, x, **ctx), y)
        for where in steps.groups:
            keep = steps.cut(where)
            sliced = {k: v[keep] for k, v in ctx.items()}
            put(metric.name, protocol, where, metric(y[keep], x[keep], **sliced), y[keep])

    vus = _vus_surfaces(steps, scores) if any(m.name in VUS_METRICS for m in metrics) else {}
    for metric in metrics:
        if metric.name in VUS_METRICS:
            for where, result in vus.items():
                truth = y if where == ALL else y[steps.cut(where)]
                put(metric.name, FREE, where, VUS_METRICS[metric.name](result), truth)
        elif metric.kind == "score":
            add(metric, ORACLE if metric.caveat == "oracle" else FREE, scores, {})
        elif metric.kind in ("binary", "events"):
            ctx = context if metric.kind == "events" else {}
            if metric.caveat == "optimistic":
                add(metric, ADJUSTED, own, ctx)
                continue
            add(metric, OWN, own, ctx)
            if oracle is not None:
                add(metric, ORACLE, oracle, ctx)
    if any(m.name == "alarm_rate" for m in metrics):
        put(TRAIN_ALARM_RATE, OWN, ALL, float(np.mean(detector.train_scores_ > detector.threshold_)), np.zeros(1, bool))
    rankers = [m for m in metrics if m.kind == "rootcause"]
    if rankers and spec.name == "random":
        rows += _random_ranking_rows(test, steps.candidates, spec, dataset.name, seed, rankers)
    elif rankers and can_localize(detector):
        rows += _root_cause_rows(detector, test, steps.candidates, spec, dataset.name, seed, rankers)
    timeline = ScoreTimeline(
        dataset=dataset.name, model=spec.label, seed=seed, timestamps=test.timestamps, scores=full_scores,
        threshold=float(detector.threshold_), anomaly=test.y.copy(),
        fault_type=test.labels["fault_type"].to_numpy(dtype=str),
        figures=detector_radiographies(detector, test) if seed == spec.seeds[0] else {},
        alignment=dict(getattr(detector, "alignment_", None) or {}),
    )
    return rows, timeline


def _vus_surfaces(steps: ScoredSteps, scores: np.ndarray) -> dict[str, VusResult]:
    """One VUS surface per breakdown (all, each group): VUS-ROC and VUS-PR both read from it."""
    out = {ALL: vus_per_window(steps.y, scores, window=steps.vus.steps)}
    for where in steps.groups:
        keep = steps.cut(where)
        out[where] = vus_per_window(steps.y[keep], scores[keep], window=steps.vus.steps)
    return out


def _rca_rows(spec: MethodSpec, dataset: str, seed: int, metrics: Sequence[Metric], protocol: str,
              types: Sequence[str], truth: Sequence[set[str]], value: Any) -> list[dict[str, Any]]:
    """Rows of every root-cause metric over all faults, per fault type and per target.

    ``value(metric, indices)`` scores the faults at ``indices``.
    """
    rows = []
    everything = list(range(len(truth)))
    groups = {f"fault_type={t}": [i for i in everything if types[i] == t] for t in sorted(set(types))}
    if protocol == SEGMENTS:
        groups |= {f"target={s}": [i for i in everything if s in truth[i]] for s in sorted(set().union(*truth))}
    for metric in metrics:
        rows.append(_row("detector", spec, dataset, seed, metric.name, protocol, ALL, value(metric, everything),
                         "no candidate ranked"))
        for where, idx in groups.items():
            rows.append(_row("detector", spec, dataset, seed, metric.name, protocol, where, value(metric, idx),
                             "no candidate ranked"))
    return rows


def _root_cause_rows(detector: Any, test: Dataset, candidates: Sequence[str], spec: MethodSpec, dataset: str,
                     seed: int, metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """AC@k / Avg@k from ``localize`` on the labelled fault segments (root cause apart from detection).

    Only ``candidates`` are ranked (the services a fault can target): a localizer may use context
    services (host, load generator) as evidence, but ranking one first does not cost a place.
    """
    from faultlab.detectors import fault_segments

    segments = [s for s in fault_segments(test) if s.root_cause]
    if not segments:
        return []
    pool = set(candidates)
    rankings = detector.localize(test, [(s.start, s.end) for s in segments])
    ranked = [[s for s in r.top_services(len(r.services)) if s in pool] for r in rankings]
    truth = [set(s.root_cause) for s in segments]
    types = [s.fault_type for s in segments]

    def value(metric: Metric, idx: list[int]) -> float:
        return metric([ranked[i] for i in idx], [truth[i] for i in idx])

    rows = _rca_rows(spec, dataset, seed, metrics, SEGMENTS, types, truth, value)
    return rows + _metric_level_rows(rankings, segments, spec, dataset, seed, metrics, pool)


def _random_ranking_rows(test: Dataset, candidates: Sequence[str], spec: MethodSpec, dataset: str, seed: int,
                         metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """The ``random`` floor's AC@k / Avg@k: the expected value of a random order of the candidates."""
    from faultlab.detectors import fault_segments

    segments = [s for s in fault_segments(test) if s.root_cause]
    if not segments:
        return []
    truth = [set(s.root_cause) for s in segments]
    types = [s.fault_type for s in segments]

    def value(metric: Metric, idx: list[int]) -> float:
        return random_ranking_expectation(metric.fn, dict(metric.params), [truth[i] for i in idx], candidates)

    return _rca_rows(spec, dataset, seed, metrics, SEGMENTS, types, truth, value)


def _metric_level_rows(rankings: Sequence[Any], segments: Sequence[Any], spec: MethodSpec, dataset: str, seed: int,
                       metrics: Sequence[Metric], candidates: set[str] | None = None) -> list[dict[str, Any]]:
    """AC@k / Avg@k over ranked *metrics* (``service:metric`` columns), where the method ranks them.

    The truth of a fault is its target's columns named by the fault type's ``dataset_metrics``
    (e.g. ``cart:cpu_cores`` for a CPU fault on cart); faults without such a declaration
    (packet loss, pause, kill) and overlapping faults are left out of this level. Only columns
    of ``candidates`` services are ranked (all when None).
    """
    from faultlab.injectors import FAULTS

    def truth_of(segment: Any) -> set[str]:
        if segment.fault_type not in FAULTS:
            return set()
        wanted = FAULTS.get(segment.fault_type).dataset_metrics
        return {f"{service}:{m}" for service in segment.root_cause for m in wanted}

    def suspect(column: str) -> bool:
        return candidates is None or column.split(":", 1)[0] in candidates

    truth = [truth_of(s) for s in segments]
    ranked = [[name for name, _ in r.metrics if suspect(name)] for r in rankings]
    keep = [i for i in range(len(segments)) if truth[i] and ranked[i]]
    if not keep:
        return []
    ranked, truth = [ranked[i] for i in keep], [truth[i] for i in keep]
    types = [segments[i].fault_type for i in keep]
    rows = []
    for metric in metrics:
        rows.append(_row("detector", spec, dataset, seed, metric.name, SEGMENTS_METRIC, ALL, metric(ranked, truth)))
        for key, value in breakdown_items(metric, types, ranked, truth).items():
            rows.append(_row("detector", spec, dataset, seed, metric.name, SEGMENTS_METRIC, f"fault_type={key}", value))
    return rows


# ---- classifiers ---------------------------------------------------------------------------
def event_folds(fault_ids: np.ndarray, labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold index per window; all windows of one fault event share a fold.

    scikit-learn's ``StratifiedGroupKFold`` (shuffled, seeded) deals the *events* (one sample
    per event, its fault type as the class) so every fold holds about the same mix of types;
    when no type has as many events as folds, a shuffled ``KFold`` over the events does.
    """
    from sklearn.model_selection import KFold, StratifiedGroupKFold

    ids = np.asarray(fault_ids).astype(str)
    events, first = np.unique(ids, return_index=True)
    if folds < 2 or len(events) < folds:
        raise BadInput(f"event folds need 2 <= folds <= events, got {folds} folds for {len(events)} events")
    types = np.asarray(labels).astype(str)[first]
    stratify = np.unique(types, return_counts=True)[1].max() >= folds
    splitter = (StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed) if stratify
                else KFold(n_splits=folds, shuffle=True, random_state=seed))
    event_fold = np.empty(len(events), dtype=np.int64)
    with warnings.catch_warnings():  # "least populated class has only 1 member": expected, handled below
        warnings.simplefilter("ignore", UserWarning)
        for k, (_, held_out) in enumerate(splitter.split(np.zeros(len(events)), types, groups=events)):
            event_fold[held_out] = k
    return event_fold[np.searchsorted(events, ids)]


def score_classifier(
    dataset: Dataset, spec: MethodSpec, seed: int, metrics: Sequence[Metric], window_steps: int, folds: int
) -> list[dict[str, Any]]:
    """Cross-validated fault-type predictions over event-level folds, then one row per metric.

    A window whose fault type no training fold held cannot be judged (the model never saw the
    class): it is left out, and that type's rows are ``nan`` with the reason. Fewer than two
    events give ``nan`` rows for every metric rather than an error.
    """
    from faultlab.detectors import fault_segments, fault_windows, make_classifier

    if folds < 2:
        raise BadInput(f"classifier folds must be >= 2, got {folds}")
    chosen = [m for m in metrics if m.kind == "classification"]

    def row(metric: str, where: str, value: float, reason: str = "") -> dict[str, Any]:
        return _row("classifier", spec, dataset.name, seed, metric, EVENT_SPLIT, where, value, reason)

    fw = fault_windows(dataset, window_steps)
    n_events = len(set(fw.fault_ids.tolist()))
    if n_events < 2:
        why = f"{n_events} labelled fault event(s): leave-events-out folds need at least 2"
        return [row(m.name, ALL, float("nan"), why) for m in chosen]
    fold = event_folds(fw.fault_ids, fw.labels, min(folds, n_events), seed)
    params, augmentation = split_augment(spec.params)
    truth = fw.labels.astype(str)
    predicted = np.full(len(truth), "", dtype=object)
    judged = np.zeros(len(truth), dtype=bool)
    for k in np.unique(fold):
        test, train = fold == k, fold != k
        seen = set(truth[train].tolist())
        judge = test & np.isin(truth, sorted(seen))
        if not judge.any():
            continue
        model = make_classifier(spec.name, params, seed)
        windows, labels = _augmented(fw.windows[train], fw.labels[train], augmentation, seed)
        model.fit(windows, labels, columns=fw.columns, graph=fw.graph)
        predicted[judge] = model.predict(fw.windows[judge])
        judged |= judge
    unseen = sorted(set(truth[~judged].tolist()))
    unseen_why = "no training fold held this fault type (it occurs in one fault event only)"
    causes = {s.fault_id: s.root_cause for s in fault_segments(dataset)}
    ids, truth, pred = fw.fault_ids[judged], truth[judged], predicted[judged].astype(str)

    rows = []
    for metric in chosen:
        if not judged.any():
            rows.append(row(metric.name, ALL, float("nan"), "every fault type occurs in one fault event only: "
                                                               "no fold trains on the type it tests"))
        else:
            rows.append(row(metric.name, ALL, metric(truth, pred)))
        for key, value in breakdown_items(metric, truth, truth, pred).items():
            rows.append(row(metric.name, f"fault_type={key}", value))
        for cls in unseen:
            rows.append(row(metric.name, f"fault_type={cls}", float("nan"), unseen_why))
        for target in sorted({c for cs in causes.values() for c in cs}):
            idx = np.array([target in causes.get(str(f), ()) for f in ids], dtype=bool)
            if idx.any():
                rows.append(row(metric.name, f"target={target}", metric(truth[idx], pred[idx])))
    if not judged.any():
        return rows
    order = sorted(set(truth) | set(pred))
    for cls, stats in per_class_precision_recall(truth, pred, order).items():
        rows.append(row("class_precision", f"fault_type={cls}", stats["precision"]))
        rows.append(row("class_recall", f"fault_type={cls}", stats["recall"], "never the true class of a judged window"))
    for cls in unseen:
        rows.append(row("class_precision", f"fault_type={cls}", float("nan"), unseen_why))
        rows.append(row("class_recall", f"fault_type={cls}", float("nan"), unseen_why))
    matrix, order = confusion_matrix(truth, pred, order)
    for i, true_cls in enumerate(order):
        for j, pred_cls in enumerate(order):
            rows.append(row("confusion", f"true={true_cls},pred={pred_cls}", float(matrix[i, j])))
    return rows


def split_augment(params: Any) -> tuple[dict[str, Any], Any]:
    """A classifier's params without the reserved ``augment`` key, and that key's value (or None)."""
    rest = dict(params)
    spec = rest.pop("augment", None)
    if spec is not None and (not isinstance(spec, dict) or not isinstance(spec.get("per_class"), int) or spec["per_class"] < 0):
        raise BadInput(f"classifier parameter 'augment' must be a mapping with an integer 'per_class' >= 0, got {spec!r}")
    return rest, spec


def _augmented(windows: np.ndarray, labels: np.ndarray, spec: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A training fold plus CMSF-GAN windows per fault type, when the classifier's params hold
    ``augment: {per_class: N, <CMSF-GAN params>}`` (seed 004 sec. 3.1); the fold as is otherwise."""
    if not spec:
        return windows, labels
    from faultlab.detectors.cmsf_gan import augment

    options = {k: v for k, v in spec.items() if k != "per_class"}
    return augment(windows, labels, spec["per_class"], seed, **options)
