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
#: Root cause ranked from the first alarm inside each fault, as a deployed pipeline would (segment_scores.py)
FROM_ALARM = "from-alarm"
EVENT_SPLIT = "leave-events-out"
ALL = "all"

#: Direction of every metric name the table can hold that METRICS does not know.
EXTRA_HIGHER_IS_BETTER = {"class_precision": True, "class_recall": True, "confusion": True,
                          "train_alarm_rate": False, "rca_delay_s": False, "rca_missed": False, "n_faults": True}
#: The in-sample alarm rate: share of the fault-free training steps above the detector's own threshold.
TRAIN_ALARM_RATE = "train_alarm_rate"
#: Info rows, not scores: how a method trained and what it chose at fit (:func:`training_rows`).
#: Never gated (``faultlab check`` skips this protocol); the board shows them beside the scores.
TRAINING = "training"
#: The training rows' metrics; a method's own ``info_`` values (e.g. attae's chosen ``beta``) join them.
INFO_METRICS = {
    "epochs_run": "epochs trained (mean over a fit's networks and folds)",
    "best_epoch": "epoch whose weights were kept (early stopping restores the best)",
    "epoch_cap": "the cap on epochs the training ran under",
    "still_improving": "share of networks stopped by the cap while still improving (best epoch = last = cap)",
    "fit_time_s": "wall time of the fit (every fold), seconds",
    "train_loss": "training loss per epoch (breakdown epoch=<k>, first seed, first fold)",
    "val_loss": "validation loss per epoch (breakdown epoch=<k>, first seed, first fold)",
    "localize_s_per_segment": "a localizer's wall time per labelled segment, seconds",
}
#: Info metrics measured on the wall clock: the only rows two runs of the same seeds do not repeat.
WALL_CLOCK_METRICS = frozenset({"fit_time_s", "localize_s_per_segment"})


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


# ---- info rows: how a method trained ---------------------------------------------------------------
@dataclass(frozen=True)
class FitRecord:
    """One fit of a method, as the training rows need it: its ``training_`` (``{network:
    TrainHistory}``), the fit's wall time, and its ``info_`` (numbers it chose at fit)."""

    training: Mapping[str, Any]
    fit_s: float
    info: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, model: Any, fit_s: float) -> FitRecord:
        return cls(dict(getattr(model, "training_", {}) or {}), float(fit_s), dict(getattr(model, "info_", {}) or {}))


def training_rows(kind: str, spec: MethodSpec, dataset: str, seed: int, fits: Sequence[FitRecord],
                  curves: bool = False) -> list[dict[str, Any]]:
    """The info rows (protocol :data:`TRAINING`) of a method's fits on one dataset and seed.

    Only methods that train by epochs (a non-empty ``training_``) or report ``info_`` get rows.
    Breakdown ``all``: epochs run, best epoch, cap and the still-improving share, averaged over
    every network of every fit (folds, splits, ``lstm_ae``'s groups), and the total fit time;
    per network ``group=<name>`` when a fit trains several (``lstm_ae``: one per metric group).
    ``curves`` (the first seed) adds the first fit's per-epoch ``train_loss`` / ``val_loss``
    (breakdown ``epoch=<k>``, or ``group=<name>,epoch=<k>``), which the report draws.
    """
    out: list[dict[str, Any]] = []

    def put(metric: str, where: str, value: float) -> None:
        out.append(row(kind, spec, dataset, seed, metric, TRAINING, where, value))

    nets = [(str(name), h) for fit in fits for name, h in fit.training.items()]
    if nets:
        for where, chosen in [(ALL, [h for _, h in nets])] + [
            (f"group={name}", [h for n, h in nets if n == name]) for name in dict.fromkeys(n for n, _ in nets) if name != ALL
        ]:
            put("epochs_run", where, float(np.mean([h.epochs for h in chosen])))
            put("best_epoch", where, float(np.mean([h.best_epoch for h in chosen])))
            put("epoch_cap", where, float(np.mean([h.max_epochs for h in chosen])) if all(h.max_epochs for h in chosen) else float("nan"))
            put("still_improving", where, float(np.mean([h.still_improving for h in chosen])))
            put("fit_time_s", where, float(sum(f.fit_s for f in fits)) if where == ALL else float(sum(h.fit_s for h in chosen)))
    infos = [f.info for f in fits if f.info]
    for key in dict.fromkeys(k for info in infos for k in info):
        put(str(key), ALL, float(np.mean([info[key] for info in infos if key in info])))
    if curves and fits:
        for name, h in fits[0].training.items():
            prefix = "" if name == ALL else f"group={name},"
            for metric, losses in (("train_loss", h.train_loss), ("val_loss", h.val_loss)):
                for epoch, loss in enumerate(losses, 1):
                    put(metric, f"{prefix}epoch={epoch}", float(loss))
    return out

