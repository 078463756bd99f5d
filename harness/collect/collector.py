"""From a Prometheus server and a time range to a :class:`faultlab.dataset.Dataset`.

The collector knows nothing about faults: labels come in ready-made (a DataFrame on the grid,
or a callable that builds one from the grid, e.g. ``faultlab.harness.datasets.labels.labels_from_ground_truth``
bound to the ground-truth records).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from prometheus_api_client import PrometheusConnect

from faultlab.dataset import LABEL_COLUMNS, OPTIONAL_LABEL_COLUMNS, Dataset, ServiceGraph
from faultlab.errors import BadInput, RunFailed
from faultlab.harness.collect.catalog import CATALOG, MetricSpec, select
from faultlab.harness.collect.fetch import MAX_POINTS_PER_QUERY, fetch_queries, make_client
from faultlab.harness.collect.transform import (
    ColumnKey,
    fill_gaps,
    grid_seconds,
    make_grid,
    spec_columns,
    to_utc,
)
from faultlab.injectors.ground_truth import iso_ms

#: The monitoring stack's own containers: not collected unless asked for, and then context only.
MONITORING_SERVICES = ("prometheus", "node-exporter", "container-exporter", "container-reader")

LabelsLike = pd.DataFrame | Callable[[pd.DatetimeIndex], pd.DataFrame] | None
TimeLike = Any  # datetime, pandas Timestamp, ISO 8601 string or unix seconds


@dataclass
class CollectedMetrics:
    """The aligned metrics of one collection, their fill mask and provenance."""

    metrics: pd.DataFrame  # index: the grid ("timestamp", UTC); one float column per series
    mask: pd.DataFrame  # same shape: True where the value was missing and filled
    columns: list[dict[str, str]]  # meta.json "columns" entries, in column order
    queries: list[str] = field(default_factory=list)
    raw_points: int = 0  # samples Prometheus returned, over all queries and chunks


def collect_metrics(
    prometheus_url: str,
    start: TimeLike,
    end: TimeLike,
    step_s: float = 5.0,
    groups: Iterable[str] | None = None,
    services: Iterable[str] | None = None,
    *,
    catalog: Sequence[MetricSpec] = CATALOG,
    rate_window_s: float | None = None,
    max_points: int = MAX_POINTS_PER_QUERY,
    max_workers: int = 8,
    client: PrometheusConnect | None = None,
    monitoring: bool = False,
) -> CollectedMetrics:
    """Fetch the chosen groups' series and align them on one grid of ``step_s`` from start to end.

    ``start`` is floored to a whole second (Prometheus's client sends whole seconds).
    ``rate_window_s`` (default ``4 * step_s``) is the PromQL window for derived quantiles.
    The monitoring stack's own series (:data:`MONITORING_SERVICES`) are dropped unless
    ``monitoring`` is set or ``services`` names them: a detector should not alarm on the
    measuring instrument.
    """
    start_ts, end_ts = to_utc(start).floor("s"), to_utc(end)
    if end_ts < start_ts:
        raise BadInput(f"collection end {iso_ms(end_ts)} is before its start {iso_ms(start_ts)}")
    if not step_s > 0:
        raise BadInput(f"step_s must be > 0, got {step_s}")
    window_s = rate_window_s if rate_window_s is not None else 4 * step_s
    groups = list(groups) if groups is not None else None
    services = list(services) if services is not None else None
    specs = select(groups, catalog)
    wanted = None if services is None else set(services)
    grid = make_grid(start_ts, end_ts, step_s)
    # One extra step before the start so that a counter's first row has a rate too.
    grid_s = grid_seconds(make_grid(start_ts - pd.Timedelta(seconds=step_s), end_ts, step_s))

    queries = [q for spec in specs for q in spec.queries(window_s)]
    own_client = client is None
    client = client or make_client(prometheus_url)
    try:
        results = fetch_queries(
            client, queries, float(grid_s[0]), float(grid_s[-1]), step_s, max_points=max_points, max_workers=max_workers
        )
    finally:
        if own_client:
            client.close()
    raw_points = sum(len(s.values) for series in results.values() for s in series)

    columns: dict[ColumnKey, np.ndarray] = {}
    specs_of: dict[ColumnKey, MetricSpec] = {}
    skipped = set() if monitoring else set(MONITORING_SERVICES) - (wanted or set())
    for spec in specs:
        for key, values in spec_columns(spec, results, grid_s, window_s, wanted).items():
            if key[0] in skipped:
                continue
            if np.isnan(values[1:]).all():
                continue  # nothing measured inside the range: no column rather than one made up
            columns[key] = values[1:]
            specs_of[key] = spec
    if not columns:
        raise RunFailed(
            f"Prometheus at {prometheus_url} returned no series for groups {groups if groups is not None else 'all'} "
            f"between {iso_ms(start_ts)} and {iso_ms(end_ts)}: is that the run's time range?"
        )
    order = _column_order(specs_of, specs, services)
    frame = pd.DataFrame({f"{svc}:{met}": columns[(svc, met)] for svc, met in order}, index=grid, dtype=np.float64)
    filled, mask = fill_gaps(frame)
    meta_columns = [
        {
            "name": f"{svc}:{met}",
            "service": svc,
            "metric": met,
            "group": specs_of[(svc, met)].group,
            "kind": specs_of[(svc, met)].column_kind,
            "unit": specs_of[(svc, met)].unit,
        }
        for svc, met in order
    ]
    return CollectedMetrics(filled, mask, meta_columns, queries=list(dict.fromkeys(queries)), raw_points=raw_points)


def _column_order(
    specs_of: Mapping[ColumnKey, MetricSpec], specs: Sequence[MetricSpec], services: Iterable[str] | None
) -> list[ColumnKey]:
    """Service-major (the given order, else alphabetical), then catalogue order, then metric name."""
    service_rank = {s: i for i, s in enumerate(services)} if services is not None else {}
    spec_rank = {id(spec): i for i, spec in enumerate(specs)}

    def rank(key: ColumnKey) -> tuple[Any, ...]:
        svc, met = key
        return (service_rank.get(svc, math.inf), svc, spec_rank[id(specs_of[key])], met)

    return sorted(specs_of, key=rank)


def no_fault_labels(index: pd.DatetimeIndex) -> pd.DataFrame:
    """Labels for a run without faults: every step normal."""
    return pd.DataFrame(
        {"anomaly": np.zeros(len(index), dtype=np.int8), "fault_type": "", "root_cause": "", "fault_id": ""},
        index=index,
    )


def _resolve_labels(labels: LabelsLike, grid: pd.DatetimeIndex) -> pd.DataFrame:
    frame = no_fault_labels(grid) if labels is None else labels(grid) if callable(labels) else labels
    missing = [c for c in LABEL_COLUMNS if c not in frame.columns]
    if missing:
        raise BadInput(f"labels: missing column(s) {missing}; expected {list(LABEL_COLUMNS)}")
    frame = frame.copy()
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC") if frame.index.tz else pd.DatetimeIndex(
        frame.index
    ).tz_localize("UTC")
    aligned = frame.reindex(grid)
    uncovered = int(aligned["anomaly"].isna().sum())
    if uncovered:
        raise BadInput(f"labels: {uncovered} of {len(grid)} time steps of the metrics grid have no label row")
    aligned["anomaly"] = aligned["anomaly"].astype(np.int8)
    for col in ("fault_type", "root_cause", "fault_id"):
        aligned[col] = aligned[col].fillna("").astype(str)
    extra = [c for c in OPTIONAL_LABEL_COLUMNS if c in aligned.columns]
    for col in extra:
        aligned[col] = aligned[col].fillna(0).astype(np.int8)
    return aligned[[*LABEL_COLUMNS, *extra]]


def collect_dataset(
    prometheus_url: str,
    start: TimeLike,
    end: TimeLike,
    step_s: float = 5.0,
    groups: Iterable[str] | None = None,
    services: Iterable[str] | None = None,
    graph: ServiceGraph | Mapping[str, Any] | None = None,
    labels: LabelsLike = None,
    meta: Mapping[str, Any] | None = None,
    **options: Any,
) -> Dataset:
    """Collect a run's metrics into a Dataset (see ``faultlab.dataset`` for the format).

    ``labels`` is a DataFrame on the grid or a callable ``grid -> DataFrame``; None means no
    faults. ``meta`` entries (``name``, ``train_end``, ``faults``, provenance) are kept and win
    over the collector's. ``options`` go to :func:`collect_metrics` (catalog, rate_window_s,
    max_points, max_workers, client, monitoring).

    ``meta["candidates"]`` lists the graph's nodes that have series (the services and databases
    faults can target); every other collected service (host, load generator, and the
    monitoring stack when asked for) is context: evidence, never a suspect.
    """
    groups = list(groups) if groups is not None else None
    services = list(services) if services is not None else None
    collected = collect_metrics(prometheus_url, start, end, step_s, groups, services, **options)
    grid = pd.DatetimeIndex(collected.metrics.index)
    if graph is None:
        graph = ServiceGraph([], [])
    elif not isinstance(graph, ServiceGraph):
        graph = ServiceGraph.from_json(dict(graph))
    full_meta: dict[str, Any] = {
        "name": "collected",
        "scrape_interval_s": float(step_s),
        "start": iso_ms(grid[0]),
        "end": iso_ms(grid[-1]),
        "columns": collected.columns,
        "collection": {
            "prometheus_url": prometheus_url,
            "groups": groups,
            "services": services,
            "rate_window_s": options.get("rate_window_s") or 4 * step_s,
            "monitoring": bool(options.get("monitoring", False)),
            "queries": collected.queries,
            "raw_points": collected.raw_points,
        },
    }
    present = {c["service"] for c in collected.columns}
    if graph.names:
        full_meta["candidates"] = [n for n in graph.names if n in present]
    full_meta.update(dict(meta or {}))
    return Dataset(
        metrics=collected.metrics,
        labels=_resolve_labels(labels, grid),
        graph=graph,
        meta=full_meta,
        mask=collected.mask,
    )
