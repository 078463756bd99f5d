"""The on-disk dataset format and the one way every detector reads it.

A dataset folder (``runs/<run>/dataset/``) holds::

    metrics.parquet  one row per time step (column ``timestamp``, UTC), one float column per
                     series. Faultlab's collector names them ``"<service>:<metric>"`` (e.g.
                     ``"cart:cpu_cores"``), but a name is only a key: which service and metric a
                     column belongs to is read from the column table in meta.json, never parsed
                     from the name (foreign names such as ``"x_AWS::ECS::Fargate/cpu"`` are
                     fine). Counters are already per-second rates, gauges are values, one time
                     axis shared by all series, strictly increasing. Recorded datasets are on a
                     regular grid of ``scrape_interval_s``; an imported one may keep a foreign
                     file's irregular steps (import option ``fill_gaps=false``), and then
                     ``scrape_interval_s`` is their median spacing.
    mask.parquet     same shape, ``True`` where the value was missing (or non-finite in an imported
                     file) and filled (ffill/bfill).
    labels.parquet   one row per time step: ``timestamp``, ``anomaly`` (0/1), ``fault_type``
                     ("" when none), ``root_cause`` (comma-separated service names, "" when
                     none), ``fault_id`` ("" when none), ``recovering`` (0/1: after a fault's
                     revert, before the measured return to baseline; 0 when the file lacks it).
                     Built from the *actual* applied/reverted times in the ground-truth log.
    graph.json       ``{"nodes": [{"name", "kind"}], "edges": [{"source", "target"}]}``: caller
                     -> callee among services and databases.
    meta.json        ``format_version``, ``name``, ``scrape_interval_s``, ``start``, ``end``,
                     ``train_end`` (end of the fault-free period, ISO 8601), ``columns`` (one
                     object per metric column: ``name``, ``service``, ``metric``, ``group`` in
                     cpu/memory/network/disk/application, ``kind`` counter/gauge, ``unit``),
                     ``faults`` (the ground-truth records), ``candidates`` (services that can be
                     a root cause; the rest are context), plus free-form provenance.

The column table is the one source of truth for a column's service and metric. A dataset
without one (legacy, or built by hand) gets it derived once, at construction, from the text
before the first ':' of each name; loading a folder whose names and table disagree is BadInput.

Nothing here needs Docker: a recorded dataset is everything scoring needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.errors import BadInput

FORMAT_VERSION = 1
METRIC_GROUPS = ("cpu", "memory", "network", "disk", "application")
LABEL_COLUMNS = ("anomaly", "fault_type", "root_cause", "fault_id")
#: Optional label columns: filled with 0 when a labels file lacks them.
OPTIONAL_LABEL_COLUMNS = ("recovering",)
TABLE_FIELDS = ("name", "service", "metric", "group", "kind", "unit")


@dataclass(frozen=True)
class ServiceGraph:
    """Caller -> callee edges among services (and their databases)."""

    nodes: list[dict[str, str]]
    edges: list[dict[str, str]]

    @property
    def names(self) -> list[str]:
        return [n["name"] for n in self.nodes]

    def adjacency(self, order: list[str] | None = None) -> np.ndarray:
        """Dense 0/1 matrix ``A[i, j] = 1`` when ``order[i]`` calls ``order[j]``."""
        order = order or self.names
        index = {name: i for i, name in enumerate(order)}
        adj = np.zeros((len(order), len(order)), dtype=np.float32)
        for e in self.edges:
            if e["source"] in index and e["target"] in index:
                adj[index[e["source"]], index[e["target"]]] = 1.0
        return adj

    def edge_index(self, order: list[str] | None = None) -> np.ndarray:
        """``2 x E`` int64 array (PyTorch Geometric's ``edge_index`` layout)."""
        src, dst = np.nonzero(self.adjacency(order))
        return np.vstack([src, dst]).astype(np.int64)

    def to_json(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "edges": self.edges}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceGraph:
        return cls(nodes=list(data.get("nodes", [])), edges=list(data.get("edges", [])))


@dataclass(frozen=True)
class Dataset:
    """Aligned metrics, their missing-value mask, per-step labels, the service graph and meta."""

    metrics: pd.DataFrame  # index: DatetimeIndex (UTC) named "timestamp"; float columns
    labels: pd.DataFrame  # same index; LABEL_COLUMNS
    graph: ServiceGraph
    meta: dict[str, Any]
    mask: pd.DataFrame | None = None
    path: Path | None = field(default=None, compare=False)

    # ---- shape and column helpers -------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.meta.get("name", self.path.name if self.path else "dataset"))

    def __post_init__(self) -> None:
        # Derive the column table once for a dataset built without one, and refuse metric
        # columns the table does not describe (a table may describe more: column subsets
        # keep their parent's meta).
        for col in OPTIONAL_LABEL_COLUMNS:
            if col not in self.labels.columns:
                object.__setattr__(self, "labels", self.labels.assign(**{col: np.zeros(len(self.labels), dtype=np.int8)}))
        table = self.meta.get("columns")
        names = [str(c) for c in self.metrics.columns]
        if not table:
            object.__setattr__(self, "meta", {**self.meta, "columns": legacy_column_table(names)})
            return
        described = {str(row.get("name")) for row in table}
        missing = [n for n in names if n not in described]
        if missing:
            shown = ", ".join(repr(n) for n in missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise BadInput(f"dataset {self.name!r}: {len(missing)} metric column(s) have no row in meta columns: {shown}")

    @property
    def columns(self) -> pd.DataFrame:
        """One row per metric column, in column order: name, service, metric, group, kind, unit."""
        cols = pd.DataFrame(self.meta["columns"]).drop_duplicates("name", keep="first")
        for fld, default in (("group", "application"), ("kind", "gauge"), ("unit", "")):
            if fld not in cols:
                cols[fld] = default
        cols = cols[list(TABLE_FIELDS)]
        # Name the target index: reindexing by the unnamed column Index would drop "name".
        return cols.set_index("name").reindex(pd.Index(self.metrics.columns, name="name")).reset_index()

    @property
    def services(self) -> list[str]:
        """Services that have at least one column, in first-column order (from the column table)."""
        return list(dict.fromkeys(str(s) for s in self.columns["service"]))

    def service_of(self) -> dict[str, str]:
        """``{column name: service}`` from the column table (never parsed from the name)."""
        cols = self.columns
        return dict(zip(cols["name"].astype(str), cols["service"].astype(str)))

    def column_for(self, service: str, metric: str) -> str | None:
        """The column holding ``metric`` of ``service``, or None (looked up in the column table)."""
        cols = self.columns
        hit = cols[(cols["service"] == service) & (cols["metric"] == metric)]
        return None if hit.empty else str(hit["name"].iloc[0])

    @property
    def candidates(self) -> list[str]:
        """Services that can be a root cause: the ones faults can target (shop services, databases).

        ``meta["candidates"]`` when the dataset declares it; else the nodes of ``graph.json``
        that have series; else every service. Root-cause scoring ranks these only.
        """
        present = self.services
        declared = self.meta.get("candidates")
        if declared is not None:
            return [s for s in present if s in set(declared)]
        nodes = set(self.graph.names)
        if nodes:
            return [s for s in present if s in nodes]
        return present

    @property
    def context(self) -> list[str]:
        """Services whose series are evidence but never suspects (host, load generator, monitoring)."""
        chosen = set(self.candidates)
        return [s for s in self.services if s not in chosen]

    @property
    def scrape_interval_s(self) -> float:
        return float(self.meta.get("scrape_interval_s", 5.0))

    @property
    def timestamps(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.metrics.index)

    def values(self) -> np.ndarray:
        """``T x F`` float32 matrix of the metrics."""
        return self.metrics.to_numpy(dtype=np.float32, na_value=0.0)

    @property
    def y(self) -> np.ndarray:
        """Per-step 0/1 anomaly labels."""
        return self.labels["anomaly"].to_numpy(dtype=np.int8)

    def per_service(self, metrics: list[str] | None = None) -> tuple[np.ndarray, list[str], list[str]]:
        """``T x S x M`` tensor for graph models, with the service and metric orders used.

        A service that lacks a metric gets zeros there (databases have no HTTP series).
        """
        cols = self.columns
        metrics = metrics or sorted(cols["metric"].unique())
        services = self.services
        out = np.zeros((len(self.metrics), len(services), len(metrics)), dtype=np.float32)
        values = self.values()
        s_index = {s: i for i, s in enumerate(services)}
        m_index = {m: i for i, m in enumerate(metrics)}
        for j, (svc, met) in enumerate(zip(cols["service"], cols["metric"])):
            if met in m_index:
                out[:, s_index[svc], m_index[met]] = values[:, j]
        return out, services, metrics

    # ---- splits and windows -------------------------------------------------------------
    def slice(self, start: Any = None, end: Any = None) -> Dataset:
        """Rows with ``start <= t < end`` (either may be None)."""
        idx = self.timestamps
        keep = np.ones(len(idx), dtype=bool)
        if start is not None:
            keep &= idx >= pd.Timestamp(start)
        if end is not None:
            keep &= idx < pd.Timestamp(end)
        return replace(
            self,
            metrics=self.metrics.loc[keep],
            labels=self.labels.loc[keep],
            mask=None if self.mask is None else self.mask.loc[keep],
        )

    @property
    def train_end(self) -> pd.Timestamp:
        if self.meta.get("train_end"):
            return pd.Timestamp(self.meta["train_end"])
        # No declared fault-free period: everything before the first anomaly.
        anomalous = self.labels.index[self.labels["anomaly"].to_numpy() > 0]
        return anomalous[0] if len(anomalous) else self.timestamps[-1] + pd.Timedelta(seconds=1)

    def train(self) -> Dataset:
        """The fault-free training part (before ``train_end``), anomalous steps dropped."""
        part = self.slice(end=self.train_end)
        clean = part.labels["anomaly"].to_numpy() == 0
        return replace(
            part,
            metrics=part.metrics.loc[clean],
            labels=part.labels.loc[clean],
            mask=None if part.mask is None else part.mask.loc[clean],
        )

    def test(self) -> Dataset:
        """Everything from ``train_end`` on: what detectors are scored on."""
        return self.slice(start=self.train_end)

    def windows(self, size: int, stride: int = 1) -> np.ndarray:
        """``N x size x F`` sliding windows over :meth:`values` (window i ends at step i*stride+size-1)."""
        return sliding_windows(self.values(), size, stride)

    # ---- persistence --------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the dataset folder (see the module docstring for the layout)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        _frame_to_parquet(self.metrics, path / "metrics.parquet")
        if self.mask is not None:
            _frame_to_parquet(self.mask, path / "mask.parquet")
        _frame_to_parquet(self.labels, path / "labels.parquet")
        (path / "graph.json").write_text(json.dumps(self.graph.to_json(), indent=2) + "\n")
        meta = {"format_version": FORMAT_VERSION, **self.meta}
        (path / "meta.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
        return path


def legacy_column_table(names: list[str]) -> list[dict[str, str]]:
    """A column table for names without one: service before the first ':', metric after it.

    Only for datasets that carry no table; a name without ':' is its own service and metric.
    """
    rows = []
    for name in names:
        service, sep, metric = name.partition(":")
        rows.append(
            {"name": name, "service": service, "metric": metric if sep else name, "group": "application",
             "kind": "gauge", "unit": ""}
        )
    return rows


def check_column_table(names: list[str], table: list[dict[str, Any]], where: str) -> None:
    """BadInput unless ``table`` describes exactly ``names`` (once each, with service and metric)."""
    seen: dict[str, int] = {}
    for i, row in enumerate(table):
        name = row.get("name")
        if not isinstance(name, str) or not row.get("service") or not row.get("metric"):
            raise BadInput(f"{where}: columns[{i}] needs a name, a service and a metric, got {row!r}")
        seen[name] = seen.get(name, 0) + 1
    twice = [n for n, k in seen.items() if k > 1]
    if twice:
        raise BadInput(f"{where}: column(s) listed twice in the column table: {twice[:5]}")
    missing = [n for n in names if n not in seen]
    extra = [n for n in seen if n not in set(names)]
    if missing or extra:
        raise BadInput(
            f"{where}: metric column names and the column table disagree: "
            f"{len(missing)} column(s) without a row ({missing[:3]}), {len(extra)} row(s) without a column ({extra[:3]})"
        )


def sliding_windows(values: np.ndarray, size: int, stride: int = 1) -> np.ndarray:
    """``N x size x F`` view of a ``T x F`` array; empty when ``T < size``."""
    if size < 1 or stride < 1:
        raise BadInput(f"window size and stride must be >= 1, got size={size}, stride={stride}")
    t = values.shape[0]
    if t < size:
        return np.empty((0, size, *values.shape[1:]), dtype=values.dtype)
    view = np.lib.stride_tricks.sliding_window_view(values, size, axis=0)  # (T-size+1, F, size)
    return np.moveaxis(view, -1, 1)[::stride]


def write_labels(path: str | Path, labels: pd.DataFrame) -> Path:
    """Rewrite only ``labels.parquet`` of dataset folder ``path`` (re-derived labels, same grid)."""
    file = Path(path) / "labels.parquet"
    _frame_to_parquet(labels, file)
    return file


def _frame_to_parquet(frame: pd.DataFrame, file: Path) -> None:
    out = frame.copy()
    out.index = pd.DatetimeIndex(out.index, name="timestamp")
    out.reset_index().to_parquet(file, index=False)


def _frame_from_parquet(file: Path) -> pd.DataFrame:
    frame = pd.read_parquet(file)
    if "timestamp" not in frame.columns:
        raise BadInput(f"{file}: no 'timestamp' column")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame.set_index("timestamp")


def load_dataset(path: str | Path) -> Dataset:
    """Read a dataset folder (or a run folder containing ``dataset/``)."""
    path = Path(path)
    if (path / "dataset" / "meta.json").exists():
        path = path / "dataset"
    for required in ("metrics.parquet", "labels.parquet", "meta.json"):
        if not (path / required).exists():
            raise BadInput(f"{path}: not a dataset folder (missing {required})")
    meta = json.loads((path / "meta.json").read_text())
    version = meta.get("format_version", FORMAT_VERSION)
    if version > FORMAT_VERSION:
        raise BadInput(f"{path / 'meta.json'}: format_version {version} is newer than {FORMAT_VERSION}")
    graph_file = path / "graph.json"
    graph = ServiceGraph.from_json(json.loads(graph_file.read_text())) if graph_file.exists() else ServiceGraph([], [])
    mask = _frame_from_parquet(path / "mask.parquet") if (path / "mask.parquet").exists() else None
    labels = _frame_from_parquet(path / "labels.parquet")
    for col in LABEL_COLUMNS:
        if col not in labels.columns:
            raise BadInput(f"{path / 'labels.parquet'}: missing label column {col!r}")
    labels["anomaly"] = labels["anomaly"].astype(np.int8)
    for col in ("fault_type", "root_cause", "fault_id"):
        labels[col] = labels[col].fillna("").astype(str)
    for col in OPTIONAL_LABEL_COLUMNS:
        labels[col] = labels[col].fillna(0).astype(np.int8) if col in labels.columns else np.int8(0)
    metrics = _frame_from_parquet(path / "metrics.parquet")
    if meta.get("columns"):
        check_column_table([str(c) for c in metrics.columns], meta["columns"], str(path / "meta.json"))
    return Dataset(
        metrics=metrics,
        labels=labels,
        graph=graph,
        meta=meta,
        mask=mask,
        path=path,
    )
