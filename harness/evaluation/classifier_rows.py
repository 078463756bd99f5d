"""Scoring one fault-type classifier for one seed on one dataset: rows of the tidy table.

Classifiers see fault windows in seeded k-fold splits that keep every fault event's windows on
one side (:func:`event_folds`, protocol ``leave-events-out``); TELESTO's 3/1/1 protocol is
:mod:`.protocol_rows`. A window whose fault type no training fold held cannot be judged: it is
left out and that type's rows are ``nan`` with the reason, never 0.

Classifiers that scale by physical limits (``accepts_limits``: TELESTO, GCN, GIN) get them from
the dataset (:func:`~faultlab.detectors.preprocess.physical_limits`); deep ones report how they
trained as info rows (:func:`~.table.training_rows`, protocol ``training``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from faultlab.dataset import Dataset
from faultlab.detectors import FaultWindows
from faultlab.detectors.cmsf_gan import augment
from faultlab.detectors.preprocess import physical_limits
from faultlab.errors import BadInput
from faultlab.harness.evaluation.table import ALL, EVENT_SPLIT, FitRecord, MethodSpec, training_rows
from faultlab.harness.evaluation.table import row as table_row
from faultlab.harness.scoring import Metric, breakdown_items
from faultlab.harness.scoring.classification import confusion_matrix, per_class_precision_recall


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
    dataset: Dataset, spec: MethodSpec, seed: int, metrics: Sequence[Metric], fw: FaultWindows, folds: int
) -> list[dict[str, Any]]:
    """Cross-validated fault-type predictions over event-level folds, then one row per metric.

    ``fw`` are the dataset's fault windows (:func:`faultlab.detectors.fault_windows`, built once
    per dataset for every classifier and seed). A window whose fault type no training fold held
    cannot be judged (the model never saw the class): it is left out, and that type's rows are
    ``nan`` with the reason. Fewer than two events give ``nan`` rows for every metric rather
    than an error.
    """
    from faultlab.detectors import fault_segments, make_classifier

    chosen = [m for m in metrics if m.kind == "classification"]

    def row(metric: str, where: str, value: float, reason: str = "") -> dict[str, Any]:
        return table_row("classifier", spec, dataset.name, seed, metric, EVENT_SPLIT, where, value, reason)

    n_events = len(set(fw.fault_ids.tolist()))
    if n_events < 2:
        why = f"{n_events} labelled fault event(s): leave-events-out folds need at least 2"
        return [row(m.name, ALL, float("nan"), why) for m in chosen]
    fold = event_folds(fw.fault_ids, fw.labels, min(folds, n_events), seed)
    params, augmentation = split_augment(spec.params)
    truth = fw.labels.astype(str)
    predicted = np.full(len(truth), "", dtype=object)
    judged = np.zeros(len(truth), dtype=bool)
    limits = physical_limits(dataset, fw.columns)
    fits: list[FitRecord] = []
    for k in np.unique(fold):
        test, train = fold == k, fold != k
        seen = set(truth[train].tolist())
        judge = test & np.isin(truth, sorted(seen))
        if not judge.any():
            continue
        model = make_classifier(spec.name, params, seed)
        real_w, real_y = fw.windows[train], fw.labels[train]
        kwargs: dict[str, Any] = {"columns": fw.columns, "graph": fw.graph}
        if getattr(model, "accepts_limits", False):
            kwargs["limits"] = limits
        share = float(getattr(model.params, "val_fraction", 0.0) or 0.0)
        if augmentation and getattr(model, "accepts_validation", False) and share > 0 and len(real_w) >= 4:
            # early stopping on the chronological tail of the real windows, never on generated ones
            cut = len(real_w) - max(1, round(len(real_w) * share))
            kwargs["validation"] = (real_w[cut:], real_y[cut:])
            real_w, real_y = real_w[:cut], real_y[:cut]
        windows, labels = augment(real_w, real_y, augmentation, seed)
        started = time.perf_counter()
        model.fit(windows, labels, **kwargs)
        fits.append(FitRecord.of(model, time.perf_counter() - started))
        predicted[judge] = model.predict(fw.windows[judge])
        judged |= judge
    unseen = sorted(set(truth[~judged].tolist()))
    unseen_why = "no training fold held this fault type (it occurs in one fault event only)"
    causes = {s.fault_id: s.root_cause for s in fault_segments(dataset)}
    ids, truth, pred = fw.fault_ids[judged], truth[judged], predicted[judged].astype(str)

    rows = training_rows("classifier", spec, dataset.name, seed, fits, curves=seed == spec.seeds[0])
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
    rows += class_rows(row, truth, pred)
    for cls in unseen:
        rows.append(row("class_precision", f"fault_type={cls}", float("nan"), unseen_why))
        rows.append(row("class_recall", f"fault_type={cls}", float("nan"), unseen_why))
    return rows


def class_rows(row: Callable[..., dict[str, Any]], truth: np.ndarray, pred: np.ndarray) -> list[dict[str, Any]]:
    """Per-class precision and recall and the confusion cells of pooled test predictions, as
    rows made by ``row(metric, breakdown, value, reason)`` (both protocols share them)."""
    out = []
    order = sorted(set(truth) | set(pred))
    for cls, stats in per_class_precision_recall(truth, pred, order).items():
        out.append(row("class_precision", f"fault_type={cls}", stats["precision"], "never predicted"))
        out.append(row("class_recall", f"fault_type={cls}", stats["recall"], "never the true class of a tested window"))
    matrix, order = confusion_matrix(truth, pred, order)
    for i, true_cls in enumerate(order):
        for j, pred_cls in enumerate(order):
            out.append(row("confusion", f"true={true_cls},pred={pred_cls}", float(matrix[i, j])))
    return out


def split_augment(params: Any) -> tuple[dict[str, Any], Any]:
    """A classifier's params without the reserved ``augment`` key, and that key's value (or None)."""
    rest = dict(params)
    spec = rest.pop("augment", None)
    per_class = spec.get("per_class") if isinstance(spec, dict) else None
    if spec is not None and (not isinstance(spec, dict) or not (per_class is None or (isinstance(per_class, int) and per_class >= 0))):
        raise BadInput(f"classifier parameter 'augment' must be a mapping like {{per_class: N}} with N >= 0, got {spec!r}")
    return rest, spec
