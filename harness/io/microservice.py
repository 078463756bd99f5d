"""A microservice root-cause layout, as RCA datasets ship them (one metrics file per service or pod).

::

    ROOT/metrics/<service or pod>.csv   ``timestamp`` column, then one column per metric
    ROOT/faults.csv                     ``time`` (or ``start``), ``service``, ``type``, optional ``duration_s``
    ROOT/edges.csv                      optional call graph: ``source``, ``target`` (caller -> callee)

A pod maps to its service through ``pod_rule``, a regular expression whose first group (or
group ``service``) is the service, e.g. ``^(.+)-[a-z0-9]+-[a-z0-9]{5}$`` for Kubernetes
Deployment pods; the pods of one service are combined per metric (``pod_aggregate``: mean or
sum). Without a rule each file is one service. Columns are ``<service>:<metric>`` and the column
table records the service and metric, so service names may contain ``:`` or ``/``.

Groups and units come from the metric names by the table of
:mod:`faultlab.harness.io.metric_table` (cpu/cpu_usage -> cpu in cores or %, mem/rss/working_set
-> memory in bytes, rx/tx/bytes_sent -> network, disk/io/fs/read/write -> disk,
latency/duration -> application in s or ms, error/request/qps -> application);
``columns=FILE`` (CSV or YAML: name, group, unit, optional kind) overrides it.

Labels: a fault of ``duration_s`` d starting at t covers the steps in ``[t, t + d)`` (its end
is exclusive, as the time it was reverted); a fault without a duration lasts until the next
fault starts (exclusive) or to the last step, as in single-fault RCA cases. The services with
metrics are the root-cause candidates; ``graph.json`` keeps the edges of ``edges.csv`` between
them (edges to services without metrics are dropped and counted). The training part is the
rows before the first fault, unless ``train_end`` (a timestamp or a row count) says otherwise;
the import summary reports it.

The files' rows go onto one regular grid of the smallest median interval (``fill_gaps=true``,
the default: files scraped at different moments must share one time axis; the added steps
and filled values are counted). ``fill_gaps=false`` keeps the union of the files' own
timestamps. ``order=sort`` sorts and de-duplicates each file's rows, counted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.errors import BadInput
from faultlab.harness.io.metric_table import apply_columns_file, guessed_table
from faultlab.harness.io.parsing import (
    arrange_rows,
    build_dataset,
    infer_interval_s,
    labels_frame,
    missing_steps,
    on_grid,
    parse_numbers,
    parse_timestamps,
    read_csv,
    resolve_train_end,
)
from faultlab.harness.io.summary import FROM_OPTION, ImportSummary

TIME_COLUMNS = ("time", "start")


def _service_of(pod: str, rule: re.Pattern[str] | None) -> str:
    if rule is None:
        return pod
    match = rule.fullmatch(pod) or rule.match(pod)
    if not match:
        return pod
    groups = match.groupdict()
    return groups.get("service") or (match.group(1) if rule.groups else match.group(0))


def _compile(rule: str | None) -> re.Pattern[str] | None:
    if not rule:
        return None
    try:
        return re.compile(rule)
    except re.error as exc:
        raise BadInput(f"pod_rule {rule!r} is not a valid regular expression ({exc})") from None


def _read_metric_files(
    folder: Path, order: str, summary: ImportSummary
) -> list[tuple[str, Path, pd.DatetimeIndex, pd.DataFrame]]:
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise BadInput(f"{folder}: no metric CSV files (one per service or pod)")
    out = []
    for file in files:
        frame = read_csv(file)
        if "timestamp" not in frame.columns:
            raise BadInput(f"{file}: no 'timestamp' column")
        metrics = [c for c in frame.columns if c != "timestamp"]
        if not metrics:
            raise BadInput(f"{file}: no metric columns besides 'timestamp'")
        index = parse_timestamps(frame["timestamp"], file, "timestamp", ordered=False)
        keep = arrange_rows(index, file, "timestamp", order, summary, cells=frame["timestamp"])
        values = parse_numbers(frame, file, metrics, summary=summary).iloc[keep].reset_index(drop=True)
        out.append((file.stem, file, index[keep], values))
    return out


def _timeline(
    files: list[tuple[str, Path, pd.DatetimeIndex, pd.DataFrame]], fill_gaps: bool, summary: ImportSummary
) -> tuple[pd.DatetimeIndex, float, list[pd.DataFrame]]:
    """One time axis for every file (the regular grid, or the union of their timestamps) and each file on it."""
    interval_s = min(infer_interval_s(index, file) for _, file, index, _ in files)
    summary.gaps_filled = bool(fill_gaps)
    if not fill_gaps:
        steps = pd.DatetimeIndex(sorted(set().union(*(set(index) for *_, index, _ in files))), name="timestamp")
        summary.gap_steps = missing_steps(steps, interval_s)
        frames = [values.set_axis(index, axis=0).reindex(steps) for *_, index, values in files]
        return steps, interval_s, frames
    start = min(index[0] for *_, index, _ in files)
    end = max(index[-1] for *_, index, _ in files)
    frames, reached = [], set()
    steps = None
    for *_, index, values in files:
        steps, on, position = on_grid(values, index, interval_s, start, end)
        summary.rows_merged += len(position) - len(np.unique(position))
        reached.update(position.tolist())
        frames.append(on)
    assert steps is not None
    summary.gap_steps = len(steps) - len(reached)
    return steps, interval_s, frames


def _faults(file: Path, services: set[str], rule: re.Pattern[str] | None, data_end: pd.Timestamp) -> list[dict[str, Any]]:
    frame = read_csv(file)
    time_col = next((c for c in TIME_COLUMNS if c in frame.columns), None)
    missing = [c for c in ("service", "type") if c not in frame.columns]
    if time_col is None or missing:
        raise BadInput(f"{file}: needs columns time (or start), service, type; missing {missing or ['time']}")
    starts = parse_timestamps(frame[time_col], file, time_col, ordered=False)
    durations = parse_numbers(frame, file, ["duration_s"])["duration_s"].to_numpy() if "duration_s" in frame.columns else None
    order = np.argsort(starts.asi8, kind="stable")
    faults = []
    for k, i in enumerate(order):
        service = _service_of(frame["service"].iloc[i].strip(), rule)
        if service not in services:
            known = ", ".join(sorted(services))
            raise BadInput(f"{file}: line {i + 2}, column 'service': {service!r} has no metrics file (known: {known})")
        kind = frame["type"].iloc[i].strip()
        if not kind:
            raise BadInput(f"{file}: line {i + 2}, column 'type': empty fault type")
        start = starts[i]
        if durations is not None and not np.isnan(durations[i]):
            if durations[i] <= 0:
                raise BadInput(f"{file}: line {i + 2}, column 'duration_s': {durations[i]} is not > 0")
            end, closed = start + pd.Timedelta(seconds=float(durations[i])), False  # [t, t + d)
        elif k + 1 < len(order):
            end, closed = starts[order[k + 1]], False
        else:
            end, closed = data_end, True
        faults.append({"fault_id": f"f{k + 1:03d}-{kind}", "type": kind, "targets": [service], "params": {},
                       "applied_at": start.isoformat(), "reverted_at": end.isoformat(), "outcome": "applied",
                       "_start": start, "_end": end, "_closed": closed})
    return faults


def _label(grid: pd.DatetimeIndex, faults: list[dict[str, Any]]) -> pd.DataFrame:
    n = len(grid)
    anomaly = np.zeros(n, dtype=np.int8)
    ids: list[list[str]] = [[] for _ in range(n)]
    kinds: list[list[str]] = [[] for _ in range(n)]
    causes: list[list[str]] = [[] for _ in range(n)]
    for fault in faults:
        inside = (grid >= fault["_start"]) & ((grid <= fault["_end"]) if fault["_closed"] else (grid < fault["_end"]))
        for i in np.flatnonzero(inside):
            anomaly[i] = 1
            ids[i].append(fault["fault_id"])
            kinds[i].append(fault["type"])
            causes[i] += [t for t in fault["targets"] if t not in causes[i]]
    return labels_frame(grid, anomaly, fault_id=[",".join(x) for x in ids], fault_type=[",".join(x) for x in kinds],
                        root_cause=[",".join(x) for x in causes])


def _graph(file: Path, services: list[str], rule: re.Pattern[str] | None, summary: ImportSummary) -> ServiceGraph:
    """The call graph among the services with metrics; edges to or from others are dropped and counted."""
    edges: list[dict[str, str]] = []
    dropped: set[str] = set()
    if file.is_file():
        frame = read_csv(file)
        if not {"source", "target"} <= set(frame.columns):
            raise BadInput(f"{file}: needs columns source, target (caller -> callee)")
        for i, (src, dst) in enumerate(zip(frame["source"], frame["target"])):
            src, dst = _service_of(src.strip(), rule), _service_of(dst.strip(), rule)
            if not src or not dst:
                raise BadInput(f"{file}: line {i + 2}: empty source or target")
            edge = {"source": src, "target": dst}
            if src == dst or edge in edges:
                continue
            if src not in services or dst not in services:
                summary.edges_dropped += 1
                dropped.update(s for s in (src, dst) if s not in services)
                continue
            edges.append(edge)
    if dropped:
        shown = ", ".join(sorted(dropped)[:5]) + (" ..." if len(dropped) > 5 else "")
        summary.warnings.append(f"{file}: {summary.edges_dropped} edge(s) dropped: no metrics for {shown}")
    return ServiceGraph(nodes=[{"name": s, "kind": "service"} for s in services], edges=edges)


def import_microservice(
    path: str | Path,
    *,
    pod_rule: str | None = None,
    pod_aggregate: Literal["mean", "sum"] = "mean",
    name: str | None = None,
    fill_gaps: bool = True,
    order: str = "strict",
    train_end: Any = None,
    columns: str | None = None,
) -> Dataset:
    """Per-service columns, labels with root causes and the call graph from an RCA-style folder."""
    root = Path(path)
    if not (root / "metrics").is_dir():
        raise BadInput(f"{root}: not a microservice dataset folder (no metrics/ folder)")
    if pod_aggregate not in ("mean", "sum"):
        raise BadInput(f"pod_aggregate {pod_aggregate!r} is not mean or sum")
    rule = _compile(pod_rule)
    summary = ImportSummary()
    files = _read_metric_files(root / "metrics", order, summary)
    grid, interval_s, frames = _timeline(files, fill_gaps, summary)
    per_column: dict[tuple[str, str], list[pd.Series]] = {}
    for (pod, *_), on in zip(files, frames):
        for metric in on.columns:
            per_column.setdefault((_service_of(pod, rule), metric), []).append(on[metric])
    services = list(dict.fromkeys(svc for svc, _ in per_column))
    keys = sorted(per_column, key=lambda k: (services.index(k[0]), k[1]))
    combined = {}
    for svc, metric in keys:
        stack = pd.concat(per_column[(svc, metric)], axis=1)
        combined[f"{svc}:{metric}"] = stack.sum(axis=1, min_count=1) if pod_aggregate == "sum" else stack.mean(axis=1)
    frame = pd.DataFrame(combined, index=grid)
    table = guessed_table([(f"{s}:{m}", s, m) for s, m in keys])
    if columns:
        table = apply_columns_file(table, columns)
    faults_file = root / "faults.csv"
    faults = _faults(faults_file, set(services), rule, grid[-1]) if faults_file.is_file() else []
    split = resolve_train_end(train_end, grid)
    dataset = build_dataset(
        grid, frame, _label(grid, faults),
        name=name or root.name, interval_s=interval_s, columns=table,
        source={"format": "microservice", "path": str(root), "pod_rule": pod_rule, "pod_aggregate": pod_aggregate,
                "fill_gaps": bool(fill_gaps), "order": order, "columns": str(columns) if columns else None},
        candidates=services, graph=_graph(root / "edges.csv", services, rule, summary),
        train_end=split, train_source=FROM_OPTION, summary=summary,
    )
    dataset.meta["faults"] = [{k: v for k, v in f.items() if not k.startswith("_")} for f in faults]
    return dataset
