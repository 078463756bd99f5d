"""Detectors against the reference floors: the floor of each headline column, and who is within noise.

A detector is **within noise of a floor** on a metric when its seed mean differs from the better
floor's (``always_alarm`` or ``random``) by at most ``max(detector's seed std, floor's seed std,
NOISE_EPS)``: one seed's spread, or an absolute 0.02 where a single seed gives no spread. It is
**below the floor** when it is worse by more than that. Only metrics where higher is better get a
verdict: the floors' alarm rates and delays are extreme by construction (always_alarm alarms at
once on every step), so they are shown, not used as a bar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from faultlab.detectors.floors import FLOORS, is_floor

#: Absolute noise floor of the comparison, in the metric's unit (0..1 scores).
NOISE_EPS = 0.02
WITHIN = "≈"
BELOW = "↓"

__all__ = ["BELOW", "FLOORS", "NOISE_EPS", "WITHIN", "FloorRef", "floor_reference", "is_floor", "verdict"]


@dataclass(frozen=True)
class FloorRef:
    """The better floor's seed mean and std on one column, and which floor it is."""

    model: str
    mean: float
    std: float


def floor_reference(head: pd.DataFrame, label: str, higher_is_better: bool) -> FloorRef | None:
    """The better floor on column ``label`` (``<label> mean``/``std``) of one dataset's headline rows."""
    floors = head[head["model"].map(is_floor)]
    best: FloorRef | None = None
    for _, row in floors.iterrows():
        mean = float(row.get(f"{label} mean", math.nan))
        if not math.isfinite(mean):
            continue
        std = float(row.get(f"{label} std", math.nan))
        if best is None or (mean > best.mean if higher_is_better else mean < best.mean):
            best = FloorRef(str(row["model"]), mean, std)
    return best


def verdict(mean: float, std: float, floor: FloorRef | None, higher_is_better: bool) -> str:
    """``WITHIN`` (≈), ``BELOW`` (↓) or "" for a detector's mean against the better floor."""
    if floor is None or not higher_is_better or not math.isfinite(mean):
        return ""
    noise = max(x for x in (std, floor.std, NOISE_EPS) if math.isfinite(x))
    delta = mean - floor.mean
    if abs(delta) <= noise + 1e-12:
        return WITHIN
    return BELOW if delta < 0 else ""
