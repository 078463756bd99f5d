"""Scoring root-cause localizers on the labelled fault segments: rows of the tidy table.

Every localizer (``faultlab.detectors.localizers``: the reference rankers, ``rcaeval:*`` and
every detector that is a Localizer) sees the same labelled fault segments of the test part,
each with the fault-free steps before it as its normal period; a detector-localizer is first
fitted on the dataset's train part. Rows have ``kind = "localizer"``, protocol
``labelled-segments`` (services) or ``labelled-segments (metric level)`` (``service:metric``
columns, where the method ranks them), breakdowns ``all``, ``fault_type=...``, ``target=...``;
info rows (protocol ``training``) give its ``fit_time_s`` on the train part and its
``localize_s_per_segment`` on the labelled segments, wall seconds.

Each localizer is also scored **from the alarm** (protocol ``from-alarm``, see
:mod:`.segment_scores`): a detector-localizer from its own first alarm inside each fault (its own
threshold, fitted on the train part); a segment localizer (``cpu_change``, ``call_graph``,
``rcaeval:*``, ``random``) from the first alarm of its ``trigger`` detector (parameter ``trigger``,
default ``zscore``, with that detector's default parameters and the run's seed), so the row reads
"what would the pipeline trigger -> localizer give". ``analysis_steps`` (default 10) bounds what
it analyses after the alarm; the data after those steps is cut off before the localizer sees it.

AC@k and Avg@k rank ``Dataset.candidates`` only: context services (host, load generator,
monitoring) are dropped from each ranking before scoring, so they can be evidence but never
take a place in the top k. A randomised localizer (``repeats`` > 1, the ``random`` floor)
is scored as the mean over that many seeded draws per seed. A localizer that cannot rank a
dataset (it lacks the series the method needs, no normal period: BadInput) or fails on it (a
third-party method raising: RunFailed) gets n/a rows with the reason and one line on stderr,
as detectors that cannot run do; unknown names and parameters fail before anything is fitted.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from faultlab.dataset import Dataset
from faultlab.detectors import FaultSegment, fault_segments
from faultlab.detectors.base import RootCauseRanking
from faultlab.detectors.localizers import ANALYSIS_STEPS, AnyLocalizer, DetectorAsLocalizer, make_localizer
from faultlab.errors import BadInput, RunFailed
from faultlab.harness.evaluation.segment_scores import (
    AlarmStart,
    alarm_starts,
    from_alarm_scores,
    localize_from_alarms,
    segment_scores,
)
from faultlab.harness.evaluation.table import ALL, FROM_ALARM, SEGMENTS, TRAINING, MethodSpec, as_specs, row
from faultlab.harness.scoring import Metric

KIND = "localizer"


def localizer_specs(items: Iterable[Any] | None, seeds: Sequence[int] | None = None) -> list[MethodSpec]:
    """MethodSpecs for localizers; BadInput names an unknown one or a bad parameter before anything is fitted."""
    specs = as_specs(items, seeds)
    for spec in specs:
        make_localizer(spec.name, spec.params, spec.seeds[0])
    return specs


def labelled_segments(dataset: Dataset) -> list[FaultSegment]:
    """Labelled fault segments with a root cause that start in the test part (after ``train_end``)."""
    first_test = int(np.searchsorted(dataset.timestamps, dataset.train_end))
    return [s for s in fault_segments(dataset) if s.root_cause and s.start >= first_test]


def rank(dataset: Dataset, localizer: AnyLocalizer, segments: Sequence[FaultSegment],
         times: dict[str, float] | None = None) -> list[RootCauseRanking]:
    """The localizer's rankings of ``segments`` (fitted on the train part first); ``times`` gets
    ``fit_time_s`` and ``localize_s_per_segment`` (wall seconds) added."""
    started = time.perf_counter()
    fitted = localizer.fit(dataset.train())
    fitted_at = time.perf_counter()
    rankings = fitted.localize(dataset, [(s.start, s.end) for s in segments])
    if times is not None:
        per_segment = (time.perf_counter() - fitted_at) / max(len(segments), 1)
        times["fit_time_s"] = times.get("fit_time_s", 0.0) + fitted_at - started
        times["localize_s_per_segment"] = times.get("localize_s_per_segment", 0.0) + per_segment
    return rankings


def alarms_of(dataset: Dataset, localizer: AnyLocalizer, seed: int) -> np.ndarray:
    """One bool per step of ``dataset``: where the pipeline alarms (own threshold) on the test part.

    A detector-localizer's own alarms (it was fitted by :func:`rank`); a segment localizer's
    ``trigger`` detector, fitted on the train part with its defaults and ``seed``.
    """
    from faultlab.detectors import make_detector

    detector = localizer.detector if isinstance(localizer, DetectorAsLocalizer) else (
        make_detector(localizer.params.trigger, {}, seed).fit(dataset.train()))
    test = dataset.test()
    alarms = np.zeros(len(dataset.metrics), dtype=bool)
    alarms[len(dataset.metrics) - len(test.metrics):] = detector.predict(test) > 0
    return alarms


def from_alarm(dataset: Dataset, localizer: AnyLocalizer, starts: Sequence[AlarmStart]) -> list[RootCauseRanking | None]:
    """The localizer's ranking of each detected fault from its alarm, on the data cut after the analysed steps."""
    return localize_from_alarms(dataset, starts, lambda cut, alarm, end: localizer.localize(cut, [(alarm, end)])[0])


