"""Scoring one detector for one seed on one dataset: rows of the tidy table (kind ``detector``).

The test steps are prepared once per dataset (:class:`ScoredSteps`: recovering steps left out
unless counted, the breakdown masks, the VUS buffer); every detection metric is computed on
them under each protocol it has (own threshold, oracle, threshold-free, point-adjusted), and a
detector that localizes also gets AC@k / Avg@k on the labelled fault segments. See
:mod:`.grid` for the columns and protocols.

Two more kinds of rows: a deep detector's training record (info rows, protocol ``training``:
epochs run, best epoch, fit time, loss curves of the first seed; :func:`~.table.training_rows`),
and, for a detector that reads one score per metric group (``group_scores`` and
``group_thresholds_``, ``lstm_ae`` as seed 003 reads its radiographies), each group on its own
(:func:`group_rows`, breakdown ``group=<g>``): F1, precision, recall and fault-free alarm rate
at the group's own threshold, and VUS-PR / VUS-ROC of the group's score.

A value that the data cannot give (no labelled anomaly in a breakdown, no detected event) is
``nan`` with a ``reason``, never 0.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from faultlab.dataset import Dataset
from faultlab.errors import BadInput
from faultlab.harness.datasets.labels import Intensity, fault_intensities
from faultlab.harness.evaluation.segment_scores import (
    DELAY,
    alarm_starts,
    from_alarm_scores,
    localize_from_alarms,
    segment_scores,
)
from faultlab.harness.evaluation.table import (
    ADJUSTED,
    ALL,
    FREE,
    ORACLE,
    OWN,
    SEGMENTS,
    TRAIN_ALARM_RATE,
    FitRecord,
    MethodSpec,
    ScoreTimeline,
    ScoringOptions,
    row,
    training_rows,
)
from faultlab.harness.reports.radiography import detector_group_figures, detector_radiographies
from faultlab.harness.scoring import Metric, best_f1_threshold, group_masks
from faultlab.harness.scoring.events import to_seconds
from faultlab.harness.scoring.rootcause import random_ranking_expectation
from faultlab.harness.scoring.vus import VusResult, VusWindow, derive_window, vus_per_window

#: Metrics computed together from one VUS surface (one pass gives both).
VUS_METRICS = {"vus_roc": lambda r: r.vus_roc, "vus_pr": lambda r: r.vus_pr}


def _why(metric: str, y: np.ndarray) -> str:
    """Why a detection metric is undefined on these labels (the n/a reason)."""
    if not y.any():
        return "no labelled anomaly among the scored steps"
    if y.all():
        return "no fault-free step among the scored steps"
    if metric == "mean_delay_s":
        return "no fault event was detected"
    return "undefined for these labels and alarms"


def _label_groups(labels: Any, intensities: Mapping[str, Intensity] | None = None) -> dict[str, np.ndarray]:
    """Per-step masks named ``fault_type=...`` and ``target=...`` (the breakdowns); on a dataset
    with an intensity ladder also ``intensity=<type>@<value> <unit>`` and ``level=<k>`` (the k-th
    weakest intensity of every type: the detection limits)."""
    groups = {f"fault_type={k}": v for k, v in group_masks(labels["fault_type"].to_numpy()).items()}
    groups |= {f"target={k}": v for k, v in group_masks(labels["root_cause"].to_numpy(), split=",").items()}
    if intensities:
        ids = labels["fault_id"].astype(str).to_numpy()
        for fault_id, level in sorted(intensities.items(), key=lambda kv: (kv[1].fault_type, kv[1].value)):
            at = ids == fault_id
            for name in (f"intensity={level.label}", f"level={level.level}"):
                groups[name] = groups.get(name, np.zeros(len(ids), dtype=bool)) | at
    return groups


def recovering_mask(labels: Any) -> np.ndarray:
    """Steps labelled ``recovering`` and not anomalous (a missing column means none)."""
    anomaly = labels["anomaly"].to_numpy() > 0
    if "recovering" not in labels.columns:
        return np.zeros(len(labels), dtype=bool)
    return (labels["recovering"].fillna(0).to_numpy().astype(np.float64) > 0) & ~anomaly


@dataclass(frozen=True)
class ScoredSteps:
    """The test steps detectors are judged on, prepared once per dataset.

    ``keep`` drops recovering steps unless they are counted; ``y``, ``timestamps_s`` and the
    breakdown ``groups`` are over the kept steps; ``vus`` is the buffer derived on them.
    """

    test: Dataset
    keep: np.ndarray
    y: np.ndarray
    timestamps_s: np.ndarray
    groups: dict[str, np.ndarray]
    vus: VusWindow
    candidates: list[str]

    def cut(self, name: str) -> np.ndarray:
        """Kept steps of breakdown ``name``: the normal ones plus that group's faults."""
        return self.groups[name] | ~self.y


