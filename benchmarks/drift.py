"""Which series of a recording sit outside their training range on fault-free test steps.

    .venv/bin/python benchmarks/drift.py bench-mixed ladder
    .venv/bin/python benchmarks/drift.py runs/<time>-bench-mixed --margin 0.1 --top 10 --json out.json

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
from faultlab.harness.datasets.index import resolve_dataset


def drift(data: Dataset, margin: float = 0.1) -> pd.DataFrame:
    """One row per column: group, service, metric, share of fault-free test steps outside the training range."""
    train = data.train().metrics.astype(float)
    test = data.test()
    labels = test.labels
    free = (labels["anomaly"].to_numpy() == 0) & (labels["recovering"].to_numpy() == 0)
    values = test.metrics.astype(float).loc[free]
    low, high = train.min(), train.max()
    span = high - low
    outside = (values.lt(low - margin * span) | values.gt(high + margin * span)) & values.notna()
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
        "fault_free_steps": int(free.sum()),
    })
    order = {g: i for i, g in enumerate(METRIC_GROUPS)}  # cpu, memory, network, disk, application
    return frame.sort_values("group", key=lambda s: s.map(order), kind="stable")


def group_table(frame: pd.DataFrame) -> str:
    lines = ["| dataset | group | columns | mean share outside | columns > 50 % | worst column (share) |",
             "|---|---|---|---|---|---|"]
    for (dataset, group), part in frame.groupby(["dataset", "group"], sort=False):
        share = part["share_outside"].dropna()
        if share.empty:
            continue
        worst = share.idxmax()
        lines.append(f"| {dataset} | {group} | {len(share)} | {100 * share.mean():.1f} % | {int((share > 0.5).sum())} | "
                     f"{worst} ({100 * share[worst]:.0f} %) |")
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
    args = parser.parse_args(argv)
    frames = [drift(resolve_dataset(name), args.margin) for name in args.datasets]
    for frame in frames:
        print(group_table(frame))
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