def score_localizer(dataset: Dataset, spec: MethodSpec, seed: int, metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """One row per metric/protocol/breakdown for one localizer, seed and dataset: on the labelled
    segments, then from the alarm (see the module docstring). What cannot be answered is n/a with
    the reason, per protocol (a trigger that cannot run leaves the labelled-segment rows standing)."""
    rankers = [m for m in metrics if m.kind == "rootcause"]
    segments = labelled_segments(dataset)
    if not rankers or not segments:
        return []
    localizer = make_localizer(spec.name, spec.params, seed)  # a bad name or parameter is the caller's mistake: raised
    repeats = max(1, int(localizer.repeats))
    steps = int(getattr(localizer.params, "analysis_steps", ANALYSIS_STEPS))
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    starts: list[AlarmStart] | None = None
    failed: dict[str, str] = {}
    times: dict[str, float] = {}
    for r in range(repeats):
        if repeats > 1:
            localizer = make_localizer(spec.name, spec.params, seed * repeats + r)
        try:
            found = segment_scores(dataset, rank(dataset, localizer, segments, times), segments, rankers)
        except (BadInput, RunFailed) as exc:  # the data cannot answer, or the method failed: n/a, say why
            print(f"faultlab: {exc} (its AC@k rows are n/a)", file=sys.stderr)
            return _failed_rows(dataset, spec, seed, rankers, segments, str(exc), (SEGMENTS, FROM_ALARM))
        if FROM_ALARM not in failed:
            try:
                starts = starts or alarm_starts(dataset, alarms_of(dataset, localizer, seed), segments, steps)
                found |= from_alarm_scores(dataset, starts, from_alarm(dataset, localizer, starts), rankers)
            except (BadInput, RunFailed) as exc:
                print(f"faultlab: {exc} (its from-alarm AC@k rows are n/a)", file=sys.stderr)
                failed[FROM_ALARM] = f"from the alarm: {exc}"
        for key, value in found.items():
            values[key].append(value)
    rows = [_row(spec, dataset.name, seed, metric, protocol, where, float(np.mean(v)), _why(metric))
            for (metric, protocol, where), v in values.items()]
    if FROM_ALARM in failed:
        rows += _failed_rows(dataset, spec, seed, rankers, segments, failed[FROM_ALARM], (FROM_ALARM,))
    # what the method costs (info rows, never ranked or gated): per repeat, on the labelled segments
    rows += [row(KIND, spec, dataset.name, seed, metric, TRAINING, ALL, value / repeats) for metric, value in times.items()]
    return rows


def _why(metric: str) -> str:
    if metric == "rca_delay_s":
        return "no fault of this kind was detected"
    return "no segment of this kind was ranked"


def _failed_rows(dataset: Dataset, spec: MethodSpec, seed: int, metrics: Sequence[Metric],
                 segments: Sequence[FaultSegment], reason: str, protocols: Sequence[str]) -> list[dict[str, Any]]:
    wheres = [ALL, *sorted({f"fault_type={s.fault_type}" for s in segments})]
    return [_row(spec, dataset.name, seed, m.name, protocol, w, float("nan"), reason)
            for protocol in protocols for m in metrics for w in wheres]


def _row(spec: MethodSpec, dataset: str, seed: int, metric: str, protocol: str, where: str, value: float,
         reason: str = "no segment of this kind was ranked") -> dict[str, Any]:
    return row(KIND, spec, dataset, seed, metric, protocol, where, value, reason)


def score_localizers(dataset: Dataset, specs: Sequence[MethodSpec], metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """Rows for every localizer spec and seed on one dataset (the hook of ``run_evaluation``)."""
    rows: list[dict[str, Any]] = []
    for spec in specs:
        for seed in spec.seeds:
            rows += score_localizer(dataset, spec, int(seed), metrics)
    return rows
