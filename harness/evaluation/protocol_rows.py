"""Scoring classifiers under TELESTO's protocol (seed 001, sec. 3.1-3.3): rows of the tidy table.

The windows, folds and classified nodes come from :mod:`.protocol`; here every split trains one
model per split (validation fold for early stopping), and the rows are per split
(``split=<i>``), their mean (``all``, the paper's average), per fault type and node, per-class
precision/recall and confusion cells over the pooled test predictions. :func:`split_table`
lays them out as the paper's Table 3, next to its numbers. Models that scale by physical
limits get them from the dataset (sec. 3.2); deep ones add their training record as info rows
(protocol ``training``: epochs run and kept over the splits, fit time, the first split's losses).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset
from faultlab.detectors.cmsf_gan import augment
from faultlab.detectors.preprocess import physical_limits
from faultlab.harness.evaluation.classifier_rows import class_rows
from faultlab.harness.evaluation.protocol import (
    TELESTO_PROTOCOL,
    ProtocolData,
    ProtocolOptions,
    ProtocolUnavailable,
    protocol_windows,
    split_roles,
)
from faultlab.harness.evaluation.table import ALL, FitRecord, MethodSpec, training_rows
from faultlab.harness.evaluation.table import row as table_row
from faultlab.harness.scoring import breakdown_items


def score_protocol(
    dataset: Dataset, spec: MethodSpec, seed: int, metrics: Sequence[Any], options: ProtocolOptions | None = None,
    data: ProtocolData | None = None,
) -> list[dict[str, Any]]:
    """Rows of the tidy table for one classifier and seed under the protocol (n/a rows with a reason).

    ``data``: the dataset's protocol windows when the caller built them already (once per
    dataset for every classifier and seed)."""

    options = options or ProtocolOptions()
    chosen = [m for m in metrics if m.kind == "classification"]
    protocol = TELESTO_PROTOCOL + ("+cmsf_gan" if options.augment else "")

    def row(metric: str, where: str, value: float, reason: str = "") -> dict[str, Any]:
        return table_row("classifier", spec, dataset.name, seed, metric, protocol, where, value, reason)

    if data is None:
        try:
            data = protocol_windows(dataset, options)
        except ProtocolUnavailable as exc:
            return [row(m.name, ALL, np.nan, str(exc)) for m in chosen]

    with_extras = any(m.name == "macro_f1" for m in chosen)
    predicted = np.empty(len(data.labels), dtype=object)
    per_split: dict[str, list[float]] = defaultdict(list)
    rows: list[dict[str, Any]] = []
    limits = physical_limits(dataset, data.columns)
    fits: list[FitRecord] = []
    for split in range(data.n_splits):
        train, val, test = split_roles(data.folds, split, data.n_splits)
        if not test.any() or not train.any():
            continue
        model, fit_s = fit_split(dataset, spec, seed, data, split, limits, options)
        fits.append(FitRecord.of(model, fit_s))
        pred = np.asarray(model.predict(data.windows[test])).astype(str)
        predicted[test] = pred
        truth = data.labels[test]
        values = {m.name: float(m(truth, pred)) for m in chosen}
        if with_extras:
            values |= _macro_precision_recall(truth, pred)
        for name, value in values.items():
            per_split[name].append(value)
            rows.append(row(name, f"split={split + 1}", value, "undefined on this split"))
    rows += training_rows("classifier", spec, dataset.name, seed, fits, curves=seed == spec.seeds[0])
    if not per_split:
        return [row(m.name, ALL, np.nan, "no split had both training and test windows") for m in chosen]
    for name, values in per_split.items():
        rows.append(row(name, ALL, float(np.nanmean(values)) if np.isfinite(values).any() else np.nan, "undefined on every split"))
    done = np.array([p is not None for p in predicted])
    truth_all, pred_all = data.labels[done], predicted[done].astype(str)
    for metric in chosen:
        for key, value in breakdown_items(metric, truth_all, truth_all, pred_all).items():
            rows.append(row(metric.name, f"fault_type={key}", value, "undefined for this class"))
        if len(set(data.nodes.tolist())) > 1:
            for key, value in breakdown_items(metric, data.nodes[done], truth_all, pred_all).items():
                rows.append(row(metric.name, f"node={key}", value, "undefined for this node"))
    return rows + class_rows(row, truth_all, pred_all)


def fit_split(dataset: Dataset, spec: MethodSpec, seed: int, data: ProtocolData, split: int,
              limits: Any, options: ProtocolOptions | None = None) -> tuple[Any, float]:
    """``(fitted classifier, fit seconds)`` of split ``split`` (0-based): trained on its training
    folds (with generated windows when ``options.augment``), early-stopped on its validation fold
    where the model takes one, scaled by the dataset's physical ``limits`` where it takes them."""
    from faultlab.detectors import make_classifier

    options = options or ProtocolOptions()
    train, val, _ = split_roles(data.folds, split, data.n_splits)
    train_w, train_y = data.windows[train], data.labels[train]
    if options.augment:
        train_w, train_y = augment(train_w, train_y, {"per_class": None, **options.augment_params}, seed)
    model = make_classifier(spec.name, spec.params, seed)
    kwargs: dict[str, Any] = {"columns": data.columns, "graph": dataset.graph}
    if getattr(model, "accepts_validation", False) and val.any():
        kwargs["validation"] = (data.windows[val], data.labels[val])
    if getattr(model, "accepts_limits", False):
        kwargs["limits"] = limits
    started = time.perf_counter()
    model.fit(train_w, train_y, **kwargs)
    return model, time.perf_counter() - started


