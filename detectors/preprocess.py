"""Shared building blocks: scalers fitted on training data, window <-> step score mapping, the
drift option every detector takes, and TELESTO's physical limits.

Scalers are fitted on the fault-free training part only (fitting on test data would leak the
faults into the normalisation). Their state is two arrays, so detectors can save them in npz.

- **Drift** (:class:`DriftBaseline`, the ``drift`` option of every detector, see
  :class:`faultlab.detectors.base.Detector`): gauges minus the median of their previous
  window, the baseline ``zscore`` follows (:func:`trailing_median`), fitted on training data.
- **Physical limits** (:func:`physical_limits`, TELESTO sec. 3.2): series with a known limit are
  divided by it (CPU by the container's quota or the host's cores, memory by its limit or the
  host's memory, network bytes by the link speed); the rest keep training min-max.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from faultlab.dataset import sliding_windows
from faultlab.errors import BadInput

if TYPE_CHECKING:
    from faultlab.dataset import Dataset

_TINY = 1e-12


@dataclass
class Scaler:
    """``(x - center_) / scale_`` per column; ``scale_`` is never zero."""

    center_: np.ndarray
    scale_: np.ndarray

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=np.float64) - self.center_) / self.scale_

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=np.float64) * self.scale_ + self.center_


def level_scale_floor(train: np.ndarray, level_floor: float) -> np.ndarray:
    """``level_floor`` times each column's training level (its largest absolute value).

    A series constant in training (an availability at exactly 100 %) has no spread, so without
    a floor leaving it is either ignored or an infinite, unit-dependent score; with it, a move
    by 10 % of the level reads as ``0.1 / level_floor`` while float jitter stays near 0.
    """
    return level_floor * np.abs(_as_2d(train)).max(axis=0)


def peer_max(values: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """Per column, the largest of ``values`` over the columns of its group (e.g. the same metric
    on other services): where a series gives no level of its own, its peers' level stands in."""
    return pd.Series(np.asarray(values, dtype=np.float64)).groupby(list(groups)).transform("max").to_numpy()


def fit_minmax(train: np.ndarray) -> Scaler:
    """Min-max to [0, 1] on training data (TELESTO Sec. 3.1, SYRROCA Sec. III-B normalise
    this way). A constant column maps to 0; test values may leave [0, 1], which is the point."""
    train = _as_2d(train)
    lo = train.min(axis=0)
    span = train.max(axis=0) - lo
    return Scaler(center_=lo, scale_=np.where(span > _TINY, span, 1.0))


def fit_robust(train: np.ndarray) -> Scaler:
    """Median / (1.4826 * MAD): a z-score whose centre and spread ignore training outliers.

    1.4826 makes MAD a consistent estimate of the standard deviation for Gaussian data.
    Where MAD is zero (e.g. a counter that is mostly 0) the spread falls back to the
    standard deviation, then to 1, so no column divides by zero.
    """
    train = _as_2d(train)
    center = np.median(train, axis=0)
    mad = 1.4826 * np.median(np.abs(train - center), axis=0)
    std = train.std(axis=0)
    spread = np.where(mad > _TINY, mad, std)
    return Scaler(center_=center, scale_=np.where(spread > _TINY, spread, 1.0))


def fit_scaler(kind: str, train: np.ndarray) -> Scaler:
    if kind == "minmax":
        return fit_minmax(train)
    if kind == "robust":
        return fit_robust(train)
    raise BadInput(f"unknown scaler {kind!r}; valid: minmax, robust")


def evenly_thinned(n: int, cap: int | None) -> np.ndarray:
    """Indices of ``cap`` of ``n`` items spread evenly over all of them (every index when
    ``cap`` is None or not smaller): a deterministic subsample that keeps the whole time span."""
    if cap is None or n <= cap:
        return np.arange(n, dtype=np.int64)
    return np.linspace(0, n - 1, cap).round().astype(np.int64)


