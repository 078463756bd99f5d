"""A static alert threshold on one metric, the way operators set one by hand.

Picks columns by metric name across services (``metric="cpu_cores"``) or one exact column
(``metric="cart:cpu_cores"``). Each column's limit is a training quantile times a margin, or
one absolute ``value`` for all. The score is the relative excess over the limit,
``max_j (x_j - limit_j) / |limit_j|``, so ``threshold_ = 0`` and higher = further above.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from faultlab.detectors.base import Detector
from faultlab.detectors.params import Params
from faultlab.detectors.registry import DETECTORS
from faultlab.dataset import Dataset
from faultlab.errors import BadInput


class StaticThresholdParams(Params):
    metric: str = Field("cpu_cores", min_length=1, description="metric name, or an exact 'service:metric' column")
    quantile: float = Field(0.99, gt=0, le=1, description="training quantile the limit is based on")
    margin: float = Field(1.1, gt=0, description="limit = quantile * margin")
    value: float | None = Field(None, description="absolute limit for every chosen column (overrides quantile)")


@DETECTORS.register("static_threshold")
class StaticThreshold(Detector):
    """Alert when a chosen metric rises above a fixed limit."""

    Params = StaticThresholdParams
    params: StaticThresholdParams

    selected_: np.ndarray  # indices into columns_
    limits_: np.ndarray

    def _fit(self, train: Dataset) -> None:
        wanted = self.params.metric
        exact = ":" in wanted
        chosen = [i for i, c in enumerate(self.columns_) if (c == wanted if exact else c.split(":", 1)[-1] == wanted)]
        if not chosen:
            known = sorted({c.split(":", 1)[-1] for c in self.columns_})
            raise BadInput(
                f"detector 'static_threshold': parameter 'metric' {wanted!r} matches no column of "
                f"{train.name!r}; metrics: {', '.join(known)}"
            )
        self.selected_ = np.asarray(chosen, dtype=np.int64)
        if self.params.value is not None:
            self.limits_ = np.full(len(chosen), float(self.params.value))
        else:
            values = self.matrix(train)[:, self.selected_]
            self.limits_ = np.quantile(values, self.params.quantile, axis=0) * self.params.margin

    def _score(self, data: Dataset) -> np.ndarray:
        values = self.matrix(data)[:, self.selected_]
        scale = np.maximum(np.abs(self.limits_), 1e-9)
        return ((values - self.limits_) / scale).max(axis=1)

    def _fit_threshold(self, train_scores: np.ndarray) -> float:
        return 0.0

    def _state(self) -> dict[str, Any]:
        return {"selected_": self.selected_, "limits_": self.limits_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.selected_ = np.asarray(state["selected_"], dtype=np.int64)
        self.limits_ = np.asarray(state["limits_"], dtype=np.float64)
