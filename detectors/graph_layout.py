"""How graph detectors see a dataset: a fixed service order, metric order and graph, saved with the model.

Graph models work on ``T x S x M`` tensors (services x metrics per step, as
:meth:`faultlab.dataset.Dataset.per_service` lays them out). A :class:`GraphLayout` is fitted
once on the training data and then maps *any* dataset's columns into that same order, so a
model never silently depends on the order or count of the services it is given later: the
order is stored with the model, and a dataset that lacks a fitted service is refused with a
:class:`BadInput` naming the service (extra services are ignored).

Choices made here for both graph models (seed 000 and seed 002 are silent on them):

- **Nodes** are the dataset's services with series, in the training data's order. The graph's
  edges (caller -> callee, ``graph.json``) are taken among them; context services (host, load
  generator, monitoring) have no edges and enter as isolated nodes: their own metrics are
  modelled and count towards the detection score (they are evidence: a traffic attack shows
  first in the load generator's and host's series), but root-cause rankings only ever name
  ``dataset.candidates``.
- **Scaling**: per column, robust z-score fitted on the fault-free part
  (:func:`faultlab.detectors.preprocess.fit_robust`), clipped to ``+-clip`` so a single
  huge value cannot blow up a network's activations. Columns constant in training carry no
  information and are switched off (as in the ``zscore`` baseline).
- **Missing (service, metric) pairs** (databases have no HTTP series) are zeros and are
  excluded from losses, scores and rankings through :attr:`GraphLayout.present`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from faultlab.dataset import Dataset
from faultlab.detectors.preprocess import Scaler, fit_robust
from faultlab.errors import BadInput

_TINY = 1e-12


@dataclass
class GraphLayout:
    """Service and metric orders, the column -> (service, metric) map, the graph and the scaler."""

    columns: list[str]
    services: list[str]
    metrics: list[str]
    column_service: np.ndarray  # F ints: service index of each column
    column_metric: np.ndarray  # F ints: metric index of each column
    active: np.ndarray  # F bools: False for columns constant in training
    edge_index: np.ndarray  # 2 x E caller -> callee, in service indices
    candidates: list[str]
    scaler: Scaler
    clip: float

    @classmethod
    def fit(cls, train: Dataset, columns: list[str], clip: float) -> GraphLayout:
        """The layout of ``train`` (columns in the detector's fitted order)."""
        info = train.columns.set_index("name")
        services = list(dict.fromkeys(str(info.loc[c, "service"]) for c in columns))
        metrics = sorted({str(info.loc[c, "metric"]) for c in columns})
        s_index = {s: i for i, s in enumerate(services)}
        m_index = {m: i for i, m in enumerate(metrics)}
        values = np.nan_to_num(train.metrics[columns].to_numpy(dtype=np.float64, na_value=0.0))
        scaler = fit_robust(values)
        return cls(
            columns=list(columns),
            services=services,
            metrics=metrics,
            column_service=np.array([s_index[str(info.loc[c, "service"])] for c in columns], dtype=np.int64),
            column_metric=np.array([m_index[str(info.loc[c, "metric"])] for c in columns], dtype=np.int64),
            active=values.max(axis=0) - values.min(axis=0) > _TINY,
            edge_index=train.graph.edge_index(services),
            candidates=[s for s in train.candidates if s in s_index],
            scaler=scaler,
            clip=float(clip),
        )

    @property
    def present(self) -> np.ndarray:
        """``S x M`` bools: the (service, metric) pairs that have an active column."""
        out = np.zeros((len(self.services), len(self.metrics)), dtype=bool)
        out[self.column_service[self.active], self.column_metric[self.active]] = True
        return out

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
        """``T x S x M`` float32 scaled, clipped tensor from ``T x F`` values in the fitted column order."""
        scaled = np.clip(self.scaler.transform(values), -self.clip, self.clip)
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
            "layout.candidates": np.array(self.candidates, dtype=str),
            "layout.center": self.scaler.center_,
            "layout.scale": self.scaler.scale_,
            "layout.clip": self.clip,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], columns: list[str]) -> GraphLayout:
        return cls(
            columns=list(columns),
            services=[str(s) for s in state["layout.services"]],
            metrics=[str(m) for m in state["layout.metrics"]],
            column_service=np.asarray(state["layout.column_service"], dtype=np.int64),
            column_metric=np.asarray(state["layout.column_metric"], dtype=np.int64),
            active=np.asarray(state["layout.active"], dtype=bool),
            edge_index=np.asarray(state["layout.edge_index"], dtype=np.int64).reshape(2, -1),
            candidates=[str(s) for s in np.atleast_1d(state["layout.candidates"])],
            scaler=Scaler(center_=np.asarray(state["layout.center"]), scale_=np.asarray(state["layout.scale"])),
            clip=float(state["layout.clip"]),
        )
