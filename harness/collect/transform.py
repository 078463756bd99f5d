"""Pure transforms from raw Prometheus series to aligned dataset columns (no I/O here).

Preprocessing follows the papers the detectors come from:

* counters are turned into per-time-step increments (here: per-second rates) and gauges keep
  their value: the radiography paper (seed 003, SYRROCA, Sec. III.A "Data collection and
  preprocessing");
* missing values are filled forward, then backward (GNN-LSTM-VAE, seed 000, Sec. 4.2 "Data
  Preprocessing"); unlike the papers we also keep a boolean mask of the filled cells so
  detectors and scoring can tell measured values from filled ones.

Counter resets follow Prometheus ``rate()`` semantics: a drop means the counter restarted from
zero, so the increment across the drop is the new value itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faultlab.harness.collect.catalog import MetricSpec

ColumnKey = tuple[str, str]  # (service, metric)


@dataclass(frozen=True)
class RawSeries:
    """One series as Prometheus returned it: its labels and its samples (unix seconds)."""

    labels: dict[str, str]
    times_s: np.ndarray  # float64, ascending
    values: np.ndarray  # float64, same length


def make_grid(start: pd.Timestamp, end: pd.Timestamp, step_s: float) -> pd.DatetimeIndex:
    """The dataset's time grid: ``start, start + step, ...`` up to and including ``end`` (UTC)."""
    start, end = to_utc(start), to_utc(end)
    step = pd.Timedelta(seconds=step_s)
    count = int(np.floor((end - start) / step + 1e-9)) + 1
    return pd.date_range(start, periods=max(count, 0), freq=step, name="timestamp")


def to_utc(when: object) -> pd.Timestamp:
    """A timestamp in UTC; naive times and unix seconds are taken as UTC."""
    if isinstance(when, (int, float, np.integer, np.floating)):
        return pd.Timestamp(float(when), unit="s", tz="UTC")
    stamp = pd.Timestamp(when)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def grid_seconds(grid: pd.DatetimeIndex) -> np.ndarray:
    """Unix seconds of each grid point (float64)."""
    return grid.as_unit("ns").asi8.astype(np.float64) / 1e9


def on_grid(series: RawSeries, grid_s: np.ndarray) -> np.ndarray:
    """The series' values at the grid points (matched to the millisecond), NaN where absent."""
    out = np.full(len(grid_s), np.nan)
    if len(series.times_s) == 0:
        return out
    grid_ms = np.round(grid_s * 1000).astype(np.int64)
    times_ms = np.round(series.times_s * 1000).astype(np.int64)
    pos = np.searchsorted(grid_ms, times_ms)
    pos_ok = pos < len(grid_ms)
    hit = np.zeros(len(times_ms), dtype=bool)
    hit[pos_ok] = grid_ms[pos[pos_ok]] == times_ms[pos_ok]
    out[pos[hit]] = series.values[hit]
    return out


def counter_rate(times_s: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-second rate of a counter at each sample, from the previous present sample.

    NaN where the value is missing and at the first present sample (no previous one). A drop is a
    reset to zero (Prometheus ``rate()`` semantics), so the increment across it is the new value.
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    out = np.full(len(values), np.nan)
    present = np.flatnonzero(~np.isnan(values))
    if len(present) < 2:
        return out
    v = values[present]
    delta = np.diff(v)
    delta = np.where(delta < 0, v[1:], delta)
    dt = np.diff(times_s[present])
    out[present[1:]] = delta / dt
    return out


def _sum_present(stack: Sequence[np.ndarray]) -> np.ndarray:
    """Element-wise sum ignoring NaN; NaN only where every input is NaN."""
    arr = np.vstack(stack)
    total = np.nansum(arr, axis=0)
    total[np.all(np.isnan(arr), axis=0)] = np.nan
    return total


def _service_of(spec: MetricSpec, labels: Mapping[str, str]) -> str | None:
    return spec.service if spec.service is not None else labels.get("service")


def _per_column(
    spec: MetricSpec,
    series: Iterable[RawSeries],
    grid_s: np.ndarray,
    as_rate: bool,
    services: set[str] | None,
) -> dict[ColumnKey, np.ndarray]:
    """Rates (or values) of every raw series, summed per (service, metric)."""
    parts: dict[ColumnKey, list[np.ndarray]] = {}
    for raw in series:
        service = _service_of(spec, raw.labels)
        if not service or (services is not None and service not in services):
            continue
        values = on_grid(raw, grid_s)
        if as_rate:
            values = counter_rate(grid_s, values)
        parts.setdefault((service, spec.metric_name(raw.labels)), []).append(values)
    return {key: _sum_present(stack) for key, stack in parts.items()}


def spec_columns(
    spec: MetricSpec,
    results: Mapping[str, Sequence[RawSeries]],
    grid_s: np.ndarray,
    window_s: float,
    services: set[str] | None = None,
) -> dict[ColumnKey, np.ndarray]:
    """The columns one spec yields, from the fetched results of its queries."""
    queries = spec.queries(window_s)
    main = _per_column(spec, results.get(queries[0], ()), grid_s, spec.kind == "counter", services)
    if spec.divide_by is None:
        return main
    denominator = _per_column(spec, results.get(queries[1], ()), grid_s, True, services)
    out = {}
    for key, num in main.items():
        den = denominator.get(key)
        if den is None:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            out[key] = np.where(den > 0, num / den, np.nan)
    return out


def fill_gaps(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forward- then backward-filled copy of ``frame`` and the mask of cells that were missing.

    A column with no value at all stays NaN (and fully masked): there is nothing to fill from.
    """
    mask = frame.isna()
    return frame.ffill().bfill(), mask
