"""How graph detectors see a dataset: a fixed service order, metric order, graph and scaling, saved with the model.

Graph models work on ``T x S x M`` tensors (services x metrics per step, as
:meth:`faultlab.dataset.Dataset.per_service` lays them out). A :class:`GraphLayout` is fitted
once on the fault-free training part and then maps *any* dataset's columns into that same
order, so a model never silently depends on the order or count of the services it is given
later: the order is stored with the model, and a dataset that lacks a fitted service is
refused with a :class:`BadInput` naming the service (extra services are ignored).

**The input both seed papers describe** (the default):

- **Nodes and features.** Seed 000 (Sec. 3.1, 3.2) makes every service a node with the same
  ``F`` features, ``x_t in R^(N x F)``; seed 002 (Methodology) does the same over the
  "who-talks-to-whom" graph. Nodes are the dataset's services with series, in the training
  data's order; features are the metric names. The edges (caller -> callee, ``graph.json``)
  are taken among the nodes; context services (host, load generator) have no edges and enter
  as isolated nodes: their own series are modelled and count towards the detection score
  (they are evidence: a traffic attack shows first in the load generator's and host's series),
  but root-cause rankings only ever name ``dataset.candidates``.
- **Normalisation** (``scaling="metric"``): seed 000 Sec. 4.2 "normalization of the feature
  values" before the windows are cut; a feature is one of the ``F`` metrics, so each metric
  is z-scored with **one** mean and standard deviation taken over all services and all
  fault-free training steps. This is also what the DCRNN reference does (one ``StandardScaler``
  for the sensor feature over all sensors, Li et al. 2018, Sec. 4) and how the public graph
  LSTM-VAE reference (TopoMAD, Sec. "How to Open the Datasets" of its README) prepares its
  data. Sharing the statistics keeps the services comparable: a service whose error rate was
  flat at 0 in training is measured in the spread the other services showed, not divided by
  its own zero spread. Values are not clipped and no column is switched off.
- **Necessary deviation**: a metric with no spread at all in training (zero on every service,
  e.g. an error rate of a fault-free run) has no z-score; it is centred and left in its own
  unit (scale 1), so a first error per second reads as 1. Without a centre and scale fitted
  on the fault-free part the scaling would leak the faults.

**Additions the papers lack** (each off by default, kept to reproduce the earlier layer):

- ``scaling="column_robust"``: median / (1.4826 MAD) per column
  (:func:`faultlab.detectors.preprocess.fit_robust`), each service on its own spread;
- ``clip``: scaled values cut at ``+-clip``. On the recorded data this hides what matters
  (in ``bench-mixed`` 57 of 156 active columns exceed 10 robust units in fault-free training
  already, and 18 % of the values at anomalous steps were cut off);
- ``drop_constant``: columns constant in training switched off (as in ``zscore``); on
  ``bench-mixed`` 11 of them move during faults (error rate, in-flight requests, disk reads).

**Edge weights** (``edge_weight``, for ``dcrnn``): seed 002 (Methodology) weighs each edge "by
the volume of traffic and the latency of the responses". Where a dataset has the per-edge
series of :mod:`faultlab.harness.collect.catalog` (``<caller>:calls_to_<callee>_per_s`` and
``<caller>:calls_to_<callee>_latency_mean_s``), :func:`traffic_weights` gives each edge the mean
over the fault-free steps of calls per second times mean latency: by Little's law the mean
number of the caller's requests in flight at the callee, one quantity that grows with both
volume and latency. Without those series the edges stay unweighted, and
:attr:`GraphLayout.notes` says so.

**Missing (service, metric) pairs** (databases have no HTTP series) are zeros and are excluded
from losses, scores and rankings through :attr:`GraphLayout.present`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from faultlab.dataset import Dataset
from faultlab.detectors.preprocess import Scaler, fit_robust
from faultlab.errors import BadInput

_TINY = 1e-12

Scaling = Literal["metric", "column_robust"]
EdgeWeight = Literal["none", "traffic", "calls"]
SCALINGS: tuple[str, ...] = ("metric", "column_robust")


def fit_metric_scaler(values: np.ndarray, column_metric: np.ndarray) -> Scaler:
    """Per column, the z-score of its metric: mean and standard deviation over every column of
    that metric (all services) and every training step; a metric without spread gets scale 1."""
    center = np.zeros(values.shape[1])
    scale = np.ones(values.shape[1])
    for m in np.unique(column_metric):
        cols = column_metric == m
        pooled = values[:, cols]
        std = float(pooled.std())
        center[cols] = float(pooled.mean())
        scale[cols] = std if std > _TINY else 1.0
    return Scaler(center_=center, scale_=scale)


def traffic_weights(
    train: Dataset, services: list[str], edge_index: np.ndarray, kind: EdgeWeight
) -> tuple[np.ndarray, list[str]]:
    """``(weights, notes)``: one weight per edge of ``edge_index`` (caller -> callee) from ``train``.

    ``kind="traffic"``: mean over the steps of calls/s x mean latency (s) of the edge (seed 002's
    "volume of traffic and latency"; Little's law: requests of the caller in flight at the
    callee); an edge with calls but no latency series weighs its calls/s. ``"calls"``: mean
    calls/s only. ``"none"``: all ones. An edge without a per-edge series takes the median of
    the known weights; a graph without any falls back to ones; both are said in ``notes``. An
    edge with no traffic at all in training weighs 0 (the walks skip it).
    """
    n_edges = edge_index.shape[1]
    ones = np.ones(n_edges)
    if kind == "none" or n_edges == 0:
        return ones, []
    by_pair = {(str(s), str(m)): str(n) for n, s, m in train.columns[["name", "service", "metric"]].itertuples(index=False)}
    values = train.metrics
    weights = np.full(n_edges, np.nan)
    for e, (i, j) in enumerate(edge_index.T):
        caller, callee = services[int(i)], services[int(j)]
        calls = by_pair.get((caller, f"calls_to_{callee}_per_s"))
        latency = by_pair.get((caller, f"calls_to_{callee}_latency_mean_s"))
        if calls is None:
            continue
        rate = np.nan_to_num(values[calls].to_numpy(dtype=np.float64, na_value=0.0))
        if kind == "traffic" and latency is not None:
            rate = rate * np.nan_to_num(values[latency].to_numpy(dtype=np.float64, na_value=0.0))
        weights[e] = max(float(rate.mean()), 0.0)
    known = np.isfinite(weights)
    if not known.any() or not (weights[known] > 0).any():
        note = (f"edges unweighted: dataset {train.name!r} has no per-edge traffic series "
                "(<caller>:calls_to_<callee>_per_s) in its training part")
        return ones, [note]
    notes = []
    if not known.all():
        missing = [f"{services[int(i)]}->{services[int(j)]}" for (i, j), k in zip(edge_index.T, known) if not k]
        notes.append(f"edge(s) without traffic series weighted by the median of the others: {', '.join(missing)}")
        weights[~known] = float(np.median(weights[known]))
    return weights, notes


@dataclass
class GraphLayout:
    """Service and metric orders, the column -> (service, metric) map, the graph and the scaler."""

    columns: list[str]
    services: list[str]
    metrics: list[str]
    column_service: np.ndarray  # F ints: service index of each column
    column_metric: np.ndarray  # F ints: metric index of each column
    active: np.ndarray  # F bools: False for columns switched off (drop_constant)
    edge_index: np.ndarray  # 2 x E caller -> callee, in service indices
    candidates: list[str]
    scaler: Scaler
    clip: float | None = None
    edge_weight: np.ndarray = field(default_factory=lambda: np.ones(0))  # E floats (ones: unweighted)
    scaling: str = "metric"
    notes: list[str] = field(default_factory=list)

    @classmethod
    def fit(cls, train: Dataset, columns: list[str], *, scaling: Scaling = "metric", clip: float | None = None,
            drop_constant: bool = False, edge_weight: EdgeWeight = "none") -> GraphLayout:
        """The layout of ``train`` (columns in the detector's fitted order); see the module docstring."""
        if scaling not in SCALINGS:
            raise BadInput(f"graph layout: scaling {scaling!r} is unknown; valid: {', '.join(SCALINGS)}")
        info = train.columns.set_index("name")
        services = list(dict.fromkeys(str(info.loc[c, "service"]) for c in columns))
        metrics = sorted({str(info.loc[c, "metric"]) for c in columns})
        s_index = {s: i for i, s in enumerate(services)}
        m_index = {m: i for i, m in enumerate(metrics)}
        column_metric = np.array([m_index[str(info.loc[c, "metric"])] for c in columns], dtype=np.int64)
        values = np.nan_to_num(train.metrics[columns].to_numpy(dtype=np.float64, na_value=0.0))
        scaler = fit_metric_scaler(values, column_metric) if scaling == "metric" else fit_robust(values)
        active = values.max(axis=0) - values.min(axis=0) > _TINY if drop_constant else np.ones(len(columns), dtype=bool)
        edge_index = train.graph.edge_index(services)
        weights, notes = traffic_weights(train, services, edge_index, edge_weight)
        return cls(
            columns=list(columns),
            services=services,
            metrics=metrics,
            column_service=np.array([s_index[str(info.loc[c, "service"])] for c in columns], dtype=np.int64),
            column_metric=column_metric,
            active=active,
            edge_index=edge_index,
            candidates=[s for s in train.candidates if s in s_index],
            scaler=scaler,
            clip=None if clip is None else float(clip),
            edge_weight=weights,
            scaling=scaling,
            notes=notes,
        )

    @property
    def present(self) -> np.ndarray:
        """``S x M`` bools: the (service, metric) pairs that have an active column."""
        out = np.zeros((len(self.services), len(self.metrics)), dtype=bool)
        out[self.column_service[self.active], self.column_metric[self.active]] = True
        return out

    @property
    def weighted(self) -> bool:
        """True when the edges carry traffic weights (not all ones)."""
        return bool(len(self.edge_weight)) and not np.all(self.edge_weight == 1.0)

    def check_services(self, data: Dataset, owner: str) -> None:
        """BadInput naming the fitted services that ``data`` lacks."""
        have = set(data.services)
        missing = [s for s in self.services if s not in have]
        if missing:
            raise BadInput(
                f"dataset {data.name!r} lacks service(s) {', '.join(missing)} that detector {owner!r} "
                f"was fitted on (its service order is saved with the model: {', '.join(self.services)})"
            )

    def tensor(self, values: np.ndarray) -> np.ndarray:
        """``T x S x M`` float32 scaled tensor (clipped when ``clip`` is set) from ``T x F`` values in the fitted column order."""
        scaled = self.scaler.transform(values)
        if self.clip is not None:
            scaled = np.clip(scaled, -self.clip, self.clip)
        scaled[:, ~self.active] = 0.0
        out = np.zeros((values.shape[0], len(self.services), len(self.metrics)), dtype=np.float32)
        out[:, self.column_service, self.column_metric] = scaled
        return out

    def column_view(self, per_pair: np.ndarray) -> np.ndarray:
        """``... x S x M`` -> ``... x F`` in the fitted column order."""
        return per_pair[..., self.column_service, self.column_metric]

    def rank(self, per_pair: np.ndarray) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """Candidate services and their ``service:metric`` columns ranked by an ``S x M`` deviation.

        A service's score is the mean deviation over its present metrics, so a service is not
        favoured for having more series, and a callee whose own resource metrics *and* latency
        deviate outranks callers that only inherit its latency.
        """
        present = self.present
        per_column = np.where(self.active, self.column_view(per_pair), 0.0)
        chosen = set(self.candidates)
        metrics = [(c, float(v)) for c, v, s in zip(self.columns, per_column, self.column_service) if self.services[s] in chosen]
        metrics.sort(key=lambda kv: -kv[1])
        services = []
        for i, name in enumerate(self.services):
            if name in chosen:
                row = per_pair[i][present[i]]
                services.append((name, float(row.mean()) if row.size else 0.0))
        services.sort(key=lambda kv: -kv[1])
        return services, metrics

    # ---- persistence --------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {
            "layout.services": np.array(self.services, dtype=str),
            "layout.metrics": np.array(self.metrics, dtype=str),
            "layout.column_service": self.column_service,
            "layout.column_metric": self.column_metric,
            "layout.active": self.active,
            "layout.edge_index": self.edge_index,
            "layout.edge_weight": np.asarray(self.edge_weight, dtype=np.float64),
            "layout.candidates": np.array(self.candidates, dtype=str),
            "layout.center": self.scaler.center_,
            "layout.scale": self.scaler.scale_,
            "layout.clip": self.clip,
            "layout.scaling": self.scaling,
            "layout.notes": list(self.notes),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], columns: list[str]) -> GraphLayout:
        """The saved layout; models saved before edge weights and the scaling choice load as they were fitted."""
        edge_index = np.asarray(state["layout.edge_index"], dtype=np.int64).reshape(2, -1)
        clip = state.get("layout.clip")
        return cls(
            columns=list(columns),
            services=[str(s) for s in state["layout.services"]],
            metrics=[str(m) for m in state["layout.metrics"]],
            column_service=np.asarray(state["layout.column_service"], dtype=np.int64),
            column_metric=np.asarray(state["layout.column_metric"], dtype=np.int64),
            active=np.asarray(state["layout.active"], dtype=bool),
            edge_index=edge_index,
            candidates=[str(s) for s in np.atleast_1d(state["layout.candidates"])],
            scaler=Scaler(center_=np.asarray(state["layout.center"]), scale_=np.asarray(state["layout.scale"])),
            clip=None if clip is None else float(clip),
            edge_weight=np.asarray(state.get("layout.edge_weight", np.ones(edge_index.shape[1])), dtype=np.float64),
            scaling=str(state.get("layout.scaling", "column_robust")),
            notes=[str(n) for n in state.get("layout.notes", [])],
        )
