"""AC@k / Avg@k of root-cause rankings on labelled fault segments: one scorer for the detectors
that localize (:mod:`.detector_rows`) and for the localizers (:mod:`.localizer_rows`).

Services are ranked over the dataset's root-cause candidates only (context services may be
evidence but never take a place). At the metric level the truth of a fault is its target's
columns, from the dataset's column table, of the metrics its fault type declares
(``dataset_metrics``); fault types that declare none are left out of that level.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from faultlab.dataset import Dataset
from faultlab.detectors import FaultSegment
from faultlab.detectors.base import RootCauseRanking
from faultlab.harness.evaluation.table import ALL, SEGMENTS, SEGMENTS_METRIC
from faultlab.harness.scoring import Metric, breakdown_items


def segment_scores(dataset: Dataset, rankings: Sequence[RootCauseRanking], segments: Sequence[FaultSegment],
                   metrics: Sequence[Metric], candidates: Collection[str] | None = None) -> dict[tuple[str, str, str], float]:
    """``{(metric, protocol, breakdown): value}`` of the rankings, over ``candidates`` only
    (default: the dataset's), per fault type and per target, then at the metric level."""
    candidates = set(dataset.candidates if candidates is None else candidates)
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
    out |= metric_level_scores(dataset, rankings, segments, metrics, candidates)
    return out


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