def windows_or_fail(values: np.ndarray, size: int, owner: str) -> np.ndarray:
    """``N x size x F`` stride-1 windows; BadInput when the data is shorter than one window."""
    if values.shape[0] < size:
        raise BadInput(f"{owner}: needs at least window={size} time steps, got {values.shape[0]}")
    return sliding_windows(values, size, 1)


def window_scores_to_steps(window_scores: np.ndarray, size: int, n_steps: int, stride: int = 1) -> np.ndarray:
    """One score per time step from one score per window.

    Window ``i`` covers steps ``i*stride .. i*stride+size-1`` and its score is assigned to its
    **last** step (the first moment it could be computed online). Steps between two window
    ends take the previous window's score; the first ``size-1`` steps, which no window ends
    on, are padded with the first window's score (not 0, so that they neither raise nor hide
    alarms artificially).
    """
    window_scores = np.asarray(window_scores, dtype=np.float64)
    if len(window_scores) == 0:
        raise BadInput(f"no windows of size {size} fit in {n_steps} steps")
    ends = np.arange(len(window_scores)) * stride + size - 1
    if ends[-1] >= n_steps:
        raise ValueError(f"{len(window_scores)} windows of size {size} do not fit in {n_steps} steps")
    out = np.empty(n_steps, dtype=np.float64)
    which = np.searchsorted(ends, np.arange(n_steps), side="right") - 1
    out[:] = window_scores[np.clip(which, 0, None)]
    return out


def trailing_median(values: np.ndarray, start: np.ndarray, steps: int) -> np.ndarray:
    """Per column, the median of the ``steps`` values before each step (``start`` fills before the data).

    The slowly adapting baseline of drifting gauges (``zscore``, ``static_threshold``): step t
    only sees steps before t, and the first steps are judged against ``start`` (training).
    """
    values = np.asarray(values, dtype=np.float64)
    padded = pd.DataFrame(np.vstack([np.tile(np.asarray(start, dtype=np.float64), (steps, 1)), values]))
    medians = padded.rolling(steps, min_periods=1).median().to_numpy()
    return medians[steps - 1 : steps - 1 + len(values)]


#: A drift baseline never spans fewer steps: at a 5-minute sampling interval, 10 minutes would be
#: two steps, and any incident would be absorbed after one.
MIN_DRIFT_STEPS = 30


def drift_steps(window_s: float | None, step_s: float) -> int:
    """Steps of a drift window of ``window_s`` seconds, at least :data:`MIN_DRIFT_STEPS` (0 when off)."""
    return 0 if window_s is None else max(int(round(window_s / step_s)), MIN_DRIFT_STEPS)


# ---- the drift option (every detector) -----------------------------------------------------------
#: Values of a detector's ``drift`` parameter: ``none`` (the method's own preprocessing only) or
#: ``trailing_median`` (gauges minus the median of their previous ``drift_median_s``).
DRIFT_CHOICES = ("none", "trailing_median")


@dataclass(frozen=True)
class DriftBaseline:
    """Gauges minus a trailing median: the one drift-handling choice every detector can take.

    A gauge that moves to a new level and stays there (memory kept after a leak, page cache, a
    grown pool) is a new normal; this removes it before the detector sees the data:
    ``x_t - median(x_{t-steps} .. x_{t-1})`` on the ``columns`` that are gauges (counters, already
    rates, are left alone). The baseline is :func:`trailing_median`, the one ``zscore`` follows:
    step t sees only steps before t (no look-ahead), and before the data starts the window is
    filled with ``start``, the training median, the only thing fitted (on training data only).
    A shift shorter than half the window is kept whole; one that lasts longer is absorbed.
    """

    columns: np.ndarray  # bool per column: the gauges the baseline is removed from
    start: np.ndarray  # training median of each of those columns
    steps: int

    @classmethod
    def fit(cls, train: np.ndarray, gauges: np.ndarray, window_s: float, step_s: float) -> DriftBaseline:
        """The baseline of the gauges of ``train`` (``T x F``) over ``window_s`` seconds (at least
        :data:`MIN_DRIFT_STEPS` steps of ``step_s``)."""
        gauges = np.asarray(gauges, dtype=bool)
        start = np.median(_as_2d(train)[:, gauges], axis=0) if gauges.any() else np.zeros(0)
        return cls(columns=gauges, start=start, steps=drift_steps(window_s, step_s))

    def remove(self, values: np.ndarray) -> np.ndarray:
        """``values`` (``T x F``, the fitted columns) with each gauge's trailing median subtracted."""
        out = np.array(values, dtype=np.float64, copy=True)
        if self.columns.any() and len(out):
            out[:, self.columns] -= trailing_median(out[:, self.columns], self.start, self.steps)
        return out

    def to_state(self, prefix: str = "drift.") -> dict[str, Any]:
        return {prefix + "columns": self.columns, prefix + "start": np.asarray(self.start, dtype=np.float64),
                prefix + "steps": int(self.steps)}

    @classmethod
    def from_state(cls, state: dict[str, Any], prefix: str = "drift.") -> DriftBaseline | None:
        if prefix + "columns" not in state:
            return None
        return cls(columns=np.asarray(state[prefix + "columns"], dtype=bool),
                   start=np.asarray(state[prefix + "start"], dtype=np.float64), steps=int(state[prefix + "steps"]))