def _macro_precision_recall(truth: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Macro precision and recall over the classes present in ``truth`` (Table 3's rows)."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(truth.tolist()))
    p, r, _, _ = precision_recall_fscore_support(truth, pred, labels=labels, average="macro", zero_division=0)
    return {"macro_precision": float(p), "macro_recall": float(r)}


#: TELESTO's Table 3 (cassandra node): accuracy and F1 per split 1-5 and the mean.
PAPER_TABLE3: dict[tuple[str, str], list[float]] = {
    ("gcn", "accuracy"): [0.389, 0.463, 0.360, 0.398, 0.385, 0.399],
    ("gcn", "macro_f1"): [0.310, 0.436, 0.295, 0.269, 0.320, 0.326],
    ("gin", "accuracy"): [0.447, 0.455, 0.562, 0.452, 0.400, 0.463],
    ("gin", "macro_f1"): [0.421, 0.436, 0.564, 0.402, 0.335, 0.432],
    ("telesto", "accuracy"): [0.796, 0.804, 0.894, 0.822, 0.939, 0.851],
    ("telesto", "macro_f1"): [0.810, 0.764, 0.906, 0.844, 0.948, 0.854],
}


def split_table(table: pd.DataFrame, metrics: Sequence[str] = ("accuracy", "macro_f1"), paper: bool = True) -> pd.DataFrame:
    """Table 3's layout from protocol rows: one row per dataset/model/metric, a column per split
    and ``mean`` (each the mean over seeds, ``std`` over seeds of the mean), plus the paper's rows."""
    rows = table[table["protocol"].astype(str).str.startswith(TELESTO_PROTOCOL) & table["metric"].isin(list(metrics))]
    rows = rows[rows["breakdown"].astype(str).str.match(r"^(split=\d+|all)$")]
    if rows.empty:
        return pd.DataFrame()
    wide = rows.pivot_table(index=["dataset", "model", "protocol", "metric", "seed"], columns="breakdown", values="value")
    wide = wide.rename(columns={"all": "mean"})
    splits = sorted((c for c in wide.columns if c.startswith("split=")), key=lambda c: int(c.split("=")[1]))
    out = wide.groupby(level=["dataset", "model", "protocol", "metric"]).mean()[[*splits, "mean"]]
    out["std"] = wide["mean"].groupby(level=["dataset", "model", "protocol", "metric"]).std(ddof=1)
    out["seeds"] = wide["mean"].groupby(level=["dataset", "model", "protocol", "metric"]).count()
    out = out.reset_index()
    if paper:
        extra = [{"dataset": "paper (cassandra)", "model": m, "protocol": "Table 3", "metric": k,
                  **dict(zip([*splits[:5], "mean"], v[: len(splits[:5])] + [v[-1]]))}
                 for (m, k), v in PAPER_TABLE3.items() if k in metrics]
        out = pd.concat([out, pd.DataFrame(extra)], ignore_index=True)
    return out
