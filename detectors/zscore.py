"""Per-series robust z-score: the simplest honest multivariate baseline, calibrated on fault-free data.

**Scale.** Each series is centred on its training median and scaled by a robust spread with a
floor relative to the series' level::

    scale_j = max(1.4826 * MAD_j, level_floor * level_j, peer floor)

``level_j`` is the largest absolute training value of the series. The floor is what makes the
baseline fair across very different series:

- a series **constant** in training (an availability at exactly 100 %) has no spread at all;
  with the floor, leaving the constant scores ``|x - c| / (level_floor * |c|)``: a drop to 90 %
  is z = 10 at the default 1 %, while float jitter (1e-9) is z = 1e-9. A series constant at 0
  has no level either; it takes the floor of its peers (``level_floor`` times the largest
  training value of the same metric on any service), else an absolute 1e-6: leaving zero is news.
- a slowly drifting **gauge** (memory, page cache, a pool that grows and does not come back)
  moves by a small fraction of its level: with a spread of a few kB on 25 MB, a 1 MB drift
  would be hundreds of "sigmas"; the level floor says a change below ``level_floor`` of the
  level is not by itself an anomaly, so drifts stay low while a 200 MB allocation is not.
- **sparse** counts (MAD 0, mostly 0, like ``error_rate``): the spread is floored so that the
  largest fault-free deviation sits at z = ``threshold``: they alarm only beyond anything seen.

**Drift.** A gauge that moves to a new level and stays there (memory after a leak is freed
into the allocator's pool, page cache after heavy I/O, a connection pool that grew) is a new
normal, not an anomaly that lasts forever. For gauges (``kind`` from the dataset's column
table) the centre is therefore a slowly adapting baseline: the median of the previous
``drift_window_s`` seconds (at least 30 steps) of the data being scored, padded with the training median before the
data starts (so the first steps are judged against training, and step t sees only steps
before t). A gauge's deviation is the smaller of its distance to the training median and to
that baseline: a value is normal if it matches either the learned normal or a level that has
lasted. A shift lasting less than half the window (a fault) is scored in full; a shift that
persists longer is absorbed; and the return to the training level after a long fault is not
itself an alarm. Counters (rates) keep the training median. ``drift_window_s=None`` turns it
off.

**Score.** A step's score aggregates the per-series |z| with the mean of the ``top_k`` largest
(``aggregate="topk"``, default) or their maximum (``"max"``). The mean of a few is far less
noisy than the maximum over hundreds of series, and a real fault moves several series at once
(a service's CPU, its latency, its callers' latencies).

**Threshold.** ``threshold_mode="quantile"`` (default) learns it the way the seed papers do (the
radiography LSTM-AE and the adaptive-threshold AE take a high percentile of fault-free
scores): ``margin`` times the ``threshold_quantile`` of the training scores, never below
``threshold`` (default 3; training scores are in-sample, so they slightly understate fault-free test scores;
the margin and the floor absorb that). ``threshold_mode="sigma"`` is the plain 3-sigma rule
(``threshold_ = threshold``).

Root causes are ranked by each service's largest mean |z| over the segment, services read from
the dataset's column table.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from faultlab.dataset import Dataset
from faultlab.detectors.base import Detector, Localizer, last_steps
from faultlab.detectors.params import Params
from faultlab.detectors.preprocess import Scaler, drift_steps, level_scale_floor, peer_max, trailing_median
from faultlab.detectors.registry import DETECTORS

_TINY = 1e-12
#: Scale of a series constant at 0 whose metric no other service has a level for.
ZERO_LEVEL_SCALE = 1e-6


class ZScoreParams(Params):
    threshold: float = Field(3.0, gt=0, description="|z| of the sigma rule; also the floor of a learned threshold")
    threshold_mode: Literal["quantile", "sigma"] = Field(
        "quantile", description="'quantile': learned from fault-free scores; 'sigma': threshold_ = threshold"
    )
    threshold_quantile: float = Field(0.99, gt=0, le=1, description="quantile of fault-free training scores")
    margin: float = Field(1.5, ge=1, description="learned threshold = margin * quantile")
    aggregate: Literal["topk", "max"] = Field("topk", description="per-step score: mean of the top_k |z|, or the max")
    top_k: int = Field(3, ge=1, description="series averaged by aggregate='topk'")
    level_floor: float = Field(0.01, ge=0, description="scale floor as a fraction of the series' training level")
    drift_window_s: float | None = Field(
        600.0, gt=0, description="gauges: centre = median of the previous window (s); None: the training median"
    )
    smooth_steps: int = Field(1, ge=1, description="rolling median over this many steps before scoring")


@DETECTORS.register("zscore")
class ZScore(Detector, Localizer):
    """Score = mean of the top-k |x - median| / scale (scale: robust spread with a level floor)."""

    Params = ZScoreParams
    params: ZScoreParams
    min_train_steps = 20  # medians and MADs of fewer steps are not robust

    scaler_: Scaler
    adaptive_: np.ndarray  # bool per column: a gauge whose centre follows the drift baseline
    drift_steps_: int

    def _fit(self, train: Dataset) -> None:
        values = self._smoothed(self.matrix(train))
        center = np.median(values, axis=0)
        deviation = np.abs(values - center)
        mad = 1.4826 * np.median(deviation, axis=0)
        floor = level_scale_floor(values, self.params.level_floor)
        # Series at 0 throughout: borrow the level of the same metric on other services.
        peer_floor = peer_max(floor, self.column_metrics_)
        floor = np.where(floor > _TINY, floor, np.where(peer_floor > _TINY, peer_floor, ZERO_LEVEL_SCALE))
        sparse = (mad <= _TINY) & (deviation.max(axis=0) > _TINY)
        sparse_floor = np.where(sparse, deviation.max(axis=0) / self.params.threshold, 0.0)
        self.scaler_ = Scaler(center_=center, scale_=np.maximum.reduce([mad, floor, sparse_floor]))
        self.drift_steps_ = drift_steps(self.params.drift_window_s, train.scrape_interval_s)
        self.adaptive_ = self.gauges_ & (self.drift_steps_ > 0)

    def abs_z(self, data: Dataset) -> np.ndarray:
        """``T x F`` absolute robust z-scores (after the optional rolling median)."""
        values = self._smoothed(self.matrix(data))
        deviation = np.abs(values - self.scaler_.center_)
        if self.adaptive_.any():
            cols = self.adaptive_
            baseline = trailing_median(values[:, cols], self.scaler_.center_[cols], self.drift_steps_)
            deviation[:, cols] = np.minimum(deviation[:, cols], np.abs(values[:, cols] - baseline))
        return deviation / self.scaler_.scale_

    def _smoothed(self, values: np.ndarray) -> np.ndarray:
        return _rolling_median(values, self.params.smooth_steps) if self.params.smooth_steps > 1 else values

    def _score(self, data: Dataset) -> np.ndarray:
        return self._aggregate(self.abs_z(data))

    def _aggregate(self, z: np.ndarray) -> np.ndarray:
        """One score per row of ``T x F`` |z|: the mean of the ``top_k`` largest, or the maximum."""
        if self.params.aggregate == "max" or z.shape[1] <= 1:
            return z.max(axis=1)
        k = min(self.params.top_k, z.shape[1])
        return np.partition(z, -k, axis=1)[:, -k:].mean(axis=1)

    # ---- streaming: the newest step only -------------------------------------------------------
    def score_latest(self, buffer: Dataset) -> float:
        """Incremental form of :meth:`score` for a live stream (contract: ``Detector.score_latest``).

        Scoring the buffer would redo every step's rolling median and drift baseline to keep the
        last one; here only the newest step's |z| is computed: its rolling median over
        ``smooth_steps`` and, for drifting gauges, one median of the ``drift_steps_`` smoothed
        values before it (padded with the training median while the stream is shorter, as
        :func:`~faultlab.detectors.preprocess.trailing_median` pads). Equal to
        ``score(stream)[-1]`` within float rounding; O(history x series) per step.
        """
        self._check_fitted()
        if len(buffer.metrics) == 0:
            return float("nan")
        tail = self.align(last_steps(buffer, self.history_steps))
        z = self._abs_z_newest(self.matrix(tail))
        return float(np.nan_to_num(self._aggregate(z[None, :])[0], posinf=np.finfo(np.float64).max))

    def _abs_z_newest(self, values: np.ndarray) -> np.ndarray:
        """|z| of the last row of ``values`` (the stream's last ``history_steps`` rows, or all of it)."""
        smoothed = self._smoothed(values)  # its last drift_steps_ + 1 rows are exact (see history_steps)
        center, newest = self.scaler_.center_, smoothed[-1]
        deviation = np.abs(newest - center)
        if self.adaptive_.any():
            cols = self.adaptive_
            before = smoothed[-self.drift_steps_ - 1 : -1, cols]
            missing = self.drift_steps_ - len(before)
            if missing > 0:  # a stream shorter than the drift window: the training median stands in
                before = np.vstack([np.tile(center[cols], (missing, 1)), before])
            baseline = np.median(before, axis=0)
            deviation[cols] = np.minimum(deviation[cols], np.abs(newest[cols] - baseline))
        return deviation / self.scaler_.scale_

    def _fit_threshold(self, train_scores: np.ndarray) -> float:
        if self.params.threshold_mode == "sigma":
            return self.params.threshold
        learned = self.params.margin * float(np.quantile(train_scores, self.params.threshold_quantile))
        return max(learned, self.params.threshold)

    def _rank(self, data: Dataset, start: int, end: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        # Mean |z| over the segment per metric: sustained deviation, not a single spike.
        return self._ranking(self.abs_z(data)[start:end].mean(axis=0))

    def suspects_latest(self, buffer: Dataset, steps: int = 1, k: int = 3) -> list[tuple[str, float]]:
        """Incremental form of ``Detector.suspects_latest``: :meth:`_rank`'s ranking of the alarm's
        last ``steps`` steps from their |z| alone (one :meth:`_abs_z_newest` each), not the whole buffer's."""
        self._check_fitted()
        n = len(buffer.metrics)
        if n == 0:
            return []
        steps = max(1, min(int(steps), n))
        tail = self.align(last_steps(buffer, self.history_steps + steps - 1))
        values, m = self.matrix(tail), len(tail.metrics)
        z = np.stack([self._abs_z_newest(values[: m - back]) for back in range(steps)])
        candidates = set(tail.candidates)
        services, _ = self._ranking(z.mean(axis=0))
        return [(s, v) for s, v in services if not candidates or s in candidates][:k]

    def _ranking(self, per_metric: np.ndarray) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """Services by their largest per-metric score, and the metrics, most suspect first."""
        metrics = sorted(zip(self.columns_, per_metric.tolist()), key=lambda kv: -kv[1])
        service_of = dict(zip(self.columns_, self.column_services_))
        best: dict[str, float] = {}
        for column, value in metrics:
            service = service_of[column]
            best[service] = max(best.get(service, 0.0), value)
        services = sorted(best.items(), key=lambda kv: -kv[1])
        return services, metrics

    def _state(self) -> dict[str, Any]:
        return {
            "center_": self.scaler_.center_,
            "scale_": self.scaler_.scale_,
            "adaptive_": self.adaptive_,
            "drift_steps_": self.drift_steps_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.scaler_ = Scaler(center_=np.asarray(state["center_"]), scale_=np.asarray(state["scale_"]))
        self.adaptive_ = np.asarray(state["adaptive_"], dtype=bool)
        self.drift_steps_ = int(state["drift_steps_"])


def _rolling_median(values: np.ndarray, steps: int) -> np.ndarray:
    """Trailing median over ``steps`` (fewer at the start), so step t only sees t and before."""
    padded = np.concatenate([np.repeat(values[:1], steps - 1, axis=0), values])
    view = np.lib.stride_tricks.sliding_window_view(padded, steps, axis=0)
    return np.median(view, axis=-1)
