"""Scoring root-cause localizers on the labelled fault segments: rows of the tidy table.

Every localizer (``faultlab.detectors.localizers``: the reference rankers, ``rcaeval:*`` and
every detector that is a Localizer) sees the same labelled fault segments of the test part,
each with the fault-free steps before it as its normal period; a detector-localizer is first
fitted on the dataset's train part. Rows have ``kind = "localizer"``, protocol
``labelled-segments`` (services) or ``labelled-segments (metric level)`` (``service:metric``
columns, where the method ranks them), breakdowns ``all``, ``fault_type=...``, ``target=...``.

AC@k and Avg@k rank ``Dataset.candidates`` only: context services (host, load generator,
monitoring) are dropped from each ranking before scoring, so they can be evidence but never
take a place in the top k. A randomised localizer (``repeats`` > 1, the ``random`` floor)
is scored as the mean over that many seeded draws per seed. A localizer that fails on a
dataset (a third-party method raising) gets NaN rows and one line on stderr naming why.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from faultlab.dataset import Dataset
from faultlab.detectors import FaultSegment, fault_segments
from faultlab.detectors.base import RootCauseRanking
from faultlab.detectors.localizers import LOCALIZER_INDEX, make_localizer
from faultlab.errors import RunFailed
from faultlab.harness.evaluation.table import ALL, REASON, SEGMENTS, SEGMENTS_METRIC, MethodSpec, as_specs
from faultlab.harness.scoring import Metric, breakdown_items

KIND = "localizer"


def localizer_specs(items: Iterable[Any] | None, seeds: Sequence[int] | None = None) -> list[MethodSpec]:
    """MethodSpecs for localizers; BadInput names an unknown one before anything is fitted."""
    specs = as_specs(items, seeds)
    for spec in specs:
        LOCALIZER_INDEX.get(spec.name)
    return specs


def labelled_segments(dataset: Dataset) -> list[FaultSegment]:
    """Labelled fault segments with a root cause that start in the test part (after ``train_end``)."""
    first_test = int(np.searchsorted(dataset.timestamps, dataset.train_end))
    return [s for s in fault_segments(dataset) if s.root_cause and s.start >= first_test]


def rank(dataset: Dataset, spec: MethodSpec, seed: int, segments: Sequence[FaultSegment]) -> list[RootCauseRanking]:
    """The localizer's rankings of ``segments`` (fitted on the train part first)."""
    localizer = make_localizer(spec.name, spec.params, seed).fit(dataset.train())
    return localizer.localize(dataset, [(s.start, s.end) for s in segments])


def score_localizer(dataset: Dataset, spec: MethodSpec, seed: int, metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """One row per metric/protocol/breakdown for one localizer, seed and dataset."""
    rankers = [m for m in metrics if m.kind == "rootcause"]
    segments = labelled_segments(dataset)
    if not rankers or not segments:
        return []
    repeats = max(1, int(getattr(LOCALIZER_INDEX.get(spec.name), "repeats", 1)))
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for r in range(repeats):
        draw_seed = seed * repeats + r if repeats > 1 else seed
        try:
            rankings = rank(dataset, spec, draw_seed, segments)
        except RunFailed as exc:
            print(f"faultlab: {exc} (its AC@k rows are n/a)", file=sys.stderr)
            return _failed_rows(dataset, spec, seed, rankers, segments, str(exc))
        for key, value in segment_scores(dataset, rankings, segments, rankers).items():
            values[key].append(value)
    return [_row(spec, dataset.name, seed, metric, protocol, where, float(np.mean(v)))
            for (metric, protocol, where), v in values.items()]


def segment_scores(dataset: Dataset, rankings: Sequence[RootCauseRanking], segments: Sequence[FaultSegment],
                   metrics: Sequence[Metric]) -> dict[tuple[str, str, str], float]:
    """``{(metric, protocol, breakdown): value}`` of the rankings, over candidates only."""
    candidates = set(dataset.candidates)
    ranked = [[s for s in r.top_services(len(r.services)) if s in candidates] for r in rankings]
    truth = [set(s.root_cause) for s in segments]
    types = [s.fault_type for s in segments]
    out: dict[tuple[str, str, str], float] = {}
    for metric in metrics:
        out[(metric.name, SEGMENTS, ALL)] = metric(ranked, truth)
        for key, value in breakdown_items(metric, types, ranked, truth).items():
            out[(metric.name, SEGMENTS, f"fault_type={key}")] = value
        for target in sorted(set().union(*truth)):
            idx = [i for i, t in enumerate(truth) if target in t]
            out[(metric.name, SEGMENTS, f"target={target}")] = metric([ranked[i] for i in idx], [truth[i] for i in idx])
    out |= _metric_level(dataset, rankings, segments, metrics)
    return out


def _metric_level(dataset: Dataset, rankings: Sequence[RootCauseRanking], segments: Sequence[FaultSegment],
                  metrics: Sequence[Metric]) -> dict[tuple[str, str, str], float]:
    """AC@k over ranked candidate columns; truth: the target's columns of the fault type's ``dataset_metrics``."""
    from faultlab.injectors import FAULTS

    cols = dataset.columns
    service_of = dict(zip(cols["name"].astype(str), cols["service"].astype(str)))
    candidates = set(dataset.candidates)

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


def _failed_rows(dataset: Dataset, spec: MethodSpec, seed: int, metrics: Sequence[Metric],
                 segments: Sequence[FaultSegment], reason: str) -> list[dict[str, Any]]:
    wheres = [ALL, *sorted({f"fault_type={s.fault_type}" for s in segments})]
    return [_row(spec, dataset.name, seed, m.name, SEGMENTS, w, float("nan"), reason) for m in metrics for w in wheres]


def _row(spec: MethodSpec, dataset: str, seed: int, metric: str, protocol: str, where: str, value: float,
         reason: str = "") -> dict[str, Any]:
    value = float(value)
    if not np.isfinite(value) and not reason:
        reason = "no segment of this kind was ranked"
    return {"kind": KIND, "model": spec.label, "dataset": dataset, "seed": seed, "metric": metric,
            "protocol": protocol, "breakdown": where, "value": value, REASON: reason if not np.isfinite(value) else ""}


def score_localizers(dataset: Dataset, specs: Sequence[MethodSpec], metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """Rows for every localizer spec and seed on one dataset (the hook of ``run_evaluation``)."""
    rows: list[dict[str, Any]] = []
    for spec in specs:
        for seed in spec.seeds:
            rows += score_localizer(dataset, spec, int(seed), metrics)
    return rows
