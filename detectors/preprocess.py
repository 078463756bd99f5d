"""Shared building blocks: scalers fitted on training data and window <-> step score mapping.

Scalers are fitted on the fault-free training part only (fitting on test data would leak the
faults into the normalisation). Their state is two arrays, so detectors can save them in npz.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faultlab.dataset import sliding_windows
from faultlab.errors import BadInput

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


def _as_2d(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] == 0:
        raise BadInput(f"expected a non-empty T x F matrix, got shape {values.shape}")
    return values
