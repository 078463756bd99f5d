"""TELESTO's evaluation protocol (seed 001, sec. 3.1-3.3) as an evaluation mode for classifiers.

The paper injects every anomaly type five times into every service group, then splits "the
five injections of each anomaly and each service component ... as 3/1/1 as a
training/validation/test split" (leave one group out), trains a model per service node and
reports every split and their average (Tables 3 and 4). Here:

- **classes**: the fault types of the labelled events, plus ``normal`` when asked
  (``include_normal``): windows of the fault-free training period.
- **repetition** of an injection: its rank, in time, among the injections of the same fault type
  into the same group. The group is the ground truth's ``group`` field (written by the
  scenario's TELESTO generator), else the ``-<group>`` suffix of a generated fault id
  (``f012-cpu-orders``), else the injection's target set; ``group_by="type"`` ranks by fault
  type alone (for datasets whose targets were drawn at random, such as ``synthetic-large``).
  A dataset without three repetitions of a cell cannot be split 3/1/1: the rows are n/a with
  that reason.
- **splits**: ``n = min(splits, repetitions)`` folds, fold = repetition mod ``n``; split ``i``
  tests on fold ``i``, validates on fold ``i+1`` (early stopping for classifiers that take
  ``validation=``) and trains on the rest. Normal windows are dealt to folds by contiguous
  blocks of the fault-free period. An injection's windows are always in one fold.
- **classified node** (``node``): ``target`` classifies the series of the injected service, one
  sample per service of the group (every service of a group); a service name classifies that
  node only (Table 3 is "cassandra"; only injections into its group count); ``all`` uses every
  series of the system. Per-service windows share one metric order (the union of the target
  services' metrics; a metric a service lacks is 0).
- **windows**: ``window_steps`` (paper: 20) at ``stride`` 1 inside each injection.

This module builds the windows, folds and nodes; :mod:`.protocol_rows` trains and scores.
Rows use the tidy table's columns with protocol ``telesto-protocol``: breakdown ``split=<i>``
per split and ``all`` for the mean over splits (the paper's average), plus ``fault_type=``,
``node=``, per-class precision/recall and confusion cells over the pooled test predictions
(every window is tested exactly once). ``macro_precision`` and ``macro_recall`` come with
``macro_f1`` (Table 3 reports them).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np

from faultlab.dataset import Dataset
from faultlab.detectors import FaultSegment, fault_segments
from faultlab.detectors.windows import window_ends
from faultlab.documents import read_document
from faultlab.errors import BadInput

TELESTO_PROTOCOL = "telesto-protocol"
NORMAL = "normal"
MIN_REPETITIONS = 3


class ProtocolUnavailable(Exception):
    """The dataset cannot be evaluated under the protocol; the message is the n/a reason."""


@dataclass(frozen=True)
class ProtocolOptions:
    """How the protocol cuts the dataset (defaults: the paper's)."""

    window_steps: int = 20
    stride: int = 1
    splits: int = 5
    node: str = "target"
    include_normal: bool = False
    group_by: Literal["group", "type"] = "group"
    augment: str | None = None
    augment_params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.window_steps < 2 or self.stride < 1:
            raise BadInput(f"protocol: window_steps must be >= 2 and stride >= 1, got {self.window_steps}, {self.stride}")
        if self.splits < MIN_REPETITIONS:
            raise BadInput(f"protocol: splits must be >= {MIN_REPETITIONS} (train/validation/test), got {self.splits}")
        if self.group_by not in ("group", "type"):
            raise BadInput(f"protocol: group_by must be 'group' or 'type', got {self.group_by!r}")
        if self.augment not in (None, "cmsf_gan"):
            raise BadInput(f"protocol: augment must be empty or 'cmsf_gan', got {self.augment!r}")


@dataclass(frozen=True)
class Injection:
    """One labelled fault event (its labelled segments, in time order) with its protocol
    coordinates: the service group it went into and its repetition there."""

    parts: tuple[FaultSegment, ...]
    group: str
    repetition: int

    @property
    def fault_id(self) -> str:
        return self.parts[0].fault_id

    @property
    def fault_type(self) -> str:
        return self.parts[0].fault_type

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(sorted({t for part in self.parts for t in part.root_cause}))


@dataclass(frozen=True)
class ProtocolData:
    """Windows with their class, source injection, fold and classified node."""

    windows: np.ndarray  # N x window_steps x F
    labels: np.ndarray
    sources: np.ndarray  # fault id, or "normal#<block>"
    folds: np.ndarray
    nodes: np.ndarray  # the classified service ("*" for node="all")
    columns: list[str]
    n_splits: int
    injections: list[Injection]


# ---- injections and their repetitions -------------------------------------------------------
def _groups_from_meta(dataset: Dataset) -> dict[str, str]:
    """``fault_id -> group`` from the ground-truth records and, if present, provenance/plan.yaml."""
    out: dict[str, str] = {}
    for record in dataset.meta.get("faults", []) or []:
        if isinstance(record, dict) and record.get("group") and record.get("fault_id"):
            out.setdefault(str(record["fault_id"]), str(record["group"]))
    if dataset.path is not None:
        for plan in (Path(dataset.path) / "provenance" / "plan.yaml", Path(dataset.path).parent / "plan.yaml"):
            if plan.exists():
                try:
                    doc = read_document(plan) or {}
                except BadInput:  # provenance only: an unreadable plan leaves the other sources
                    continue
                for fault in doc.get("faults", []) or []:
                    if isinstance(fault, dict) and fault.get("group") and fault.get("fault_id"):
                        out.setdefault(str(fault["fault_id"]), str(fault["group"]))
                break
    return out


def injections(dataset: Dataset, group_by: str = "group") -> list[Injection]:
    """The labelled injections of ``dataset`` in time order, each with its repetition index."""
    recorded = _groups_from_meta(dataset)
    parts: dict[str, list[FaultSegment]] = defaultdict(list)
    for seg in fault_segments(dataset):
        if seg.fault_type and seg.fault_id:
            parts[seg.fault_id].append(seg)
    seen: dict[tuple[str, str], int] = defaultdict(int)
    out = []
    for segs in sorted(parts.values(), key=lambda segs: (segs[0].start, segs[0].fault_id)):
        event = Injection(tuple(segs), "", 0)
        if group_by == "type":
            group = "*"
        else:
            suffix = re.fullmatch(rf"f\d+-{re.escape(event.fault_type)}-(.+)", event.fault_id)
            group = recorded.get(event.fault_id) or (suffix.group(1) if suffix else ",".join(event.targets))
        out.append(replace(event, group=group, repetition=seen[(event.fault_type, group)]))
        seen[(event.fault_type, group)] += 1
    return out


def split_roles(folds: np.ndarray, split: int, n_splits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks ``(train, validation, test)``: test fold ``split``, validation the next, train the rest."""
    test = folds == split
    val = folds == (split + 1) % n_splits
    return ~(test | val), val, test


# ---- windows ------------------------------------------------------------------------------
def protocol_windows(dataset: Dataset, options: ProtocolOptions) -> ProtocolData:
    """Cut ``dataset`` into the protocol's windows; :class:`ProtocolUnavailable` says why it cannot."""
    events = injections(dataset, options.group_by)
    if not events:
        raise ProtocolUnavailable("the dataset has no labelled fault injections")
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for e in events:
        counts[(e.fault_type, e.group)] += 1
    most = max(counts.values())
    if most < MIN_REPETITIONS:
        how = "fault type" if options.group_by == "type" else "(fault type, group)"
        raise ProtocolUnavailable(
            f"needs >= {MIN_REPETITIONS} repetitions of a {how} to split train/validation/test; "
            f"found at most {most} (no generator groups recorded? try group_by='type')"
        )
    n_splits = min(options.splits, most)
    services = dataset.services
    if options.node not in ("target", "all") and options.node not in services:
        raise BadInput(f"protocol: node {options.node!r} is neither 'target', 'all' nor a service of {dataset.name!r}")
    if options.node not in ("target", "all"):
        events = [e for e in events if options.node in e.targets]
        if not events:
            raise ProtocolUnavailable(f"no injection targets node {options.node!r}")

    size, stride = options.window_steps, options.stride
    if options.node == "all":
        columns = [str(c) for c in dataset.metrics.columns]
        cube = dataset.values().astype(np.float64)[:, None, :]  # T x 1 x F
        node_index = {"*": 0}
    else:
        cols = dataset.columns
        wanted = {options.node} if options.node != "target" else {t for e in events for t in e.targets}
        metrics = sorted(set(cols.loc[cols["service"].isin(wanted), "metric"]))
        if not metrics:
            raise ProtocolUnavailable(f"no metric series for the classified service(s) {sorted(wanted)}")
        tensor, order, metrics = dataset.per_service(metrics)
        cube = tensor.astype(np.float64)
        node_index = {s: i for i, s in enumerate(order)}
        columns = list(metrics)
    if cube.shape[0] < size:
        raise ProtocolUnavailable(f"the dataset has {cube.shape[0]} steps, fewer than one window of {size}")

    windows: list[np.ndarray] = []
    labels: list[str] = []
    sources: list[str] = []
    folds: list[int] = []
    nodes: list[str] = []

    def nodes_of(targets: Iterable[str]) -> list[str]:
        if options.node == "all":
            return ["*"]
        if options.node != "target":
            return [options.node]
        return [t for t in targets if t in node_index]

    for e in events:
        for node in nodes_of(e.targets):
            for start, end in ((part.start, part.end) for part in e.parts):
                for last in window_ends(start, end, size, stride):
                    windows.append(cube[last - size + 1 : last + 1, node_index[node], :])
                    labels.append(e.fault_type)
                    sources.append(e.fault_id)
                    folds.append(e.repetition % n_splits)
                    nodes.append(node)
    if not windows:
        raise ProtocolUnavailable(f"no injection is long enough for one window of {size} steps")
    if options.include_normal:
        n_types = len({e.fault_type for e in events})
        per_fold = max(1, round(len(windows) / (n_types * n_splits)))
        normal_nodes = sorted({n for n in nodes})
        for block, ends in enumerate(_normal_blocks(dataset, size, n_splits)):
            for node in normal_nodes:
                share = max(1, per_fold // len(normal_nodes))
                picked = ends[np.linspace(0, len(ends) - 1, min(share, len(ends))).round().astype(int)] if len(ends) else []
                for last in picked:
                    windows.append(cube[last - size + 1 : last + 1, node_index[node], :])
                    labels.append(NORMAL)
                    sources.append(f"{NORMAL}#{block}")
                    folds.append(block)
                    nodes.append(node)
    return ProtocolData(
        windows=np.stack(windows),
        labels=np.asarray(labels, dtype=str),
        sources=np.asarray(sources, dtype=str),
        folds=np.asarray(folds, dtype=np.int64),
        nodes=np.asarray(nodes, dtype=str),
        columns=columns,
        n_splits=n_splits,
        injections=events,
    )


def _normal_blocks(dataset: Dataset, size: int, n_blocks: int) -> list[np.ndarray]:
    """Window end steps inside the fault-free training period, cut into ``n_blocks`` time blocks."""
    stamps = dataset.timestamps
    normal = (dataset.labels["anomaly"].to_numpy() == 0) & np.asarray(stamps < dataset.train_end)
    run = np.zeros(len(normal), dtype=np.int64)  # length of the normal run ending at each step
    for i, ok in enumerate(normal):
        run[i] = (run[i - 1] + 1 if i else 1) if ok else 0
    ends = np.flatnonzero(run >= size)
    if len(ends) == 0:
        return [np.empty(0, dtype=np.int64) for _ in range(n_blocks)]
    edges = np.linspace(ends[0], ends[-1] + 1, n_blocks + 1)
    return [ends[(ends >= lo) & (ends < hi)] for lo, hi in pairwise(edges)]
