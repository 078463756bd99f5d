"""AC@k / Avg@k of root-cause rankings: one scorer for the detectors that localize
(:mod:`.detector_rows`) and for the localizers (:mod:`.localizer_rows`), under two protocols.

``labelled-segments`` (the oracle question, RCAEval's protocol): each labelled fault window is
ranked whole, against the fault-free steps before it. Services are ranked over the dataset's
root-cause candidates only (context services may be evidence but never take a place). At the
metric level the truth of a fault is its target's columns, from the dataset's column table, of
the metrics its fault type declares (``dataset_metrics``); fault types that declare none are left
out of that level.

``from-alarm`` (the question a user's pipeline answers, detector -> localizer): each labelled fault
is localized from the **first alarm inside its window** (the detector's own threshold), over the
alarm step and the ``analysis_steps - 1`` steps after it (default
:data:`~faultlab.detectors.localizers.ANALYSIS_STEPS` = 10, fewer when the fault ends sooner), with
the fault-free steps before the alarm as the normal period. The localizer is handed the dataset
**cut after those steps** (:func:`upto`), so no method can read what happened later, whatever it
does inside. Ten steps because that is what the methods need to see a change (a robust z or a
quantile over a handful of steps; CIRCA and the random walks need more steps than series only
after the top-k cut, see ``rcaeval_adapter``) while an operator still waits seconds, not the
whole fault; the labelled end still bounds it, so a short fault is never analysed past its end.
A fault without an alarm is a miss: it stays in the denominator with AC@k = 0, and ``rca_missed``
counts it; ``rca_delay_s`` is the median delay from the fault's start to the alarm the
localization started from (detected faults only). Labels are read for two things only: where the
fault windows are (to score and to know which alarm belongs to which fault) and which steps
before the alarm are fault-free (the normal period, as in the oracle protocol). ``n_faults`` gives
each breakdown's number of faults, printed next to every per-type AC@k. On a dataset with an
intensity ladder both protocols also break down by ``intensity=<type>@<value> <unit>`` and
``level=<k>``, as the detection limits do: where a weak fault is missed or mislocalized.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np

from faultlab.dataset import Dataset
from faultlab.detectors import FaultSegment
from faultlab.detectors.base import RootCauseRanking
from faultlab.harness.datasets.labels import fault_intensities
from faultlab.harness.evaluation.table import ALL, FROM_ALARM, SEGMENTS, SEGMENTS_METRIC
from faultlab.harness.scoring import Metric, breakdown_items

#: Extra rows of the root-cause protocols: faults per breakdown, missed faults, median delay to the alarm.
N_FAULTS, MISSED, DELAY = "n_faults", "rca_missed", "rca_delay_s"


def segment_scores(dataset: Dataset, rankings: Sequence[RootCauseRanking], segments: Sequence[FaultSegment],
                   metrics: Sequence[Metric], candidates: Collection[str] | None = None) -> dict[tuple[str, str, str], float]:
    """``{(metric, protocol, breakdown): value}`` of the rankings, over ``candidates`` only
    (default: the dataset's), per fault type and per target, then at the metric level."""
    candidates = set(dataset.candidates if candidates is None else candidates)
    ranked = [[s for s in r.top_services(len(r.services)) if s in candidates] for r in rankings]
    truth = [set(s.root_cause) for s in segments]
    types = [s.fault_type for s in segments]
    levels = ladder_groups(dataset, segments)
    out: dict[tuple[str, str, str], float] = {}
    for metric in metrics:
        out[(metric.name, SEGMENTS, ALL)] = metric(ranked, truth)
        for key, value in breakdown_items(metric, types, ranked, truth).items():
            out[(metric.name, SEGMENTS, f"fault_type={key}")] = value
        for target in sorted(set().union(*truth)):
            idx = [i for i, t in enumerate(truth) if target in t]
            out[(metric.name, SEGMENTS, f"target={target}")] = metric([ranked[i] for i in idx], [truth[i] for i in idx])
        for where, idx in levels.items():
            out[(metric.name, SEGMENTS, where)] = metric([ranked[i] for i in idx], [truth[i] for i in idx])
    out |= fault_counts(SEGMENTS, types)
    out |= {(N_FAULTS, SEGMENTS, where): float(len(idx)) for where, idx in levels.items()}
    out |= metric_level_scores(dataset, rankings, segments, metrics, candidates)
    return out


def ladder_groups(dataset: Dataset, segments: Sequence[FaultSegment]) -> dict[str, list[int]]:
    """On a dataset with an intensity ladder, the segments' indices per ``intensity=<type>@<value> <unit>``
    and ``level=<k>`` (the breakdowns of the detection limits, :func:`~faultlab.harness.datasets.labels.fault_intensities`)."""
    intensities = fault_intensities(dataset.meta.get("faults", []) or [])
    groups: dict[str, list[int]] = {}
    for i, segment in sorted(enumerate(segments), key=lambda kv: (kv[1].fault_type, getattr(intensities.get(kv[1].fault_id), "value", 0))):
        level = intensities.get(segment.fault_id)
        if level is not None:
            for name in (f"intensity={level.label}", f"level={level.level}"):
                groups.setdefault(name, []).append(i)
    return groups


def fault_counts(protocol: str, types: Sequence[str]) -> dict[tuple[str, str, str], float]:
    """``n_faults`` rows: the number of faults of each type (and in all) behind a protocol's AC@k."""
    out = {(N_FAULTS, protocol, ALL): float(len(types))}
    for kind in sorted(set(types)):
        out[(N_FAULTS, protocol, f"fault_type={kind}")] = float(sum(t == kind for t in types))
    return out


# ---- from the alarm --------------------------------------------------------------------------
@dataclass(frozen=True)
class AlarmStart:
    """Where a fault's from-alarm localization starts: its first alarm step inside the fault (None: missed)
    and the end (exclusive) of the steps analysed, ``min(alarm + analysis_steps, fault end)``."""

    segment: FaultSegment
    alarm: int | None
    end: int
    delay_s: float


def alarm_starts(dataset: Dataset, alarms: np.ndarray, segments: Sequence[FaultSegment],
                 analysis_steps: int) -> list[AlarmStart]:
    """The first alarm of ``alarms`` (one bool per step of ``dataset``) inside each segment."""
    alarms = np.asarray(alarms, dtype=bool)
    stamps = dataset.timestamps
    out = []
    for segment in segments:
        hits = np.flatnonzero(alarms[segment.start:segment.end])
        if not len(hits):
            out.append(AlarmStart(segment, None, segment.start, float("nan")))
            continue
        alarm = segment.start + int(hits[0])
        delay = float((stamps[alarm] - stamps[segment.start]).total_seconds())
        out.append(AlarmStart(segment, alarm, min(alarm + int(analysis_steps), segment.end), delay))
    return out


def upto(dataset: Dataset, end: int) -> Dataset:
    """The first ``end`` steps of ``dataset``: all that a from-alarm localization may read."""
    return replace(dataset, metrics=dataset.metrics.iloc[:end], labels=dataset.labels.iloc[:end],
                   mask=None if dataset.mask is None else dataset.mask.iloc[:end])


def localize_from_alarms(dataset: Dataset, starts: Sequence[AlarmStart],
                         localize: Callable[[Dataset, int, int], RootCauseRanking]) -> list[RootCauseRanking | None]:
    """``localize(cut, alarm, end)`` for every detected fault, ``cut`` being :func:`upto` ``end``; None for a miss."""
    return [None if s.alarm is None else localize(upto(dataset, s.end), s.alarm, s.end) for s in starts]


def from_alarm_scores(dataset: Dataset, starts: Sequence[AlarmStart], rankings: Sequence[RootCauseRanking | None],
                      metrics: Sequence[Metric],
                      candidates: Collection[str] | None = None) -> dict[tuple[str, str, str], float]:
    """``{(metric, "from-alarm", breakdown): value}``: AC@k over every fault (a miss ranks nothing: 0),
    per fault type, the faults missed and the median delay to the alarm of the detected ones."""
    candidates = set(dataset.candidates if candidates is None else candidates)
    ranked = [[] if r is None else [s for s in r.top_services(len(r.services)) if s in candidates] for r in rankings]
    truth = [set(s.segment.root_cause) for s in starts]
    types = [s.segment.fault_type for s in starts]
    levels = ladder_groups(dataset, [s.segment for s in starts])
    out: dict[tuple[str, str, str], float] = {}
    for metric in metrics:
        out[(metric.name, FROM_ALARM, ALL)] = metric(ranked, truth)
        for key, value in breakdown_items(metric, types, ranked, truth).items():
            out[(metric.name, FROM_ALARM, f"fault_type={key}")] = value
        for where, idx in levels.items():
            out[(metric.name, FROM_ALARM, where)] = metric([ranked[i] for i in idx], [truth[i] for i in idx])
    groups = {ALL: list(range(len(starts)))} | {f"fault_type={t}": [i for i, x in enumerate(types) if x == t]
                                                for t in sorted(set(types))} | levels
    for where, idx in groups.items():
        delays = [starts[i].delay_s for i in idx if starts[i].alarm is not None]
        out[(MISSED, FROM_ALARM, where)] = float(sum(starts[i].alarm is None for i in idx))
        out[(DELAY, FROM_ALARM, where)] = float(np.median(delays)) if delays else float("nan")
    return out | fault_counts(FROM_ALARM, types) | {(N_FAULTS, FROM_ALARM, where): float(len(idx)) for where, idx in levels.items()}


def metric_level_scores(dataset: Dataset, rankings: Sequence[RootCauseRanking], segments: Sequence[FaultSegment],
                        metrics: Sequence[Metric], candidates: Collection[str] | None = None) -> dict[tuple[str, str, str], float]:
    """AC@k over ranked candidate columns; truth: the target's columns of the fault type's ``dataset_metrics``."""
    from faultlab.injectors import FAULTS

    cols = dataset.columns
    service_of = dict(zip(cols["name"].astype(str), cols["service"].astype(str)))
    candidates = set(dataset.candidates if candidates is None else candidates)

    def truth_of(segment: FaultSegment) -> set[str]:
        if segment.fault_type not in FAULTS:
            return set()
        wanted = set(FAULTS.get(segment.fault_type).dataset_metrics)
        hit = cols["service"].isin(segment.root_cause) & cols["metric"].isin(wanted)
        return set(cols.loc[hit, "name"].astype(str))

    truth = [truth_of(s) for s in segments]
    ranked = [[m for m, _ in r.metrics if service_of.get(m) in candidates] for r in rankings]
    keep = [i for i in range(len(segments)) if truth[i] and ranked[i]]
    if not keep:
        return {}
    ranked, truth = [ranked[i] for i in keep], [truth[i] for i in keep]
    types = [segments[i].fault_type for i in keep]
    out: dict[tuple[str, str, str], float] = {}
    for metric in metrics:
        out[(metric.name, SEGMENTS_METRIC, ALL)] = metric(ranked, truth)
        for key, value in breakdown_items(metric, types, ranked, truth).items():
            out[(metric.name, SEGMENTS_METRIC, f"fault_type={key}")] = value
    return out
