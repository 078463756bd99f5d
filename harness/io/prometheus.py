"""A dataset from any Prometheus: the testbed's catalogue or your own PromQL, labels from incidents.

``collect_any(url, start, end, labels=FILE, queries=FILE)`` wraps the testbed collector
(:func:`faultlab.harness.collect.collect_dataset`) for servers that are not the testbed's:

* **queries**: a YAML list of the series to collect, each ``{metric, query, kind, group, unit}``
  plus optional ``service`` (a fixed service name) and ``split_label``. A query without a fixed
  ``service`` must return a ``service`` label (rename one with PromQL's ``label_replace``,
  e.g. ``label_replace(rate(x[1m]), "service", "$1", "pod", "(.+)-[^-]+-[^-]+")``). ``counter``
  queries are raw counter selectors (rated per step, reset-aware); ``gauge`` queries are kept
  as they are, so a PromQL ``rate(...)`` is a gauge here.
* **labels**: a ground-truth journal (``*.jsonl``, Faultlab's own) or an incident CSV with
  columns ``start``, ``end``, ``service``, ``type`` (and optionally ``id``). Incidents become
  ground-truth records, so labelling follows :mod:`faultlab.harness.datasets.labels` exactly
  (``start <= t <= end``, overlaps joined).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.documents import read_document
from faultlab.errors import BadInput
from faultlab.harness.collect.catalog import MetricSpec
from faultlab.harness.io.parsing import parse_timestamps, read_csv
from faultlab.injectors.ground_truth import iso_ms

QUERY_FIELDS = {"metric", "query", "kind", "group", "unit", "service", "split_label", "divide_by"}


def read_queries(file: str | Path) -> list[MetricSpec]:
    """The YAML list of queries as catalogue entries; BadInput names the entry and field."""
    file = Path(file)
    doc = read_document(file, missing="no such queries file")
    entries = doc.get("queries") if isinstance(doc, Mapping) else doc
    if not isinstance(entries, list) or not entries:
        raise BadInput(f"{file}: expected a non-empty list of queries (or a mapping with 'queries:')")
    specs = []
    for i, entry in enumerate(entries):
        where = f"{file}: queries[{i}]"
        if not isinstance(entry, Mapping):
            raise BadInput(f"{where}: expected a mapping with metric, query, kind, group, unit")
        unknown = sorted(set(entry) - QUERY_FIELDS)
        if unknown:
            raise BadInput(f"{where}: unknown field {unknown[0]!r}; valid: {', '.join(sorted(QUERY_FIELDS))}")
        missing = [f for f in ("metric", "query") if not entry.get(f)]
        if missing:
            raise BadInput(f"{where}: field {missing[0]!r} is missing")
        try:
            specs.append(MetricSpec(
                metric=str(entry["metric"]), query=str(entry["query"]), group=str(entry.get("group", "application")),
                kind=entry.get("kind", "gauge"), unit=str(entry.get("unit", "")), service=entry.get("service"),
                split_label=entry.get("split_label"), divide_by=entry.get("divide_by"),
            ))
        except BadInput as exc:
            raise BadInput(f"{where}: {exc}") from None
    return specs


def incidents_to_records(file: str | Path) -> list[dict[str, Any]]:
    """An incident CSV (start, end, service, type[, id]) as ground-truth records."""
    file = Path(file)
    frame = read_csv(file)
    missing = [c for c in ("start", "end", "service", "type") if c not in frame.columns]
    if missing:
        raise BadInput(f"{file}: incident CSV needs columns start, end, service, type; missing {', '.join(missing)}")
    starts = parse_timestamps(frame["start"], file, "start", ordered=False)
    ends = parse_timestamps(frame["end"], file, "end", ordered=False)
    records = []
    for i in np.argsort(starts.asi8, kind="stable"):
        line = int(i) + 2
        if ends[i] < starts[i]:
            raise BadInput(f"{file}: line {line}, column 'end': {frame['end'].iloc[i]!r} is before the start")
        targets = [s.strip() for s in frame["service"].iloc[i].replace(";", ",").split(",") if s.strip()]
        kind = frame["type"].iloc[i].strip()
        if not targets or not kind:
            raise BadInput(f"{file}: line {line}: empty {'service' if not targets else 'type'}")
        given = frame["id"].iloc[i].strip() if "id" in frame.columns else ""
        records.append({
            "fault_id": given or f"i{len(records) + 1:03d}-{kind}", "type": kind, "targets": targets, "params": {},
            "mechanism": "incident", "applied_at": iso_ms(starts[i]), "reverted_at": iso_ms(ends[i]),
            "outcome": "reverted", "effect": None, "error": None,
        })
    return records


def read_label_records(file: str | Path) -> list[dict[str, Any]]:
    """Ground-truth records from a journal (``.jsonl``) or an incident CSV (``.csv``)."""
    from faultlab.harness.datasets.labels import read_ground_truth

    file = Path(file)
    if file.suffix == ".jsonl":
        return read_ground_truth(file)
    if file.suffix == ".csv":
        return incidents_to_records(file)
    raise BadInput(f"--labels {file}: expected a ground-truth journal (.jsonl) or an incident CSV (.csv)")


def collect_any(
    prometheus_url: str,
    start: Any,
    end: Any,
    *,
    step_s: float = 5.0,
    labels: str | Path | None = None,
    queries: str | Path | None = None,
    graph: str | Path | None = None,
    train_end: Any = None,
    name: str = "collected",
    groups: Sequence[str] | None = None,
) -> Dataset:
    """Collect ``start``..``end`` from any Prometheus into a Dataset (see the module docstring)."""
    from faultlab.harness.collect import collect_dataset
    from faultlab.harness.collect.transform import to_utc
    from faultlab.harness.datasets.labels import labels_from_ground_truth

    records = read_label_records(labels) if labels is not None else []
    options: dict[str, Any] = {}
    if queries is not None:
        options["catalog"] = read_queries(queries)
    service_graph = None
    if graph is not None:
        graph_file = Path(graph)
        doc = read_document(graph_file, f"--graph {graph_file}")
        try:
            service_graph = ServiceGraph.from_json(doc)
        except (AttributeError, KeyError, TypeError) as exc:
            raise BadInput(f"--graph {graph_file}: not a service graph ({exc})") from None
    meta: dict[str, Any] = {"name": name, "faults": records}
    if train_end is not None:
        meta["train_end"] = iso_ms(to_utc(train_end))
    if labels is not None:
        meta["labels_from"] = str(labels)
    return collect_dataset(
        prometheus_url, start, end, step_s, groups=groups, graph=service_graph,
        labels=lambda grid: labels_from_ground_truth(records, grid), meta=meta, **options,
    )
