"""Detectors x datasets x seeds x metrics -> one tidy table (TimeEval's shape, see STYLE.md).

One row per ``kind x model x dataset x seed x metric x protocol x breakdown``:

=========  =====================================================================================
kind       ``detector`` or ``classifier``
model      the registered name, with its parameters when any are set: ``zscore(threshold=4)``
protocol   how the number was obtained, printed next to it everywhere:
           ``own-threshold`` (the detector's ``threshold_``), ``oracle-best-f1`` (the threshold
           that maximises F1 on the test labels: an upper bound), ``threshold-free`` (from
           scores), ``point-adjusted (optimistic)``, ``labelled-segments`` (root cause ranked
           on the true fault windows), ``leave-events-out`` (classifiers)
breakdown  ``all``, ``fault_type=<type>``, ``target=<service>``; for confusion-matrix cells
           ``true=<type>,pred=<type>``
=========  =====================================================================================

Detectors are fitted on the dataset's fault-free train split and scored on its test split.
Classifiers see fault windows (:func:`faultlab.detectors.fault_windows`) in a seeded k-fold split that
keeps every fault event's windows on one side (stratified by fault type, grouped by fault id,
as TELESTO's leave-one-group-out evaluation, Sec. 3.2): a window is never judged by a model
that saw its neighbours. Every report (scores.json, leaderboard, check, compare) is a view of
this table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from faultlab.dataset import Dataset
from faultlab.detectors import fault_windows, make_classifier, make_detector
from faultlab.errors import BadInput
from faultlab.harness.evaluation.classifier_rows import score_classifier, split_augment
from faultlab.harness.evaluation.detector_rows import dataset_settings, score_detector, scored_steps
from faultlab.harness.evaluation.localizer_rows import localizer_specs, score_localizers
from faultlab.harness.evaluation.protocol import ProtocolOptions, ProtocolUnavailable, protocol_windows
from faultlab.harness.evaluation.protocol_rows import score_protocol
from faultlab.harness.evaluation.table import (
    ADJUSTED,
    ALL,
    EVENT_SPLIT,
    FREE,
    ORACLE,
    OWN,
    SEGMENTS,
    Evaluation,
    MethodSpec,
    ScoreTimeline,
    ScoringOptions,
    as_specs,
    row,
    tidy,
)
from faultlab.harness.scoring import select_metrics


def run_evaluation(
    datasets: Dataset | Sequence[Dataset],
    detectors: Iterable[Any] | None = None,
    classifiers: Iterable[Any] | None = None,
    seeds: Sequence[int] | None = None,
    metrics: Sequence[str] | None = None,
    *,
    window_steps: int = 12,
    folds: int = 3,
    floors: bool = True,
    count_recovering: bool = False,
    vus_window_s: float | None = None,
    localizers: Iterable[Any] | None = None,
    protocol: ProtocolOptions | None = None,
) -> Evaluation:
    """Fit, score and measure every method on every dataset for every seed.

    ``metrics`` restricts the registered metrics by name (empty/None: all of them);
    ``window_steps`` is the classifier window length and ``folds`` the number of event-level
    folds. Unknown names are a BadInput before anything is fitted. ``floors`` adds the reference
    floors (``always_alarm``, ``random``) whenever detectors are scored; ``count_recovering``
    counts steps labelled recovering as normal (default: left out); ``vus_window_s`` fixes the
    VUS buffer (default: derived per dataset). See :class:`ScoringOptions`. ``localizers``
    (names or specs) ranks root causes on the labelled segments (:mod:`.localizer_rows`, kind
    ``localizer``). ``protocol`` scores the classifiers under TELESTO's 3/1/1 protocol
    (:mod:`.protocol_rows`) instead of the event folds.
    """
    data = [datasets] if isinstance(datasets, Dataset) else list(datasets)
    if not data:
        raise BadInput("no dataset to evaluate on")
    names = [d.name for d in data]
    if len(set(names)) != len(names):
        raise BadInput(f"two datasets share the name {sorted({n for n in names if names.count(n) > 1})[0]!r}")
    det_specs = as_specs(detectors, seeds)
    clf_specs = as_specs(classifiers, seeds)
    loc_specs = localizer_specs(localizers, seeds)
    if not det_specs and not clf_specs and not loc_specs:
        raise BadInput("nothing to evaluate: give at least one detector or classifier (or localizer)")
    options = ScoringOptions(floors=floors, count_recovering=count_recovering, vus_window_s=vus_window_s)
    if floors and det_specs:
        det_specs += floor_specs(det_specs)
    for spec in det_specs:  # unknown names and parameters are the caller's mistake: fail now
        make_detector(spec.name, spec.params, spec.seeds[0])
    for spec in clf_specs:  # the event folds take an 'augment' parameter (classifier_rows.py); the protocol its options
        make_classifier(spec.name, spec.params if protocol else split_augment(spec.params)[0], spec.seeds[0])
    if clf_specs and protocol is None and (folds < 2 or window_steps < 1):
        raise BadInput(f"classifiers need folds >= 2 and window_steps >= 1, got folds={folds}, window_steps={window_steps}")
    chosen = select_metrics(metrics)

    rows: list[dict[str, Any]] = []
    timelines: list[ScoreTimeline] = []
    settings: dict[str, dict[str, Any]] = {}
    for dataset in data:
        steps = scored_steps(dataset, options)
        settings[dataset.name] = dataset_settings(dataset, options, steps)
        for spec in det_specs:
            for i, seed in enumerate(spec.seeds):
                try:
                    found, timeline = score_detector(dataset, spec, int(seed), chosen, options=options, steps=steps)
                except BadInput as exc:  # the data cannot answer (too short, no normal part): n/a, say why
                    rows += unanswerable_rows("detector", spec, dataset.name, int(seed), chosen, str(exc))
                    continue
                rows += found
                _note_alignment(settings[dataset.name], spec.label, timeline.alignment)
                if i == 0:
                    timelines.append(timeline)
        if clf_specs:
            rows += _classifier_rows(dataset, clf_specs, chosen, window_steps, folds, protocol)
        rows += score_localizers(dataset, loc_specs, chosen)
    return Evaluation(table=tidy(rows), timelines=timelines, settings=settings)


def _classifier_rows(dataset: Dataset, specs: Sequence[MethodSpec], chosen: Sequence[Any], window_steps: int,
                     folds: int, protocol: ProtocolOptions | None) -> list[dict[str, Any]]:
    """Every classifier and seed on ``dataset``, its windows built once for all of them."""
    rows: list[dict[str, Any]] = []
    if protocol is not None:
        try:
            prepared = protocol_windows(dataset, protocol)
        except ProtocolUnavailable:
            prepared = None  # score_protocol writes the n/a rows with the reason
        for spec in specs:
            for seed in spec.seeds:
                rows += score_protocol(dataset, spec, int(seed), chosen, protocol, prepared)
        return rows
    try:
        windows = fault_windows(dataset, window_steps)
    except BadInput as exc:  # the data cannot give windows (too short): n/a, say why
        return [r for spec in specs for seed in spec.seeds
                for r in unanswerable_rows("classifier", spec, dataset.name, int(seed), chosen, str(exc))]
    for spec in specs:
        for seed in spec.seeds:
            try:
                rows += score_classifier(dataset, spec, int(seed), chosen, windows, folds)
            except BadInput as exc:
                rows += unanswerable_rows("classifier", spec, dataset.name, int(seed), chosen, str(exc))
    return rows


def unanswerable_rows(kind: str, spec: MethodSpec, dataset: str, seed: int, metrics: Sequence[Any],
                      reason: str) -> list[dict[str, Any]]:
    """One ``nan`` row per headline metric of ``kind`` with the reason the method could not be scored."""
    if kind == "localizer":
        return [row(kind, spec, dataset, seed, m.name, SEGMENTS, ALL, float("nan"), reason.rstrip("."))
                for m in metrics if m.kind == "rootcause"]
    if kind == "classifier":
        return [row(kind, spec, dataset, seed, m.name, EVENT_SPLIT, ALL, float("nan"), reason.rstrip("."))
                for m in metrics if m.kind == "classification"]
    protocols = {"oracle": ORACLE, "optimistic": ADJUSTED}
    return [row(kind, spec, dataset, seed, m.name,
                protocols.get(m.caveat, FREE if m.kind == "score" else OWN), ALL, float("nan"), reason.rstrip("."))
            for m in metrics if m.kind in ("binary", "events", "score")]


def floor_specs(specs: Sequence[MethodSpec]) -> list[MethodSpec]:
    """The floors not already listed, run with every seed any detector uses (their spread is the noise)."""
    from faultlab.detectors.floors import FLOORS

    listed = {s.name for s in specs}
    seeds = tuple(sorted({int(x) for s in specs for x in s.seeds}))
    return [MethodSpec(name, {}, seeds) for name in FLOORS if name not in listed]


def _note_alignment(settings: dict[str, Any], model: str, alignment: dict[str, Any]) -> None:
    """Record in the dataset's settings (leaderboard notes, scores.json) how many series a
    detector filled (missing at scoring time) or ignored (new), under its series policy."""
    missing, new = int(alignment.get("missing", 0) or 0), int(alignment.get("new", 0) or 0)
    if missing or new:
        settings.setdefault("alignment", {})[model] = {
            "policy": alignment.get("policy"), "missing": missing, "new": new,
            "missing_columns": list(alignment.get("missing_columns", []))[:20],
            "new_columns": list(alignment.get("new_columns", []))[:20],
        }