def scored_steps(dataset: Dataset, options: ScoringOptions | None = None) -> ScoredSteps:
    """:class:`ScoredSteps` of ``dataset.test()`` under ``options``; the settings the reports print."""
    options = options or ScoringOptions()
    test = dataset.test()
    keep = np.ones(len(test.labels), dtype=bool) if options.count_recovering else ~recovering_mask(test.labels)
    y = test.y.astype(bool)[keep]
    intensities = fault_intensities(dataset.meta.get("faults", []) or [])
    groups = {k: v[keep] for k, v in _label_groups(test.labels, intensities).items()}
    cuts = [y] + [y[m | ~y] for m in groups.values()]
    vus = derive_window(cuts, dataset.scrape_interval_s, window_s=options.vus_window_s)
    return ScoredSteps(test, keep, y, to_seconds(test.timestamps)[keep], groups, vus, list(dataset.candidates))


def dataset_settings(dataset: Dataset, options: ScoringOptions | None = None,
                     steps: ScoredSteps | None = None) -> dict[str, Any]:
    """What the leaderboard and scores.json state about how ``dataset`` was scored (``steps``:
    the prepared test steps, when the caller has them already)."""
    options = options or ScoringOptions()
    steps = steps or scored_steps(dataset, options)
    n_recovering = int(recovering_mask(steps.test.labels).sum())
    return {
        "interval_s": dataset.scrape_interval_s,
        "test_steps": len(steps.test.labels),
        "anomalous_share": float(steps.test.y.mean()) if len(steps.test.labels) else float("nan"),
        "vus": steps.vus.to_json(),
        "candidates": steps.candidates,
        "context": list(dataset.context),
        "recovering_steps": n_recovering,
        "recovering": options.recovering_policy,
        "floors": options.floors,
    }


