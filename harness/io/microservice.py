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

Labels: a fault covers ``time <= t <= time + duration_s``; a fault without a duration lasts
until the next fault starts (exclusive) or the data ends, as in single-fault RCA cases. The
services with metrics are the root-cause candidates; ``graph.json`` comes from ``edges.csv``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from faultlab.harness.io.parsing import (
    build_dataset,
    infer_interval_s,
    labels_frame,
    on_grid,
    parse_numbers,
    parse_timestamps,
    read_csv,
)

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.errors import BadInput

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


def _read_metric_files(folder: Path) -> list[tuple[str, Path, pd.DatetimeIndex, pd.DataFrame]]:
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
        out.append((file.stem, file, parse_timestamps(frame["timestamp"], file, "timestamp"), parse_numbers(frame, file, metrics)))
    return out


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
            raise BadInput(f"{file}: line {i + 2}, column 'service': {service!r} has no metrics file (known: {', '.join(sorted(services))})")
        kind = frame["type"].iloc[i].strip()
        if not kind:
            raise BadInput(f"{file}: line {i + 2}, column 'type': empty fault type")
        start = starts[i]
        if durations is not None and not np.isnan(durations[i]):
            if durations[i] <= 0:
                raise BadInput(f"{file}: line {i + 2}, column 'duration_s': {durations[i]} is not > 0")
            end, closed = start + pd.Timedelta(seconds=float(durations[i])), True
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


def _graph(file: Path, services: list[str], rule: re.Pattern[str] | None) -> ServiceGraph:
    edges: list[dict[str, str]] = []
    if file.is_file():
        frame = read_csv(file)
        if not {"source", "target"} <= set(frame.columns):
            raise BadInput(f"{file}: needs columns source, target (caller -> callee)")
        for i, (src, dst) in enumerate(zip(frame["source"], frame["target"])):
            src, dst = _service_of(src.strip(), rule), _service_of(dst.strip(), rule)
            if not src or not dst:
                raise BadInput(f"{file}: line {i + 2}: empty source or target")
            edge = {"source": src, "target": dst}
            if src != dst and edge not in edges:
                edges.append(edge)
    names = list(dict.fromkeys(services + [e[k] for e in edges for k in ("source", "target")]))
    return ServiceGraph(nodes=[{"name": s, "kind": "service"} for s in names], edges=edges)


def import_microservice(
    path: str | Path,
    *,
    pod_rule: str | None = None,
    pod_aggregate: Literal["mean", "sum"] = "mean",
    name: str | None = None,
) -> Dataset:
    """Per-service columns, labels with root causes and the call graph from an RCA-style folder."""
    root = Path(path)
    if not (root / "metrics").is_dir():
        raise BadInput(f"{root}: not a microservice dataset folder (no metrics/ folder)")
    if pod_aggregate not in ("mean", "sum"):
        raise BadInput(f"pod_aggregate {pod_aggregate!r} is not mean or sum")
    rule = _compile(pod_rule)
    files = _read_metric_files(root / "metrics")
    interval_s = min(infer_interval_s(index, file) for _, file, index, _ in files)
    start = min(index[0] for *_, index, _ in files)
    end = max(index[-1] for *_, index, _ in files)
    per_column: dict[tuple[str, str], list[pd.Series]] = {}
    grid = None
    for pod, _file, index, values in files:
        grid, on, _ = on_grid(values, index, interval_s, start, end)
        for metric in values.columns:
            per_column.setdefault((_service_of(pod, rule), metric), []).append(on[metric])
    assert grid is not None
    services = list(dict.fromkeys(svc for svc, _ in per_column))
    keys = sorted(per_column, key=lambda k: (services.index(k[0]), k[1]))
    combined = {}
    for svc, metric in keys:
        stack = pd.concat(per_column[(svc, metric)], axis=1)
        combined[f"{svc}:{metric}"] = stack.sum(axis=1, min_count=1) if pod_aggregate == "sum" else stack.mean(axis=1)
    frame = pd.DataFrame(combined, index=grid)
    columns = [{"name": f"{s}:{m}", "service": s, "metric": m, "group": "application", "kind": "gauge", "unit": ""} for s, m in keys]
    faults_file = root / "faults.csv"
    faults = _faults(faults_file, set(services), rule, grid[-1]) if faults_file.is_file() else []
    dataset = build_dataset(
        grid, frame, _label(grid, faults),
        name=name or root.name, interval_s=interval_s, columns=columns,
        source={"format": "microservice", "path": str(root), "pod_rule": pod_rule, "pod_aggregate": pod_aggregate},
        candidates=services, graph=_graph(root / "edges.csv", services, rule),
    )
    dataset.meta["faults"] = [{k: v for k, v in f.items() if not k.startswith("_")} for f in faults]
    return dataset
