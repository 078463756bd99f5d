"""Per-time-step labels from the ground-truth log, using the *actual* applied/reverted times.

The ground-truth log (``ground_truth.jsonl``) is a journal: one JSON object per event, so one
fault usually has several lines (intent, applied, effect check, reverted). They are folded per
``fault_id``: fields are taken from the latest line that sets them (non-null wins), in file order.

Which faults are labelled (the *effective outcome* of a fault is the worst it reached):

* ``failed`` on any line: the fault did not take effect (or its effect was not measured), so its
  steps are **not** labelled anomalous. A detector that fires there is not rewarded, and it is
  not told that nothing happened either: such faults are listed by :func:`fault_spans` with
  ``labelled=False`` so callers can exclude those steps if they wish.
* ``partial`` (some targets or only part of the asked level took effect): labelled. The system
  was measurably perturbed, so leaving those steps as "normal" would count true detections as
  false positives. ``include_partial=False`` turns this off.
* ``applied`` / ``reverted``: labelled.
* a fault without ``applied_at`` is never labelled.

Boundary convention. Step ``t`` of the grid is anomalous when
``applied_at <= t <= reverted_at`` (closed interval on the step timestamps). A grid value at
``t`` is Prometheus's evaluation at ``t``: the latest scrape up to ``t`` for gauges, the rate over
the window ending at ``t`` for counters. So the first labelled step is the first one whose sample
can contain the fault, and a counter rate at the first step *after* ``reverted_at`` may still carry
a tail of the effect; it is labelled normal. A fault with no ``reverted_at`` (the run was
interrupted, or revert failed) is labelled to the end of the index.

Recovering steps. A fault's effect can outlast its revert (a killed container takes seconds to
come back; a counter's rate at the first step after the revert still covers fault time). The
journal's ``reverted`` record measures the return to baseline: ``detail.returned_to_baseline_at``
(the first 2 Hz sample after the revert at which the effect metric is no longer past the
half-way mark, see ``faultlab.injectors.effect``). Steps ``t`` with
``reverted_at < t < returned + tail_s`` that are not anomalous are labelled ``recovering = 1``.
``tail_s`` is the longest span of time a column's value at ``t`` summarises: a counter's rate
covers the step before ``t``, and the latency quantiles are PromQL ``histogram_quantile`` over
``rate(...[window])`` with the collector's default window of 4 steps, so the default is
:data:`TAIL_STEPS` grid steps (on quickstart-recorded, a pause's latency p99 still reads 3,700
robust sigmas 10 s after the revert, purely from that window). Where the journal lacks the return (older journals, faults measured by their
own probe such as packet loss or floods), it is ``max(reverted_at, effect_offset)`` plus
:data:`DEFAULT_RETURN_S` for the fault type (a killed container's restart), else plus 0. Scoring
excludes recovering steps from false alarms by default (engineer B's evaluation reads
``labels["recovering"]``).

Overlapping faults (only with ``allow_overlap``): the step is anomalous; ``fault_id`` and
``fault_type`` list every active fault, comma-separated, in order of ``applied_at`` and aligned
position by position; ``root_cause`` is the union of their targets in first-seen order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faultlab.dataset import LABEL_COLUMNS
from faultlab.errors import BadInput, RunFailed
from faultlab.injectors.ground_truth import read_records as read_ground_truth  # noqa: F401 (the one reader of the journal, re-exported)

TOOK_EFFECT = ("applied", "reverted", "partial")
#: Seconds from revert to the return to baseline where the journal did not measure it:
#: Docker restarts a killed container and its process starts (observed 1-10 s on the testbed);
#: a paused one resumes at once but its queued requests drain.
DEFAULT_RETURN_S = {"kill": 15.0, "pause": 5.0}
#: Default ``tail_s`` in grid steps: the collector's default rate window (4 x step).
TAIL_STEPS = 4
OUTCOME_RANK = {"applied": 0, "reverted": 0, "partial": 1, "failed": 2}


@dataclass(frozen=True)
class FaultSpan:
    """One fault as the labels see it: what, where, and the actual interval."""

    fault_id: str
    type: str
    targets: tuple[str, ...]
    outcome: str
    applied_at: pd.Timestamp | None
    reverted_at: pd.Timestamp | None
    labelled: bool
    returned_at: pd.Timestamp | None = None  # measured return to baseline (journal), else None
    effect_offset: pd.Timestamp | None = None

    def recovered_by(self) -> pd.Timestamp | None:
        """When the effect was back at baseline: measured, else the documented default."""
        if self.reverted_at is None:
            return None
        if self.returned_at is not None:
            return max(self.returned_at, self.reverted_at)
        last = max(self.reverted_at, self.effect_offset) if self.effect_offset is not None else self.reverted_at
        return last + pd.Timedelta(seconds=DEFAULT_RETURN_S.get(self.type, 0.0))


def _timestamp(value: Any, where: str) -> pd.Timestamp | None:
    if value in (None, ""):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise BadInput(f"ground truth {where}: {value!r} is not an ISO 8601 time") from None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.as_unit("ns")


def _targets(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(t for t in value.split(",") if t)
    return tuple(str(t) for t in value)


def fault_spans(records: Iterable[Mapping[str, Any]], include_partial: bool = True) -> list[FaultSpan]:
    """Fold the journal into one :class:`FaultSpan` per fault, in order of first appearance."""
    merged: dict[str, dict[str, Any]] = {}
    worst: dict[str, str] = {}
    for i, record in enumerate(records):
        fault_id = record.get("fault_id")
        if not fault_id:
            raise BadInput(f"ground truth record {i}: no fault_id")
        fault_id = str(fault_id)
        into = merged.setdefault(fault_id, {})
        for key, value in record.items():
            if value is not None:
                into[key] = value
        outcome = record.get("outcome")
        if outcome is not None:
            if outcome not in OUTCOME_RANK:
                raise BadInput(
                    f"ground truth record {i} ({fault_id}): outcome {outcome!r}; "
                    f"valid: {', '.join(OUTCOME_RANK)}"
                )
            if OUTCOME_RANK[outcome] >= OUTCOME_RANK.get(worst.get(fault_id, ""), -1):
                worst[fault_id] = outcome
    spans = []
    for fault_id, rec in merged.items():
        outcome = worst.get(fault_id, "")
        applied_at = _timestamp(rec.get("applied_at"), f"{fault_id}.applied_at")
        reverted_at = _timestamp(rec.get("reverted_at"), f"{fault_id}.reverted_at")
        allowed = TOOK_EFFECT if include_partial else ("applied", "reverted")
        detail = rec.get("detail") if isinstance(rec.get("detail"), Mapping) else {}
        spans.append(
            FaultSpan(
                fault_id=fault_id,
                type=str(rec.get("type", "")),
                targets=_targets(rec.get("targets")),
                outcome=outcome,
                applied_at=applied_at,
                reverted_at=reverted_at,
                labelled=applied_at is not None and outcome in allowed,
                returned_at=_timestamp(detail.get("returned_to_baseline_at"), f"{fault_id}.detail.returned_to_baseline_at"),
                effect_offset=_timestamp(rec.get("effect_offset"), f"{fault_id}.effect_offset"),
            )
        )
    return spans


def _utc_index(index: pd.Index) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(index)
    return idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")


def _grid_step_s(idx: pd.DatetimeIndex) -> float:
    if len(idx) < 2:
        return 0.0
    return float(np.median(np.diff(idx.as_unit("ns").asi8)) / 1e9)


def labels_from_ground_truth(
    records: Iterable[Mapping[str, Any]], index: pd.Index, include_partial: bool = True, tail_s: float | None = None
) -> pd.DataFrame:
    """Labels (``anomaly``, ``fault_type``, ``root_cause``, ``fault_id``, ``recovering``) per step of ``index``.

    See the module docstring for which faults count, the boundary convention and recovering
    steps (``tail_s``: default :data:`TAIL_STEPS` steps of ``index``).
    """
    records = list(records)
    idx = _utc_index(index)
    times = idx.as_unit("ns").asi8  # pandas 3 defaults to us; compare in one unit
    n = len(idx)
    active: list[list[FaultSpan]] = [[] for _ in range(n)]
    spans = [s for s in fault_spans(records, include_partial) if s.labelled]
    spans.sort(key=lambda s: s.applied_at)
    for span in spans:
        lo = np.searchsorted(times, span.applied_at.value, side="left")
        hi = n if span.reverted_at is None else np.searchsorted(times, span.reverted_at.value, side="right")
        for step in range(lo, hi):
            active[step].append(span)

    anomaly = np.zeros(n, dtype=np.int8)
    fault_type = [""] * n
    root_cause = [""] * n
    fault_id = [""] * n
    for step, here in enumerate(active):
        if not here:
            continue
        anomaly[step] = 1
        fault_type[step] = ",".join(s.type for s in here)
        fault_id[step] = ",".join(s.fault_id for s in here)
        causes: dict[str, None] = {}
        for s in here:
            causes.update(dict.fromkeys(s.targets))
        root_cause[step] = ",".join(causes)
    recovering = _recovering(spans, times, anomaly, TAIL_STEPS * _grid_step_s(idx) if tail_s is None else tail_s)
    frame = pd.DataFrame(
        {"anomaly": anomaly, "fault_type": fault_type, "root_cause": root_cause, "fault_id": fault_id,
         "recovering": recovering},
        index=pd.DatetimeIndex(idx, name="timestamp"),
    )
    return frame[[*LABEL_COLUMNS, "recovering"]]


def _recovering(spans: list[FaultSpan], times: np.ndarray, anomaly: np.ndarray, tail_s: float) -> np.ndarray:
    """0/1 per step: after a labelled fault's revert and before its return (+ ``tail_s``), not anomalous."""
    out = np.zeros(len(times), dtype=np.int8)
    for span in spans:
        back = span.recovered_by()
        if back is None:
            continue
        lo = np.searchsorted(times, span.reverted_at.value, side="right")
        hi = np.searchsorted(times, (back + pd.Timedelta(seconds=tail_s)).value, side="left")
        out[lo:hi] = 1
    out[anomaly > 0] = 0
    return out


