"""Which series of a recording sit outside their training range on fault-free test steps.

    .venv/bin/python benchmarks/drift.py bench-mixed ladder
    .venv/bin/python benchmarks/drift.py runs/<time>-bench-mixed --margin 0.1 --top 10 --json out.json
    .venv/bin/python benchmarks/drift.py bench-mixed --remove-drift   # what drift="trailing_median" leaves

Why: every seed detector compares the test part with what it learned in training, so a series
that drifts away from its training range makes it alarm on fault-free steps, fault or not. This
says which series do that, per series group, so that a detector's fault-free alarm rate can be
traced to the recording (a gauge that never comes back) or to the method.

For each column: the share of the fault-free test steps (not anomalous, not recovering) whose
value lies outside ``[min - m * span, max + m * span]`` of the fault-free training part (``span``
= max - min over training, ``m`` = ``--margin``, default 0.1). A column constant in training is
outside wherever it differs from that constant. Values are read as the dataset stores them
(counters as rates per second, gauges as levels).

It prints, per dataset and group, the mean share over the group's columns, how many columns are
outside on more than half of the fault-free steps, and the worst column; then the ``--top``
columns overall with their training range and fault-free test median.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from faultlab.dataset import METRIC_GROUPS, Dataset
from faultlab.detectors.preprocess import DriftBaseline
from faultlab.harness.datasets.index import resolve_dataset


def _outside(data: Dataset, margin: float, remove_drift_s: float | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(outside, training part, fault-free test values)``: ``outside`` is True per fault-free
    test step and column whose value lies beyond the widened training range."""
    train = data.train().metrics.astype(float)
    test = data.test()
    test_values = test.metrics.astype(float)
    if remove_drift_s is not None:
        kinds = data.columns.set_index("name")["kind"].reindex(train.columns).fillna("gauge")
        baseline = DriftBaseline.fit(train.to_numpy(), (kinds == "gauge").to_numpy(), remove_drift_s, data.scrape_interval_s)
        train = pd.DataFrame(baseline.remove(train.to_numpy()), index=train.index, columns=train.columns)
        test_values = pd.DataFrame(baseline.remove(test_values.to_numpy()), index=test_values.index, columns=test_values.columns)
    labels = test.labels
    free = (labels["anomaly"].to_numpy() == 0) & (labels["recovering"].to_numpy() == 0)
    values = test_values.loc[free]
    low, high = train.min(), train.max()
    span = high - low
    outside = (values.lt(low - margin * span) | values.gt(high + margin * span)) & values.notna()
    return outside, train, values


def drift(data: Dataset, margin: float = 0.1, remove_drift_s: float | None = None) -> pd.DataFrame:
    """One row per column: group, service, metric, share of fault-free test steps outside the training range.

    ``remove_drift_s``: first take each gauge's trailing median over that many seconds off, in
    training and test, as a detector with ``drift="trailing_median"`` sees them
    (:class:`faultlab.detectors.preprocess.DriftBaseline`, fitted on the training part only)."""
    outside, train, values = _outside(data, margin, remove_drift_s)
    low, high = train.min(), train.max()
    counted = values.notna().sum()
    table = data.columns.set_index("name")
    frame = pd.DataFrame({
        "dataset": data.name,
        "group": table["group"],
        "service": table["service"],
        "metric": table["metric"],
        "share_outside": (outside.sum() / counted.clip(lower=1)).where(counted > 0),
        "train_min": low,
        "train_max": high,
        "test_median": values.median(),
        "fault_free_steps": len(values),
    })
    order = {g: i for i, g in enumerate(METRIC_GROUPS)}  # cpu, memory, network, disk, application
    return frame.sort_values("group", key=lambda s: s.map(order), kind="stable")


def any_outside(data: Dataset, margin: float = 0.1, remove_drift_s: float | None = None) -> dict[str, float]:
    """Per group: the share of fault-free test steps on which at least one of its columns is outside.

    A detector that reconstructs a whole group (lstm_ae's radiographies) and thresholds the
    group's error at a training quantile sees such a step as unlike training, so this bounds how
    quiet it can be on fault-free steps."""
    outside, _, _ = _outside(data, margin, remove_drift_s)
    groups = data.columns.set_index("name")["group"].reindex(outside.columns)
    return {str(g): float(outside.loc[:, (groups == g).to_numpy()].any(axis=1).mean()) for g in groups.dropna().unique()}


def group_table(frame: pd.DataFrame, any_share: dict[str, float] | None = None) -> str:
    lines = ["| dataset | group | columns | mean share outside | columns > 50 % | worst column (share) | steps with any column outside |",
             "|---|---|---|---|---|---|---|"]
    for (dataset, group), part in frame.groupby(["dataset", "group"], sort=False):
        share = part["share_outside"].dropna()
        if share.empty:
            continue
        worst = share.idxmax()
        lines.append(f"| {dataset} | {group} | {len(share)} | {100 * share.mean():.1f} % | {int((share > 0.5).sum())} | "
                     f"{worst} ({100 * share[worst]:.0f} %) | {100 * (any_share or {}).get(group, float('nan')):.0f} % |")
    return "\n".join(lines)


def top_table(frame: pd.DataFrame, top: int) -> str:
    lines = ["| dataset | column | group | share outside | training range | fault-free test median |",
             "|---|---|---|---|---|---|"]
    for name, row in frame.sort_values("share_outside", ascending=False).head(top).iterrows():
        lines.append(f"| {row['dataset']} | {name} | {row['group']} | {100 * row['share_outside']:.0f} % | "
                     f"{row['train_min']:.4g} .. {row['train_max']:.4g} | {row['test_median']:.4g} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+", help="dataset names, dataset folders or run folders")
    parser.add_argument("--margin", type=float, default=0.1, help="share of the training span allowed on each side")
    parser.add_argument("--top", type=int, default=10, help="columns listed overall, per dataset")
    parser.add_argument("--json", type=Path, help="write every column's numbers here")
    parser.add_argument("--remove-drift", type=float, metavar="SECONDS", nargs="?", const=600.0,
                        help="first take each gauge's trailing median over SECONDS (default 600, the detectors' "
                             "drift option) off, as drift=trailing_median does")
    args = parser.parse_args(argv)
    datasets = [resolve_dataset(name) for name in args.datasets]
    frames = [drift(data, args.margin, args.remove_drift) for data in datasets]
    for data, frame in zip(datasets, frames, strict=True):
        print(group_table(frame, any_outside(data, args.margin, args.remove_drift)))
        print()
        print(top_table(frame, args.top))
        print()
    print(f"outside: beyond the fault-free training range widened by {100 * args.margin:g} % of its span on each side; "
          "share of the fault-free test steps (not anomalous, not recovering)")
    if args.json:
        rows = [dict(r, column=name) for f in frames for name, r in f.to_dict("index").items()]
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
