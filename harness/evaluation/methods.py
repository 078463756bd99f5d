"""Scoring one detector or classifier for one seed on one dataset: rows of the tidy table.

Kept apart from :mod:`faultlab.harness.evaluation.grid` (which loops and assembles) so each file has one job.
See that module's docstring for the meaning of the columns and protocols.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from faultlab.dataset import Dataset
from faultlab.errors import BadInput
from faultlab.harness.scoring import METRICS, Metric, best_f1_threshold, breakdown, breakdown_items, group_masks
from faultlab.harness.scoring.classification import confusion_matrix, per_class_precision_recall
from faultlab.harness.scoring.events import to_seconds
from faultlab.harness.evaluation.table import (
    ADJUSTED, ALL, EVENT_SPLIT, FREE, ORACLE, OWN, SEGMENTS, SEGMENTS_METRIC, MethodSpec, ScoreTimeline,
)

DETECTOR_KINDS = ("binary", "events", "score", "rootcause")


def select_metrics(names: Sequence[str] | None) -> list[Metric]:
    """The registered metrics named (all when empty); BadInput names an unknown one."""
    if not names:
        return [METRICS.get(n) for n in METRICS.names()]
    return [METRICS.get(str(n)) for n in dict.fromkeys(names)]


def _row(kind: str, spec: MethodSpec, dataset: str, seed: int, metric: str, protocol: str, where: str, value: float) -> dict[str, Any]:
    return {"kind": kind, "model": spec.label, "dataset": dataset, "seed": seed, "metric": metric,
            "protocol": protocol, "breakdown": where, "value": float(value)}


def _label_groups(labels: Any) -> dict[str, np.ndarray]:
    """Per-step masks named ``fault_type=...`` and ``target=...`` (the breakdowns)."""
    groups = {f"fault_type={k}": v for k, v in group_masks(labels["fault_type"].to_numpy()).items()}
    groups |= {f"target={k}": v for k, v in group_masks(labels["root_cause"].to_numpy(), split=",").items()}
    return groups


# ---- detectors -----------------------------------------------------------------------------
def score_detector(
    dataset: Dataset, spec: MethodSpec, seed: int, metrics: Sequence[Metric]
) -> tuple[list[dict[str, Any]], ScoreTimeline]:
    """Fit on ``dataset.train()``, score ``dataset.test()``, one row per metric/protocol/breakdown."""
    from faultlab.detectors import can_localize, make_detector

    train, test = dataset.train(), dataset.test()
    if len(train.metrics) == 0:
        raise BadInput(f"dataset {dataset.name!r} has no fault-free training steps before train_end {dataset.train_end}")
    if len(test.metrics) == 0:
        raise BadInput(f"dataset {dataset.name!r} has no test steps after train_end {dataset.train_end}")
    detector = make_detector(spec.name, spec.params, seed).fit(train)
    scores = detector.score(test)
    own = scores > detector.threshold_  # Detector.predict's rule, without scoring twice
    y = test.y.astype(bool)
    oracle_t = best_f1_threshold(y, scores).threshold
    oracle = scores >= oracle_t if np.isfinite(oracle_t) else None  # ranking's rule: alarm at >= t
    context = {"timestamps_s": to_seconds(test.timestamps)}
    groups = _label_groups(test.labels)

    rows: list[dict[str, Any]] = []

    def add(metric: Metric, protocol: str, x: np.ndarray, ctx: dict[str, Any]) -> None:
        rows.append(_row("detector", spec, dataset.name, seed, metric.name, protocol, ALL, metric(y, x, **ctx)))
        for where, value in breakdown(metric, y, x, groups, **ctx).items():
            rows.append(_row("detector", spec, dataset.name, seed, metric.name, protocol, where, value))

    for metric in metrics:
        if metric.kind == "score":
            add(metric, ORACLE if metric.caveat == "oracle" else FREE, scores, {})
        elif metric.kind in ("binary", "events"):
            ctx = context if metric.kind == "events" else {}
            if metric.caveat == "optimistic":
                add(metric, ADJUSTED, own, ctx)
                continue
            add(metric, OWN, own, ctx)
            if oracle is not None:
                add(metric, ORACLE, oracle, ctx)
    rankers = [m for m in metrics if m.kind == "rootcause"]
    if rankers and can_localize(detector):
        rows += _root_cause_rows(detector, test, spec, dataset.name, seed, rankers)
    timeline = ScoreTimeline(
        dataset=dataset.name, model=spec.label, seed=seed, timestamps=test.timestamps, scores=scores,
        threshold=float(detector.threshold_), anomaly=test.y.copy(),
        fault_type=test.labels["fault_type"].to_numpy(dtype=str),
    )
    return rows, timeline


def _root_cause_rows(detector: Any, test: Dataset, spec: MethodSpec, dataset: str, seed: int, metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """AC@k / Avg@k from ``localize`` on the labelled fault segments (root cause apart from detection)."""
    from faultlab.detectors import fault_segments

    segments = [s for s in fault_segments(test) if s.root_cause]
    if not segments:
        return []
    rankings = detector.localize(test, [(s.start, s.end) for s in segments])
    ranked = [r.top_services(len(r.services)) for r in rankings]
    truth = [set(s.root_cause) for s in segments]
    types = [s.fault_type for s in segments]
    targets = sorted(set().union(*truth))
    rows = []
    for metric in metrics:
        rows.append(_row("detector", spec, dataset, seed, metric.name, SEGMENTS, ALL, metric(ranked, truth)))
        for key, value in breakdown_items(metric, types, ranked, truth).items():
            rows.append(_row("detector", spec, dataset, seed, metric.name, SEGMENTS, f"fault_type={key}", value))
        for target in targets:
            idx = [i for i, t in enumerate(truth) if target in t]
            value = metric([ranked[i] for i in idx], [truth[i] for i in idx])
            rows.append(_row("detector", spec, dataset, seed, metric.name, SEGMENTS, f"target={target}", value))
    return rows + _metric_level_rows(rankings, segments, spec, dataset, seed, metrics)


def _metric_level_rows(rankings: Sequence[Any], segments: Sequence[Any], spec: MethodSpec, dataset: str, seed: int,
                       metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """AC@k / Avg@k over ranked *metrics* (``service:metric`` columns), where the method ranks them.

    The truth of a fault is its target's columns named by the fault type's ``dataset_metrics``
    (e.g. ``cart:cpu_cores`` for a CPU fault on cart); faults without such a declaration
    (packet loss, pause, kill) and overlapping faults are left out of this level.
    """
    from faultlab.injectors import FAULTS

    def truth_of(segment: Any) -> set[str]:
        if segment.fault_type not in FAULTS:
            return set()
        wanted = FAULTS.get(segment.fault_type).dataset_metrics
        return {f"{service}:{m}" for service in segment.root_cause for m in wanted}

    truth = [truth_of(s) for s in segments]
    ranked = [[name for name, _ in r.metrics] for r in rankings]
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

    Events are shuffled within each fault type (seeded) and dealt round-robin over the folds,
    starting at a seeded fold, so every fold holds about the same mix of types.
    """
    rng = np.random.default_rng(seed)
    event_fold: dict[str, int] = {}
    event_type = {str(e): str(t) for e, t in zip(fault_ids, labels)}
    for fault_type in sorted(set(event_type.values())):
        events = sorted(e for e, t in event_type.items() if t == fault_type)
        offset = int(rng.integers(folds))
        for j, event in enumerate(rng.permutation(events)):
            event_fold[str(event)] = (offset + j) % folds
    return np.array([event_fold[str(e)] for e in fault_ids], dtype=np.int64)