def relabel_dataset(path: str | Path, records: Iterable[Mapping[str, Any]] | None = None, *,
                    strict: bool = True) -> dict[str, int]:
    """Re-derive a recorded dataset's labels (``recovering`` included) and its ``candidates``.

    The one way a dataset folder's labels are (re)made from its journal: ``records``, else the
    folder's ``provenance/ground_truth.jsonl``, else ``meta["faults"]``. With ``strict`` (for
    datasets recorded before ``recovering`` existed) the anomaly, fault and root-cause labels must
    come out identical (RunFailed otherwise: the folder's labels are not from this journal) and
    only ``recovering`` is added; ``strict=False`` lets the current labelling rules replace them
    (``scripts/ship_dataset.py``). ``candidates`` is set to the graph's nodes that have series
    when meta.json lacks it. Returns counts of recovering and anomalous steps.
    """
    from faultlab.dataset import load_dataset, write_labels

    data = load_dataset(path)
    folder = Path(data.path or path)
    if records is None:
        journal = folder / "provenance" / "ground_truth.jsonl"
        records = read_ground_truth(journal) if journal.exists() else data.meta.get("faults", [])
    fresh = labels_from_ground_truth(list(records), data.labels.index)
    for col in LABEL_COLUMNS if strict else ():
        if not (fresh[col].astype(str).to_numpy() == data.labels[col].astype(str).to_numpy()).all():
            raise RunFailed(f"{folder / 'labels.parquet'}: column {col!r} differs from the journal's labels; not rewritten")
    write_labels(folder, fresh)
    meta_file = folder / "meta.json"
    meta = json.loads(meta_file.read_text())
    if "candidates" not in meta and data.graph.names:
        present = set(data.services)
        meta["candidates"] = [n for n in data.graph.names if n in present]
        meta_file.write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return {"recovering": int(fresh["recovering"].sum()), "anomalous": int(fresh["anomaly"].sum())}


