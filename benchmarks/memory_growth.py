"""Memory growth without faults: MB per hour per service, from a recorded run.

A fault-free service should hold its memory flat; a slope there is either the service's real
behaviour (a database warming its cache, data that grows) or an artefact of the testbed (an
unbounded dict, the allocator keeping freed pages, the load generator's own statistics), and
either way it is what a memory detector sees as drift. Record the scenario, then read the run:

    faultlab run benchmarks/memory_growth.yaml            # 60 fault-free minutes, 1 s scrapes
    python benchmarks/memory_growth.py runs/<time>-fault-free-60min [--skip-s 300] [--span-s S] [--json FILE]

RUN_FOLDER may be a run folder (its ``dataset/`` is read) or a dataset folder. The fit uses the
fault-free part (before ``train_end``, anomalous and recovering steps dropped) after the first
``--skip-s`` seconds (start-up: imports, pools, caches filling), for ``--span-s`` seconds if given
(to compare two runs of different lengths over the same window). Per service and memory series
(``memory_bytes``, the working set; ``rss_bytes``; ``cache_bytes`` and ``memory_usage_bytes``
where the dataset has them) it prints the least-squares slope in MB/h (MB = 2**20 bytes) and the
mean of the first and last minute of that part, in MB. Datasets recorded before the working set
existed have no ``cache_bytes`` and their ``memory_bytes`` is the raw usage (page cache
included); the table says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faultlab.dataset import Dataset, load_dataset  # noqa: E402

MB = 2**20
METRICS = ("memory_bytes", "rss_bytes", "cache_bytes", "memory_usage_bytes")
EDGE_S = 60.0  # start/end levels: the mean of the first/last minute of the fitted part


def dataset_of(folder: Path) -> Dataset:
    """The dataset of a run folder (its ``dataset/``) or of a dataset folder."""
    return load_dataset(folder / "dataset" if (folder / "dataset" / "meta.json").exists() else folder)


def fault_free(ds: Dataset, skip_s: float, span_s: float | None = None) -> pd.DataFrame:
    """The fault-free rows before ``train_end``, from ``skip_s`` after the first row on (for
    ``span_s`` seconds when given)."""
    metrics = ds.metrics
    quiet = (ds.labels["anomaly"].to_numpy() == 0)
    if "recovering" in ds.labels:
        quiet &= ds.labels["recovering"].to_numpy() == 0
    start = metrics.index[0] + pd.Timedelta(seconds=skip_s)
    keep = quiet & (metrics.index >= start)
    if span_s is not None:
        keep &= metrics.index <= start + pd.Timedelta(seconds=span_s)
    if ds.meta.get("train_end"):
        keep &= metrics.index < ds.train_end
    return metrics[keep]


def slope_mb_per_h(hours: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope of ``values`` (bytes) over ``hours``, in MB/h."""
    x = hours - hours.mean()
    return float((x * (values - values.mean())).sum() / (x * x).sum()) / MB


def growth_table(ds: Dataset, skip_s: float = 300.0, span_s: float | None = None) -> list[dict]:
    """One row per service with memory columns: slope and start/end level of each series."""
    part = fault_free(ds, skip_s, span_s)
    if len(part) < 3:
        raise SystemExit(f"{ds.path}: fewer than 3 fault-free steps after the first {skip_s:g} s")
    seconds = (part.index - part.index[0]).total_seconds().to_numpy()
    hours = seconds / 3600.0
    first, last = seconds <= EDGE_S, seconds >= seconds[-1] - EDGE_S
    rows = []
    for service in ds.services:
        row: dict = {"service": service}
        for metric in METRICS:
            name = ds.column_for(service, metric)
            if name is None:
                continue
            values = part[name].to_numpy(dtype=np.float64)
            ok = np.isfinite(values)
            if ok.sum() < 3:
                continue
            row[metric] = {
                "mb_per_h": round(slope_mb_per_h(hours[ok], values[ok]), 3),
                "start_mb": round(float(np.nanmean(values[first])) / MB, 2),
                "end_mb": round(float(np.nanmean(values[last])) / MB, 2),
            }
        if len(row) > 1:
            rows.append(row)
    return rows


def memory_meaning(ds: Dataset) -> str:
    """What ``memory_bytes`` is in this dataset (from the queries its collection ran)."""
    queries = (ds.meta.get("collection") or {}).get("queries") or []
    if "container_memory_working_set_bytes" in queries:
        return "memory_bytes = working set (usage - inactive file cache)"
    if "container_memory_usage_bytes" in queries:
        return "memory_bytes = raw cgroup usage incl. page cache (recorded before the working set)"
    return "memory_bytes: meaning not recorded"


def print_table(rows: list[dict], out: TextIO | None = None) -> None:
    """The rows as a fixed-width table (services down, series across)."""
    out = out or sys.stdout
    present = [m for m in METRICS if any(m in r for r in rows)]
    head = f"{'service':<20}" + "".join(f"{m + ' MB/h':>26}{'start->end MB':>18}" for m in present)
    print(head, file=out)
    for r in rows:
        cells = []
        for m in present:
            if m in r:
                v = r[m]
                cells.append(f"{v['mb_per_h']:>26.2f}{v['start_mb']:>9.1f}->{v['end_mb']:<7.1f}")
            else:
                cells.append(f"{'-':>26}{'':>18}")
        print(f"{r['service']:<20}" + "".join(cells), file=out)


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a run folder (runs/<time>-<name>) or a dataset folder")
    parser.add_argument("--skip-s", type=float, default=300.0, help="start-up seconds left out of the fit (300)")
    parser.add_argument("--span-s", type=float, help="fit only this many seconds after the skipped start (default: all)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    ds = dataset_of(args.folder)
    rows = growth_table(ds, args.skip_s, args.span_s)
    part = fault_free(ds, args.skip_s, args.span_s)
    span_min = (part.index[-1] - part.index[0]).total_seconds() / 60
    print(f"{ds.path}: {len(part)} fault-free steps over {span_min:.1f} min after the first {args.skip_s:g} s; "
          f"{memory_meaning(ds)}")
    print_table(rows)
    if args.json:
        body = {"dataset": str(ds.path), "skip_s": args.skip_s, "span_s": args.span_s, "rows": rows}
        args.json.write_text(json.dumps(body, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