# ---- physical limits (TELESTO sec. 3.2) -----------------------------------------------------------
#: Link speed network byte rates are divided by: the container network's virtual links (Docker's
#: veth pairs report 10 Gbit/s), in bytes per second. The testbed's services talk over them.
LINK_BYTES_PER_S = 10e9 / 8
#: The per-service limit series the collector records (container spec gauges), by the unit they bound.
LIMIT_METRICS = {"cores": "cpu_quota_cores", "bytes": "memory_limit_bytes"}


@dataclass(frozen=True)
class HostLimits:
    """The recording host's CPU cores and memory (the limit of a container without a quota)."""

    cores: float | None = None
    memory_bytes: float | None = None


def host_limits(dataset: Dataset) -> HostLimits:
    """The host's cores and memory from ``meta["host"]``, else the run's ``provenance/manifest.json``
    (``host.cpu_count``, ``host.memory_bytes``, written by ``faultlab run``); unknown ones are None."""
    host = dataset.meta.get("host") if isinstance(dataset.meta.get("host"), dict) else None
    if host is None and dataset.path is not None:
        for manifest in (Path(dataset.path) / "provenance" / "manifest.json", Path(dataset.path).parent / "manifest.json"):
            if manifest.exists():
                try:
                    host = json.loads(manifest.read_text()).get("host")
                except (OSError, ValueError):
                    host = None
                break

    def positive(key: str) -> float | None:
        value = (host or {}).get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None

    return HostLimits(cores=positive("cpu_count"), memory_bytes=positive("memory_bytes"))


@dataclass(frozen=True)
class PhysicalLimits:
    """Per column of a classifier's windows: the physical limit it is divided by (TELESTO sec. 3.2).

    ``source[j]``: the column of the *same window* holding series j's own limit (a service's
    ``cpu_quota_cores`` for its CPU, ``memory_limit_bytes`` for its memory), -1 when none;
    ``fallback[j]``: the limit when the window's own is absent or 0 (no quota set: the host's
    cores or memory; network bytes: :data:`LINK_BYTES_PER_S`), NaN when the series has no physical
    limit (latencies, request rates, packets, disk bytes: these keep training min-max).
    ``rule[j]`` names the limit for the notes. Reading the limit from the window keeps the models
    dimension invariant: windows of different services (TELESTO's per-node windows share one
    metric order) each carry their own quota.
    """

    source: np.ndarray
    fallback: np.ndarray
    rule: tuple[str, ...]

    def per_window(self, windows: np.ndarray) -> np.ndarray:
        """``N x d`` limits of ``N x w x d`` windows (NaN: no physical limit, use training min-max)."""
        n, _, d = windows.shape
        k = min(d, len(self.source))
        out = np.full((n, d), np.nan)
        out[:, :k] = self.fallback[:k]
        for j in range(k):
            src = int(self.source[j])
            if 0 <= src < d:
                own = np.median(windows[:, :, src], axis=1)
                use = np.isfinite(own) & (own > 0)
                out[use, j] = own[use]
        return np.where(np.isfinite(out) & (out > 0), out, np.nan)

    def summary(self) -> dict[str, int]:
        """How many columns follow each rule (``training min-max`` for the rest)."""
        counts: dict[str, int] = {}
        for rule in self.rule:
            counts[rule or "training min-max"] = counts.get(rule or "training min-max", 0) + 1
        return counts

    def to_state(self, prefix: str = "limits.") -> dict[str, Any]:
        return {prefix + "source": np.asarray(self.source, dtype=np.int64),
                prefix + "fallback": np.asarray(self.fallback, dtype=np.float64),
                prefix + "rule": np.asarray(self.rule, dtype=str)}

    @classmethod
    def from_state(cls, state: dict[str, Any], prefix: str = "limits.") -> PhysicalLimits | None:
        if prefix + "source" not in state:
            return None
        return cls(np.asarray(state[prefix + "source"], dtype=np.int64), np.asarray(state[prefix + "fallback"], dtype=np.float64),
                   tuple(str(r) for r in np.asarray(state[prefix + "rule"]).reshape(-1)))


