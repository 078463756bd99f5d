"""How far each fault's target still sits from its pre-fault level 60 s after the revert.

    .venv/bin/python benchmarks/fault_residue.py bench-mixed ladder telesto-catalog
    .venv/bin/python benchmarks/fault_residue.py runs/<time>-ladder --after-s 60 --json out.json

For every labelled fault of the datasets (names, dataset folders or run folders), and for its
target service, four resource series are compared (the same that the fault types act on):
``memory_bytes`` (the working set on recordings made since the exporter publishes it; the
cgroup's usage, page cache included, on older ones), ``cpu_cores``, disk bytes (read + write)
and network bytes (received + sent):

* ``before``: the mean over the 60 s before the fault was applied;
* ``during``: the mean over the fault;
* ``after``: the mean over the 10 s ending ``--after-s`` (default 60) after the revert, cut short
  where the next fault starts;
* ``residue``: (after - before) in units of the pre-fault noise (the standard deviation of the
  series over the training part's 60-s windows' means, so a slowly drifting series is judged by
  how much its 60-s level wanders without faults), and as a share of the fault's own effect
  (after - before) / (during - before).

It prints one table per fault type (median and worst |residue| per series) and, with ``--json``,
every fault's numbers. A residue above 3 noise units that is also above 20 % of the effect is
flagged: the target had not come back when the next minute's data was recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from faultlab.harness.datasets.index import resolve_dataset
from faultlab.harness.datasets.labels import fault_spans

SERIES = {"memory": ("memory_bytes",), "cpu": ("cpu_cores",), "disk": ("disk_read_bytes_per_s", "disk_write_bytes_per_s"),
          "network": ("rx_bytes_per_s", "tx_bytes_per_s")}
FLAG_NOISE, FLAG_SHARE = 3.0, 0.2


def series_of(data, service: str, names: Sequence[str]) -> pd.Series | None:
    """The sum of ``service``'s columns with these metric names (None when it has none of them)."""
    cols = data.columns
    picked = cols[(cols["service"] == service) & (cols["metric"].isin(names))]["name"].tolist()
    if not picked:
        return None
    return data.metrics[picked].astype(float).sum(axis=1)


def noise_of(series: pd.Series, train_end: pd.Timestamp) -> float:
    """The spread of the series' 60-s means over the fault-free training part."""
    train = series[series.index < train_end]
    means = train.resample("60s").mean().dropna()
    return float(means.std(ddof=1)) if len(means) > 2 else float(train.std(ddof=1))


def residues(data, after_s: float = 60.0) -> list[dict]:
    spans = [s for s in fault_spans(data.meta.get("faults", []) or []) if s.labelled and s.applied_at and s.reverted_at]
    spans.sort(key=lambda s: s.applied_at)
    train_end = pd.Timestamp(data.train_end)
    out = []
    for i, span in enumerate(spans):
        nxt = spans[i + 1].applied_at if i + 1 < len(spans) else data.metrics.index[-1]
        prev_end = spans[i - 1].reverted_at if i > 0 else train_end - pd.Timedelta(seconds=60)
        b0 = max(span.applied_at - pd.Timedelta(seconds=60), prev_end + pd.Timedelta(seconds=after_s))
        a1 = min(span.reverted_at + pd.Timedelta(seconds=after_s), nxt)
        a0 = a1 - pd.Timedelta(seconds=10)
        for target in span.targets:
            row = {"dataset": data.name, "fault_id": span.fault_id, "type": span.type, "target": target,
                   "after_s": round((a1 - span.reverted_at).total_seconds(), 1)}
            for group, names in SERIES.items():
                s = series_of(data, target, names)
                if s is None:
                    continue
                before = float(s[(s.index >= b0) & (s.index < span.applied_at)].mean())
                during = float(s[(s.index >= span.applied_at) & (s.index <= span.reverted_at)].mean())
                after = float(s[(s.index > a0) & (s.index <= a1)].mean())
                noise = noise_of(s, train_end)
                effect = during - before
                row[f"{group}_noise_units"] = (after - before) / noise if noise > 0 else float("nan")
                row[f"{group}_effect_share"] = (after - before) / effect if abs(effect) > 0 else float("nan")
                row[f"{group}_before"], row[f"{group}_after"] = before, after
            out.append(row)
    return out


def table(rows: list[dict]) -> str:
    frame = pd.DataFrame(rows)
    lines = ["| dataset | fault type | n | " + " | ".join(f"{g} residue (noise units, median / worst)" for g in SERIES)
             + " | flagged |", "|" + "---|" * (4 + len(SERIES))]
    for (dataset, fault_type), part in frame.groupby(["dataset", "type"], sort=True):
        cells, flagged = [], 0
        for group in SERIES:
            units = part.get(f"{group}_noise_units")
            if units is None or units.dropna().empty:
                cells.append("n/a")
                continue
            worst = units.loc[units.abs().idxmax()]
            cells.append(f"{units.median():+.1f} / {worst:+.1f}")
            share = part[f"{group}_effect_share"].abs()
            flagged += int(((units.abs() > FLAG_NOISE) & (share > FLAG_SHARE)).sum())
        lines.append(f"| {dataset} | {fault_type} | {len(part)} | " + " | ".join(cells) + f" | {flagged} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+", help="dataset names, dataset folders or run folders")
    parser.add_argument("--after-s", type=float, default=60.0, help="seconds after the revert (default 60)")
    parser.add_argument("--json", type=Path, help="write every fault's numbers here")
    args = parser.parse_args(argv)
    rows = [r for name in args.datasets for r in residues(resolve_dataset(name), args.after_s)]
    if not rows:
        print("no labelled faults", file=sys.stderr)
        return 1
    print(table(rows))
    print(f"\nflagged: |residue| > {FLAG_NOISE:g} noise units and > {100 * FLAG_SHARE:g} % of the fault's effect, "
          f"{args.after_s:g} s after the revert (or just before the next fault)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
