"""The tidy results table's vocabulary: columns, protocols, method specs, score timelines.

Kept apart from the loops (:mod:`.grid` and the ``*_rows`` modules) so that every view of the
table (scores.json, leaderboard, check, compare) can import it without importing the methods.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from faultlab.errors import BadInput

COLUMNS = ["kind", "model", "dataset", "seed", "metric", "protocol", "breakdown", "value"]
#: Optional ninth column: why a value is undefined (``n/a``), empty where it is a number.
REASON = "reason"
OWN = "own-threshold"
ORACLE = "oracle-best-f1"
FREE = "threshold-free"
ADJUSTED = "point-adjusted (optimistic)"
SEGMENTS = "labelled-segments"
SEGMENTS_METRIC = "labelled-segments (metric level)"
EVENT_SPLIT = "leave-events-out"
ALL = "all"

#: Direction of every metric name the table can hold that METRICS does not know.
EXTRA_HIGHER_IS_BETTER = {"class_precision": True, "class_recall": True, "confusion": True,
                          "train_alarm_rate": False}
#: The in-sample alarm rate: share of the fault-free training steps above the detector's own threshold.
TRAIN_ALARM_RATE = "train_alarm_rate"


@dataclass(frozen=True)
class MethodSpec:
    """One detector or classifier to run: registered name, parameters, seeds.

    The scenario's ``evaluate.detectors`` entries have the same three fields and are accepted
    as they are (see :func:`as_specs`).
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)

    @property
    def label(self) -> str:
        """``name`` or ``name(k=v, ...)``: the ``model`` column, unique per configuration."""
        if not self.params:
            return self.name
        args = ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in sorted(self.params.items()))
        return f"{self.name}({args})"


@dataclass(frozen=True)
class ScoreTimeline:
    """A detector's per-step test scores for one seed: what the timeline plots draw."""

    dataset: str
    model: str
    seed: int
    timestamps: pd.DatetimeIndex
    scores: np.ndarray
    threshold: float
    anomaly: np.ndarray
    fault_type: np.ndarray
    figures: dict[str, bytes] = field(default_factory=dict)  # the method's own plots (e.g. radiographies), first seed
    #: the series policy at scoring time (``Detector.alignment_``): missing series filled, new ones ignored
    alignment: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoringOptions:
    """How detectors are scored, the same for every method on a dataset.

    ``floors``: add the reference floors (``always_alarm``, ``random``) to the detectors.
    ``count_recovering``: count steps labelled ``recovering`` (after a fault, before the system is
    back to its old level) as normal steps; by default they are left out of false alarms, alarm
    rates and every other detection metric. ``vus_window_s``: an explicit VUS buffer in seconds
    (default: derived per dataset, see :func:`faultlab.harness.scoring.derive_window`).
    """

    floors: bool = True
    count_recovering: bool = False
    vus_window_s: float | None = None

    @property
    def recovering_policy(self) -> str:
        return "counted as normal steps" if self.count_recovering else "excluded from false alarms and alarm rates"


@dataclass
class Evaluation:
    """The tidy table, the score timelines the plots need (first seed of each detector), and
    per-dataset settings (VUS window, candidate set, recovering policy, floors) for the reports."""

    table: pd.DataFrame
    timelines: list[ScoreTimeline] = field(default_factory=list)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)


def as_specs(items: Iterable[Any] | None, seeds: Sequence[int] | None = None) -> list[MethodSpec]:
    """MethodSpecs from names, dicts or objects with ``name``/``params``/``seeds``.

    ``seeds`` (e.g. from ``--seeds``) overrides every entry's own seeds when given.
    """
    out: list[MethodSpec] = []
    for i, item in enumerate(items or []):
        if isinstance(item, MethodSpec):
            spec = item
        elif isinstance(item, str):
            spec = MethodSpec(item)
        elif isinstance(item, Mapping):
            if "name" not in item:
                raise BadInput(f"method entry {i}: field 'name' is missing")
            spec = MethodSpec(str(item["name"]), dict(item.get("params") or {}), tuple(item.get("seeds") or (0,)))
        elif hasattr(item, "name"):
            spec = MethodSpec(str(item.name), dict(getattr(item, "params", {}) or {}), tuple(getattr(item, "seeds", (0,))))
        else:
            raise BadInput(f"method entry {i}: expected a name or a {{name, params, seeds}} entry, got {item!r}")
        if seeds is not None:
            spec = MethodSpec(spec.name, spec.params, tuple(seeds))
        bad = [s for s in spec.seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0]
        if bad or not spec.seeds:
            raise BadInput(f"{spec.name}: seeds must be a non-empty list of integers >= 0, got {list(spec.seeds)}")
        out.append(spec)
    labels = [s.label for s in out]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise BadInput(f"method {dupes[0]!r} is listed twice with the same parameters")
    return out


def higher_is_better(metric: str) -> bool:
    """Direction of a metric in the table (registered ones from METRICS, extras from here)."""
    from faultlab.harness.scoring import METRICS

    if metric in METRICS:
        return METRICS.get(metric).higher_is_better
    return EXTRA_HIGHER_IS_BETTER.get(metric, True)


def row(kind: str, spec: MethodSpec, dataset: str, seed: int, metric: str, protocol: str, where: str, value: float,
        reason: str = "") -> dict[str, Any]:
    """One row of the tidy table; ``reason`` (why the value is n/a) is kept only when it is."""
    value = float(value)
    return {"kind": kind, "model": spec.label, "dataset": dataset, "seed": int(seed), "metric": metric,
            "protocol": protocol, "breakdown": where, "value": value, REASON: reason if not np.isfinite(value) else ""}


def tidy(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows as the table: the fixed columns plus ``reason``, in their dtypes (also when empty)."""
    table = pd.DataFrame(list(rows), columns=[*COLUMNS, REASON])
    table["seed"] = table["seed"].astype(np.int64)
    table["value"] = table["value"].astype(np.float64)
    table[REASON] = table[REASON].fillna("").astype(str)
    return table