def score_classifier(
    dataset: Dataset, spec: MethodSpec, seed: int, metrics: Sequence[Metric], window_steps: int, folds: int
) -> list[dict[str, Any]]:
    """Cross-validated fault-type predictions over event-level folds, then one row per metric."""
    from faultlab.detectors import fault_segments, fault_windows, make_classifier

    if folds < 2:
        raise BadInput(f"classifier folds must be >= 2, got {folds}")
    fw = fault_windows(dataset, window_steps)
    n_events = len(set(fw.fault_ids.tolist()))
    if n_events < 2:
        raise BadInput(f"dataset {dataset.name!r} has {n_events} labelled fault event(s); classifiers need at least 2")
    fold = event_folds(fw.fault_ids, fw.labels, min(folds, n_events), seed)
    predicted = np.empty(len(fw.labels), dtype=object)
    for k in np.unique(fold):
        test, train = fold == k, fold != k
        if not train.any():
            continue
        model = make_classifier(spec.name, spec.params, seed)
        model.fit(fw.windows[train], fw.labels[train], columns=fw.columns, graph=fw.graph)
        predicted[test] = model.predict(fw.windows[test])
    truth = fw.labels.astype(str)
    pred = predicted.astype(str)
    causes = {s.fault_id: s.root_cause for s in fault_segments(dataset)}

    def row(metric: str, where: str, value: float) -> dict[str, Any]:
        return _row("classifier", spec, dataset.name, seed, metric, EVENT_SPLIT, where, value)

    rows = []
    for metric in (m for m in metrics if m.kind == "classification"):
        rows.append(row(metric.name, ALL, metric(truth, pred)))
        for key, value in breakdown_items(metric, truth, truth, pred).items():
            rows.append(row(metric.name, f"fault_type={key}", value))
        for target in sorted({c for cs in causes.values() for c in cs}):
            idx = np.array([target in causes.get(str(f), ()) for f in fw.fault_ids])
            if idx.any():
                rows.append(row(metric.name, f"target={target}", metric(truth[idx], pred[idx])))
    order = sorted(set(truth) | set(pred))
    for cls, stats in per_class_precision_recall(truth, pred, order).items():
        rows.append(row("class_precision", f"fault_type={cls}", stats["precision"]))
        rows.append(row("class_recall", f"fault_type={cls}", stats["recall"]))
    matrix, order = confusion_matrix(truth, pred, order)
    for i, true_cls in enumerate(order):
        for j, pred_cls in enumerate(order):
            rows.append(row("confusion", f"true={true_cls},pred={pred_cls}", float(matrix[i, j])))
    return rows