def score_detector(
    dataset: Dataset, spec: MethodSpec, seed: int, metrics: Sequence[Metric], *,
    options: ScoringOptions | None = None, steps: ScoredSteps | None = None,
) -> tuple[list[dict[str, Any]], ScoreTimeline]:
    """Fit on ``dataset.train()``, score ``dataset.test()``, one row per metric/protocol/breakdown.

    ``steps`` (from :func:`scored_steps`) saves preparing the test part again for every method.
    """
    from faultlab.detectors import Localizer, make_detector

    train = dataset.train()
    steps = steps or scored_steps(dataset, options)
    test = steps.test
    if len(train.metrics) == 0:
        raise BadInput(f"dataset {dataset.name!r} has no fault-free training steps before train_end {dataset.train_end}")
    if len(test.metrics) == 0:
        raise BadInput(f"dataset {dataset.name!r} has no test steps after train_end {dataset.train_end}")
    started = time.perf_counter()
    detector = make_detector(spec.name, spec.params, seed).fit(train)
    fit_s = time.perf_counter() - started
    full_scores = detector.score(test)
    scores = full_scores[steps.keep]
    own = scores > detector.threshold_  # Detector.predict's rule, without scoring twice
    y = steps.y
    oracle_t = best_f1_threshold(y, scores).threshold
    oracle = scores >= oracle_t if np.isfinite(oracle_t) else None  # ranking's rule: alarm at >= t
    context = {"timestamps_s": steps.timestamps_s}

    rows: list[dict[str, Any]] = []
    undefined = dict(getattr(detector, "undefined_metrics", {}))

    def put(metric: str, protocol: str, where: str, value: float, truth: np.ndarray) -> None:
        if metric in undefined:  # e.g. a floor's false alarms: a number that would mean nothing
            rows.append(row("detector", spec, dataset.name, seed, metric, protocol, where, float("nan"), undefined[metric]))
            return
        rows.append(row("detector", spec, dataset.name, seed, metric, protocol, where, value, _why(metric, truth)))

    def add(metric: Metric, protocol: str, x: np.ndarray, ctx: dict[str, Any]) -> None:
        put(metric.name, protocol, ALL, metric(y, x, **ctx), y)
        for where in steps.groups:
            keep = steps.cut(where)
            sliced = {k: v[keep] for k, v in ctx.items()}
            put(metric.name, protocol, where, metric(y[keep], x[keep], **sliced), y[keep])

    vus = _vus_surfaces(steps, scores) if any(m.name in VUS_METRICS for m in metrics) else {}
    for metric in metrics:
        if metric.name in VUS_METRICS:
            for where, result in vus.items():
                truth = y if where == ALL else y[steps.cut(where)]
                put(metric.name, FREE, where, VUS_METRICS[metric.name](result), truth)
        elif metric.kind == "score":
            add(metric, ORACLE if metric.caveat == "oracle" else FREE, scores, {})
        elif metric.kind in ("binary", "events"):
            ctx = context if metric.kind == "events" else {}
            if metric.caveat == "optimistic":
                add(metric, ADJUSTED, own, ctx)
                continue
            add(metric, OWN, own, ctx)
            if oracle is not None:
                add(metric, ORACLE, oracle, ctx)
    if any(m.name == "alarm_rate" for m in metrics):
        put(TRAIN_ALARM_RATE, OWN, ALL, float(np.mean(detector.train_scores_ > detector.threshold_)), np.zeros(1, bool))
    first = seed == spec.seeds[0]
    rows += training_rows("detector", spec, dataset.name, seed, [FitRecord.of(detector, fit_s)], curves=first)
    if hasattr(detector, "group_scores") and hasattr(detector, "group_thresholds_"):
        rows += group_rows(detector, steps, spec, dataset.name, seed, metrics)
    rankers = [m for m in metrics if m.kind == "rootcause"]
    if rankers and spec.name == "random":
        rows += random_ranking_rows(test, steps.candidates, spec, dataset.name, seed, rankers)
    elif rankers and isinstance(detector, Localizer):
        rows += root_cause_rows(detector, test, steps.candidates, spec, dataset.name, seed, rankers,
                                alarms=full_scores > detector.threshold_)
    timeline = ScoreTimeline(
        dataset=dataset.name, model=spec.label, seed=seed, timestamps=test.timestamps, scores=full_scores,
        threshold=float(detector.threshold_), anomaly=test.y.copy(),
        fault_type=test.labels["fault_type"].to_numpy(dtype=str),
        figures={**detector_radiographies(detector, test), **detector_group_figures(detector, test)} if first else {},
        alignment=dict(getattr(detector, "alignment_", None) or {}),
    )
    return rows, timeline


#: What each group of a per-group detector is scored with, at its own threshold (the rest: threshold-free).
GROUP_BINARY = ("f1", "precision", "recall", "alarm_rate")