@dataclass(frozen=True)
class Intensity:
    """How strong one fault was, and its rank among the intensities its type had in the dataset."""

    fault_type: str
    value: float
    unit: str
    level: int  # 1 = the weakest intensity of this type in the dataset
    levels: int  # how many distinct intensities the type had

    @property
    def label(self) -> str:
        return f"{self.fault_type}@{self.value:g} {self.unit}".rstrip()


def fault_intensities(records: Iterable[Mapping[str, Any]]) -> dict[str, Intensity]:
    """``fault_id -> Intensity`` for the faults of types with at least two intensities (a ladder).

    The intensity is the fault type's own measure of strength (``Fault.intensity``: CPU load,
    leak rate, loss share, ...), read from the journal's params; a type recorded at one level only
    gets none (nothing to compare), nor do faults whose type has no intensity (pause, kill).
    """
    from faultlab.injectors import FAULTS

    params: dict[str, tuple[str, dict[str, Any]]] = {}
    for record in records:
        if record.get("fault_id") and record.get("type") in FAULTS and isinstance(record.get("params"), dict):
            params[str(record["fault_id"])] = (str(record["type"]), dict(record["params"]))
    found: dict[str, tuple[str, float, str]] = {}
    for fault_id, (fault_type, raw) in params.items():
        try:
            value = FAULTS.get(fault_type).intensity(raw)
        except BadInput:  # params of an older version of the fault: no level to read
            continue
        if value is not None:
            found[fault_id] = (fault_type, value[0], value[1])
    by_type: dict[str, list[float]] = {}
    for fault_type, value, _ in found.values():
        by_type.setdefault(fault_type, [])
        if value not in by_type[fault_type]:
            by_type[fault_type].append(value)
    out = {}
    for fault_id, (fault_type, value, unit) in found.items():
        values = sorted(by_type[fault_type])
        if len(values) >= 2:
            out[fault_id] = Intensity(fault_type, value, unit, values.index(value) + 1, len(values))
    return out
