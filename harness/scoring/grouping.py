"""Break a metric down per fault type / per target service, and summarise over seeds.

Per-group detection scores keep every normal step and the steps of that group's faults, and
drop the steps of other faults: a detector is judged on each fault type against the same
fault-free background, and another type's alarms neither help nor hurt it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from faultlab.errors import BadInput
from faultlab.harness.scoring.base import as_binary


def group_masks(column: Sequence[str] | np.ndarray, split: str | None = None, empty: str = "") -> dict[str, np.ndarray]:
    """``{group: bool mask over steps}`` from a per-step label column.

    ``group_masks(labels["fault_type"])`` gives one mask per fault type;
    ``group_masks(labels["root_cause"], split=",")`` one per service named in the
    comma-separated root-cause lists (a step with two root causes is in both groups).
    """
    values = np.asarray(column, dtype=object).astype(str)
    if split is None:
        return {name: values == name for name in sorted(set(values) - {empty})}
    members = [{p.strip() for p in v.split(split)} - {empty} for v in values]
    names = sorted(set().union(*members)) if members else []
    return {name: np.array([name in m for m in members], dtype=bool) for name in names}


def breakdown(
    metric: Callable[..., float],
    y_true: Any,
    x: Any,
    groups: Mapping[str, np.ndarray],
    **context: Any,
) -> dict[str, float]:
    """``{group: metric}`` on the normal steps plus each group's steps (see the module docstring).

    ``x`` is the per-step prediction or score; array-valued ``context`` entries as long as the
    series (e.g. ``timestamps_s``) are cut the same way.
    """
    truth = as_binary(y_true, "y_true")
    values = np.asarray(x)
    n = len(truth)
    if len(values) != n:
        raise BadInput(f"y_true and the scores/predictions differ in length: {n} != {len(values)}")
    out: dict[str, float] = {}
    for name, mask in groups.items():
        mask = np.asarray(mask, dtype=bool)
        if len(mask) != n:
            raise BadInput(f"group {name!r}: mask has {len(mask)} steps for {n}")
        keep = mask | ~truth
        sliced = {k: _cut(v, keep, n) for k, v in context.items()}
        out[name] = float(metric(truth[keep], values[keep], **sliced))
    return out


def breakdown_by(
    metric: Callable[..., float], labels: pd.DataFrame, x: Any, by: str = "fault_type", **context: Any
) -> dict[str, float]:
    """:func:`breakdown` straight from a dataset's labels frame (``Dataset.labels``).

    ``by`` is a label column: ``"fault_type"``, ``"fault_id"``, or ``"root_cause"`` (split on
    commas: one group per target service).
    """
    if by not in labels.columns or "anomaly" not in labels.columns:
        raise BadInput(f"labels have no {by!r} or 'anomaly' column (columns: {list(labels.columns)})")
    column = labels[by].fillna("").astype(str).to_numpy()
    masks = group_masks(column, split="," if by == "root_cause" else None)
    return breakdown(metric, labels["anomaly"].to_numpy(), x, masks, **context)


def _cut(value: Any, keep: np.ndarray, n: int) -> Any:
    if isinstance(value, (np.ndarray, pd.Index, pd.Series, list)) and len(value) == n:
        return np.asarray(value)[keep]
    return value


def breakdown_items(fn: Callable[..., float], keys: Sequence[str], *columns: Sequence[Any]) -> dict[str, float]:
    """``{key: fn(*columns restricted to that key)}`` for per-fault data (RCA, classification).

    ``breakdown_items(ac_at_k, fault_types, ranked, truth)`` gives AC@1 per fault type.
    """
    keys_arr = np.asarray(keys, dtype=object).astype(str)
    for col in columns:
        if len(col) != len(keys_arr):
            raise BadInput(f"a column has {len(col)} items for {len(keys_arr)} keys")
    out: dict[str, float] = {}
    for key in sorted(set(keys_arr)):
        idx = np.flatnonzero(keys_arr == key)
        out[key] = float(fn(*[[col[i] for i in idx] for col in columns]))
    return out


@dataclass(frozen=True)
class SeedSummary:
    """Mean and sample standard deviation (ddof=1) of the finite values over seeds."""

    mean: float
    std: float
    n: int


def aggregate_seeds(values: Sequence[float] | np.ndarray) -> SeedSummary:
    """NaNs (undefined metrics) are left out; ``std`` is ``nan`` below two finite values."""
    arr = np.asarray(values, dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    if len(finite) == 0:
        return SeedSummary(float("nan"), float("nan"), 0)
    std = float(np.std(finite, ddof=1)) if len(finite) > 1 else float("nan")
    return SeedSummary(float(finite.mean()), std, len(finite))


def aggregate_table(table: pd.DataFrame, value: str = "value", seed: str = "seed") -> pd.DataFrame:
    """Tidy rows (one per ... x seed) -> one row per the other columns with mean, std, n."""
    for col in (value, seed):
        if col not in table.columns:
            raise BadInput(f"results table has no {col!r} column (columns: {list(table.columns)})")
    by = [c for c in table.columns if c not in (value, seed)]
    rows = []
    for key, part in table.groupby(by, sort=True, dropna=False) if by else [((), table)]:
        summary = aggregate_seeds(part[value].to_numpy(dtype=np.float64))
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "mean": summary.mean, "std": summary.std, "n": summary.n})
    return pd.DataFrame(rows, columns=[*by, "mean", "std", "n"])