def group_rows(detector: Any, steps: ScoredSteps, spec: MethodSpec, dataset: str, seed: int,
               metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """Each metric group of a per-group detector on its own (breakdown ``group=<g>``).

    ``detector.group_scores(test)`` gives one score per step per group and
    ``detector.group_thresholds_`` each group's own threshold (``lstm_ae``: ``MSE^g`` and ``T^g``,
    seed 003 sec. III-C). Rows: :data:`GROUP_BINARY` at the group's threshold (protocol own),
    VUS-PR / VUS-ROC of its score (threshold-free), each against every labelled fault: a group
    that never sees a fault type shows it as low recall, which is what its radiography says.
    """
    per_group = detector.group_scores(steps.test)
    thresholds = detector.group_thresholds_
    y = steps.y
    chosen = {m.name: m for m in metrics}
    out = []
    for group, scores in per_group.items():
        where = f"group={group}"
        kept = np.asarray(scores, dtype=np.float64)[steps.keep]
        alarms = kept > thresholds[group]
        for name in GROUP_BINARY:
            if name in chosen:
                out.append(row("detector", spec, dataset, seed, name, OWN, where, chosen[name](y, alarms), _why(name, y)))
        if any(name in chosen for name in VUS_METRICS):
            surface = vus_per_window(y, kept, window=steps.vus.steps)
            for name, read in VUS_METRICS.items():
                if name in chosen:
                    out.append(row("detector", spec, dataset, seed, name, FREE, where, read(surface), _why(name, y)))
    return out


def _vus_surfaces(steps: ScoredSteps, scores: np.ndarray) -> dict[str, VusResult]:
    """One VUS surface per breakdown (all, each group): VUS-ROC and VUS-PR both read from it."""
    out = {ALL: vus_per_window(steps.y, scores, window=steps.vus.steps)}
    for where in steps.groups:
        keep = steps.cut(where)
        out[where] = vus_per_window(steps.y[keep], scores[keep], window=steps.vus.steps)
    return out



# ---- root cause on the labelled segments ------------------------------------------------
def _rca_rows(spec: MethodSpec, dataset: str, seed: int, metrics: Sequence[Metric], protocol: str,
              types: Sequence[str], truth: Sequence[set[str]], value: Any) -> list[dict[str, Any]]:
    """Rows of every root-cause metric over all faults, per fault type and per target.

    ``value(metric, indices)`` scores the faults at ``indices``.
    """
    rows = []
    everything = list(range(len(truth)))
    groups = {f"fault_type={t}": [i for i in everything if types[i] == t] for t in sorted(set(types))}
    if protocol == SEGMENTS:
        groups |= {f"target={s}": [i for i in everything if s in truth[i]] for s in sorted(set().union(*truth))}
    for metric in metrics:
        rows.append(row("detector", spec, dataset, seed, metric.name, protocol, ALL, value(metric, everything),
                         "no candidate ranked"))
        for where, idx in groups.items():
            rows.append(row("detector", spec, dataset, seed, metric.name, protocol, where, value(metric, idx),
                             "no candidate ranked"))
    return rows


def root_cause_rows(detector: Any, test: Dataset, candidates: Sequence[str], spec: MethodSpec, dataset: str,
                    seed: int, metrics: Sequence[Metric], alarms: np.ndarray | None = None) -> list[dict[str, Any]]:
    """AC@k / Avg@k from ``localize`` on the labelled fault segments (root cause apart from detection),
    and from the detector's own first alarm inside each fault (``from-alarm``, :mod:`.segment_scores`).

    Only ``candidates`` are ranked (the services a fault can target): a localizer may use context
    services (host, load generator) as evidence, but ranking one first does not cost a place.
    ``alarms``: the detector's own alarms on ``test`` (one bool per step; predicted here when not given;
    a localizer that cannot predict gets the labelled-segment rows only).
    """
    from faultlab.detectors import fault_segments
    from faultlab.detectors.localizers import ANALYSIS_STEPS

    segments = [s for s in fault_segments(test) if s.root_cause]
    if not segments:
        return []
    rankings = detector.localize(test, [(s.start, s.end) for s in segments])
    scores = segment_scores(test, rankings, segments, metrics, candidates)
    if alarms is None and hasattr(detector, "predict"):
        alarms = detector.predict(test) > 0
    if alarms is not None:
        starts = alarm_starts(test, alarms, segments, ANALYSIS_STEPS)
        alarmed = localize_from_alarms(test, starts, lambda cut, alarm, end: detector.localize(cut, [(alarm, end)])[0])
        scores |= from_alarm_scores(test, starts, alarmed, metrics, candidates)
    return [row("detector", spec, dataset, seed, metric, protocol, where, value,
                "no fault of this kind was detected" if metric == DELAY else "no candidate ranked")
            for (metric, protocol, where), value in scores.items()]


def random_ranking_rows(test: Dataset, candidates: Sequence[str], spec: MethodSpec, dataset: str, seed: int,
                         metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """The ``random`` floor's AC@k / Avg@k: the expected value of a random order of the candidates."""
    from faultlab.detectors import fault_segments

    segments = [s for s in fault_segments(test) if s.root_cause]
    if not segments:
        return []
    truth = [set(s.root_cause) for s in segments]
    types = [s.fault_type for s in segments]

    def value(metric: Metric, idx: list[int]) -> float:
        return random_ranking_expectation(metric.fn, dict(metric.params), [truth[i] for i in idx], candidates)

    return _rca_rows(spec, dataset, seed, metrics, SEGMENTS, types, truth, value)
