"""A static alert threshold per series, the way operators set one by hand.

Which series: ``metric`` names a metric (every service's column of it, from the dataset's
column table), or one exact column name; left unset (the default) it watches every series, so
the detector works on any dataset without knowing its metric names. Each chosen column's
limit is a training quantile times a margin, or one absolute ``value`` for all. The score is
the relative excess over the limit, ``max_j (x_j - limit_j) / scale_j``, so ``threshold_ = 0``
and higher = further above; it only alarms on rises.

``scale_j`` is ``|limit_j|`` with a floor (documented for every baseline, see ``zscore``): a
series at 0 throughout training (an error count that never fired) has limit 0, and dividing by
it would turn one error into an infinite score; its scale is the same metric's limit on the
other services, else ``ABS_FLOOR`` (which is also its limit, so float jitter does not alarm).
A series leaving a constant level upwards still scores ``(x - 1.1 c) / 1.1 c``, and float jitter on it stays far below the limit.

Gauges that settle at a new level after a fault (memory, caches) would keep a static limit
crossed forever; as in ``zscore``, a gauge's limit follows a level that has lasted: it is the
larger of the training limit and ``margin`` times the median of the previous
``drift_window_s`` seconds (``None``: purely static).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from faultlab.dataset import Dataset
from faultlab.detectors.base import Detector
from faultlab.detectors.params import Params
from faultlab.detectors.preprocess import drift_steps, peer_max, trailing_median
from faultlab.detectors.registry import DETECTORS
from faultlab.errors import BadInput

ABS_FLOOR = 1e-6


class StaticThresholdParams(Params):
    metric: str | None = Field(
        None, min_length=1, description="a metric name, or an exact column name; unset: every series"
    )
    quantile: float = Field(1.0, gt=0, le=1, description="training quantile the limit is based on (1: the maximum)")
    margin: float = Field(1.1, gt=0, description="limit = quantile * margin")
    value: float | None = Field(None, description="absolute limit for every chosen column (overrides quantile)")
    drift_window_s: float | None = Field(
        600.0, gt=0, description="gauges: the limit also follows margin * the median of the previous window (s)"
    )


@DETECTORS.register("static_threshold")
class StaticThreshold(Detector):
    """Alert when a chosen metric (default: any series) rises above its fixed limit."""

    Params = StaticThresholdParams
    params: StaticThresholdParams
    min_train_steps = 10  # a limit from fewer steps is the maximum of a handful of noise

    selected_: np.ndarray  # indices into columns_
    limits_: np.ndarray
    scale_: np.ndarray
    adaptive_: np.ndarray  # bool per selected column: a gauge whose limit follows a lasting level
    drift_steps_: int

    def _fit(self, train: Dataset) -> None:
        self.selected_ = np.asarray(self._choose(train.name), dtype=np.int64)
        values = self.matrix(train)[:, self.selected_]
        if self.params.value is not None:
            limits = np.full(len(self.selected_), float(self.params.value))
        else:
            limits = np.quantile(values, self.params.quantile, axis=0) * self.params.margin
        peer = peer_max(np.abs(limits), np.asarray(self.column_metrics_)[self.selected_])
        fallback = np.where(peer > 0, peer, ABS_FLOOR)
        self.scale_ = np.where(np.abs(limits) > 0, np.abs(limits), fallback)
        # A series at 0 throughout training: its limit sits just above float jitter.
        self.limits_ = limits if self.params.value is not None else np.where(limits == 0, ABS_FLOOR, limits)
        self.drift_steps_ = drift_steps(self.params.drift_window_s, train.scrape_interval_s)
        self.adaptive_ = self.gauges_[self.selected_] & (self.drift_steps_ > 0)

    def _choose(self, dataset: str) -> list[int]:
        wanted = self.params.metric
        if wanted is None:
            return list(range(len(self.columns_)))
        if wanted in self.columns_:
            return [self.columns_.index(wanted)]
        chosen = [i for i, m in enumerate(self.column_metrics_) if m == wanted]
        if not chosen:
            known = sorted(set(self.column_metrics_))
            shown = ", ".join(known[:30]) + (" ..." if len(known) > 30 else "")
            raise BadInput(
                f"detector 'static_threshold': parameter 'metric' {wanted!r} matches no column or metric of "
                f"{dataset!r}; metrics: {shown}"
            )
        return chosen

    def _score(self, data: Dataset) -> np.ndarray:
        values = self.matrix(data)[:, self.selected_]
        limits = np.broadcast_to(self.limits_, values.shape)
        if self.adaptive_.any():
            cols = self.adaptive_
            limits = limits.copy()
            center = self.fill_values_[self.selected_][cols]  # the training median
            lasting = self.params.margin * trailing_median(values[:, cols], center, self.drift_steps_)
            limits[:, cols] = np.maximum(limits[:, cols], lasting)
        return ((values - limits) / self.scale_).max(axis=1)

    def _fit_threshold(self, train_scores: np.ndarray) -> float:
        return 0.0

    def _state(self) -> dict[str, Any]:
        return {
            "selected_": self.selected_,
            "limits_": self.limits_,
            "scale_": self.scale_,
            "adaptive_": self.adaptive_,
            "drift_steps_": self.drift_steps_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.selected_ = np.asarray(state["selected_"], dtype=np.int64)
        self.limits_ = np.asarray(state["limits_"], dtype=np.float64)
        self.scale_ = np.asarray(state["scale_"], dtype=np.float64)
        self.adaptive_ = np.asarray(state["adaptive_"], dtype=bool)
        self.drift_steps_ = int(state["drift_steps_"])