def physical_limits(dataset: Dataset, columns: Sequence[str], host: HostLimits | None = None,
                    link_bytes_per_s: float = LINK_BYTES_PER_S) -> PhysicalLimits:
    """The :class:`PhysicalLimits` of windows over ``columns`` of ``dataset``.

    ``columns`` are either the dataset's column names (windows over the whole system, one
    service per column) or metric names (TELESTO's per-node windows: one service per window,
    so a series' limit is the limit metric of the same window). Units and groups come from the
    dataset's column table: ``cores`` (CPU) is bounded by ``cpu_quota_cores`` (0 = no quota:
    the host's cores), ``bytes`` of the memory group by ``memory_limit_bytes`` (0 = no limit: the
    host's memory), ``bytes/s`` of the network group by the link speed. The limit series
    themselves are divided by the host's value. Host facts: :func:`host_limits`; a limit that
    would need an unknown host value falls back to training min-max where the window has none.
    """
    host = host or host_limits(dataset)
    table = dataset.columns
    by_name = {str(r["name"]): r for r in table.to_dict("records")}
    by_metric: dict[str, dict[str, Any]] = {}
    for r in table.to_dict("records"):
        by_metric.setdefault(str(r["metric"]), r)
    index = {str(c): j for j, c in enumerate(columns)}
    source = np.full(len(columns), -1, dtype=np.int64)
    fallback = np.full(len(columns), np.nan)
    rules: list[str] = []
    for j, column in enumerate(map(str, columns)):
        per_node = column not in by_name
        row = by_metric.get(column) if per_node else by_name[column]
        if row is None:
            rules.append("")
            continue
        unit, group, metric = str(row.get("unit") or ""), str(row.get("group") or ""), str(row.get("metric"))
        if unit == "cores" or (unit == "bytes" and group == "memory"):
            limit_metric = LIMIT_METRICS[unit]
            host_value = host.cores if unit == "cores" else host.memory_bytes
            fallback[j] = host_value if host_value is not None else np.nan
            if metric != limit_metric:
                name = limit_metric if per_node else _column_of(table, str(row["service"]), limit_metric)
                source[j] = index.get(name, -1) if name is not None else -1
            what = "CPU" if unit == "cores" else "memory"
            rules.append(f"{what} limit" if source[j] >= 0 else f"host {what}" if host_value is not None else "")
        elif unit == "bytes/s" and group == "network":
            fallback[j] = link_bytes_per_s
            rules.append("link speed")
        else:
            rules.append("")
    return PhysicalLimits(source, fallback, tuple(rules))


def _column_of(table: pd.DataFrame, service: str, metric: str) -> str | None:
    hit = table[(table["service"].astype(str) == service) & (table["metric"].astype(str) == metric)]
    return None if hit.empty else str(hit["name"].iloc[0])


def _as_2d(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] == 0:
        raise BadInput(f"expected a non-empty T x F matrix, got shape {values.shape}")
    return values
