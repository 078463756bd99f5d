"""Several runs, bench folders, scores.json files or datasets side by side.

Each source becomes a tidy table (read from its scores.json, or, for a dataset, evaluated on
the spot with the given methods); :func:`side_by_side` turns them into one wide table: one row
per (kind, model, metric, protocol), one column per source (and dataset, when a source holds
several), the seed mean (and std) of the chosen breakdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.errors import BadInput
from faultlab.harness.evaluation import ALL
from faultlab.harness.reports.leaderboard import CLASSIFIER_HEADLINE, DETECTOR_HEADLINE, column_label
from faultlab.harness.reports.scores_file import read_scores, summarize

ROW_KEY = ["kind", "model", "metric", "protocol"]


@dataclass(frozen=True)
class Source:
    """One column group of the comparison: a label and its tidy table."""

    label: str
    table: pd.DataFrame


def load_source(source: str | Path, detectors: Sequence[Any] | None = None,
                classifiers: Sequence[Any] | None = None, seeds: Sequence[int] | None = None,
                floors: bool = True) -> Source:
    """A run/bench folder or scores.json is read; anything else is resolved as a dataset and scored.

    Datasets are scored with ``detectors``/``classifiers`` (default: every registered one) and,
    unless ``floors`` is False, the reference floors.
    """
    path = Path(source)
    if path.is_file() and path.suffix == ".json":
        return Source(path.parent.name or path.stem, read_scores(path))
    if path.is_dir() and (path / "scores.json").is_file():
        return Source(path.name, read_scores(path))
    from faultlab.detectors import CLASSIFIERS
    from faultlab.detectors.floors import scored_detectors
    from faultlab.harness.datasets.index import resolve_dataset
    from faultlab.harness.evaluation import run_evaluation

    try:
        data = resolve_dataset(source)
    except BadInput:
        raise BadInput(
            f"{source}: neither a run/bench folder with scores.json, a scores.json file, nor a dataset name or folder"
        ) from None
    table = run_evaluation(data, scored_detectors() if detectors is None else detectors,
                     CLASSIFIERS.names() if classifiers is None else classifiers, seeds, floors=floors).table
    return Source(data.name, table)


def _unique_labels(sources: Sequence[Source]) -> list[str]:
    labels: list[str] = []
    for s in sources:
        label, n = s.label, 2
        while label in labels:
            label, n = f"{s.label}#{n}", n + 1
        labels.append(label)
    return labels


def side_by_side(sources: Sequence[Source], metrics: Sequence[str] | None = None, breakdown: str = ALL) -> pd.DataFrame:
    """Wide table: ROW_KEY columns, then ``<source> mean`` / ``<source> std`` per source.

    ``metrics`` filters by metric name (default: the leaderboard's headline metrics).
    A source with several datasets gives one column group per dataset (``source/dataset``).
    """
    if not sources:
        raise BadInput("compare needs at least one run, scores.json or dataset")
    wanted = set(metrics) if metrics else {m for m, _ in DETECTOR_HEADLINE + CLASSIFIER_HEADLINE}
    merged: pd.DataFrame | None = None
    names: list[str] = []
    for label, source in zip(_unique_labels(sources), sources):
        part = source.table[(source.table["breakdown"] == breakdown) & source.table["metric"].isin(wanted)]
        many = part["dataset"].nunique() > 1
        for dataset, rows in part.groupby("dataset", sort=True):
            name = f"{label}/{dataset}" if many else label
            names.append(name)
            summary = summarize(rows)[[*ROW_KEY, "mean", "std"]]
            summary = summary.rename(columns={"mean": f"{name} mean", "std": f"{name} std"})
            merged = summary if merged is None else merged.merge(summary, on=ROW_KEY, how="outer")
    if merged is None:
        raise BadInput(f"no scores for metrics {sorted(wanted)} on breakdown {breakdown!r} in any source")
    order = {key: i for i, key in enumerate(DETECTOR_HEADLINE + CLASSIFIER_HEADLINE)}
    merged["_order"] = [order.get((m, p), len(order)) for m, p in zip(merged["metric"], merged["protocol"])]
    merged = merged.sort_values(["kind", "model", "_order", "metric", "protocol"], kind="stable").drop(columns="_order")
    merged.attrs["sources"] = names
    return merged.reset_index(drop=True)


def render_markdown(wide: pd.DataFrame) -> str:
    """``mean ± std`` cells, one column per source, the protocol in the metric label."""
    names = wide.attrs.get("sources") or [c[: -len(" mean")] for c in wide.columns if c.endswith(" mean")]
    header = ["kind", "model", "metric", *names]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for _, row in wide.iterrows():
        cells = []
        for name in names:
            mean, std = row[f"{name} mean"], row[f"{name} std"]
            if not np.isfinite(mean):
                cells.append("n/a")
            else:
                digits = 1 if abs(mean) >= 10 else 3
                cells.append(f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if np.isfinite(std) else ""))
        lines.append("| " + " | ".join([row["kind"], row["model"], column_label(row["metric"], row["protocol"]), *cells]) + " |")
    return "\n".join(lines) + "\n"
