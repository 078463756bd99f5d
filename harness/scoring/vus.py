"""VUS-ROC and VUS-PR: Volume Under the Surface (Paparrizos et al., PVLDB 15(11), 2022).

Range-AUC (Sec. 4 of the paper) softens the labels: each labelled event gets a buffer of
``w // 2`` steps on both sides whose weight decays as ``sqrt(1 - d / w)`` with the distance
``d``; alarms in the buffer earn that weight as a true positive, and recall is scaled by the
share of (buffered, merged) events that hold an alarm. VUS averages the range-AUC over every
buffer length ``w = 0 .. window``.

This module reproduces TSB-AD 1.5 (``TSB_AD.evaluation.basic_metrics.generate_curve`` with its
default ``version="opt"``, ``thre=250``; ``get_metrics`` defaults to ``slidingWindow=100``) to
within floating-point rounding, including its choices: the 250 thresholds are the scores at
``linspace(0, n - 1, 250)`` of the descending sort, the ROC curve is closed at (1, 1) and the PR
area is a left Riemann sum starting at precision 1. TSB-AD's own benchmark sets the window per
series from its period (``find_length_rank``); we default to its ``get_metrics`` value, 100.

Instead of re-scanning the series for each (window, threshold) pair, each step gets the index of
the first threshold that alarms it; every count then is a cumulative sum over that index, and
only the steps inside an event buffer need per-window weights. Cost: ``O(n log n)`` for the sort
plus ``O(window x buffered steps)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from faultlab.errors import BadInput
from faultlab.harness.scoring.base import as_binary, as_scores, check_same_length, register
from faultlab.harness.scoring.events import segment_events

DEFAULT_WINDOW = 100  # TSB-AD get_metrics(slidingWindow=100)
DEFAULT_THRESHOLDS = 250  # TSB-AD generate_curve(thre=250)
_CHUNK_CELLS = 20_000_000  # float64 cells per block of windows (about 160 MB)


@dataclass(frozen=True)
class VusResult:
    """Per-window range-AUCs (index = buffer length ``w``) and their means, the VUS values."""

    roc_per_window: np.ndarray
    pr_per_window: np.ndarray

    @property
    def vus_roc(self) -> float:
        return float(np.mean(self.roc_per_window))

    @property
    def vus_pr(self) -> float:
        return float(np.mean(self.pr_per_window))


def vus_per_window(
    y_true: Any, scores: Any, window: int = DEFAULT_WINDOW, n_thresholds: int = DEFAULT_THRESHOLDS
) -> VusResult:
    """Range-AUC-ROC and range-AUC-PR for every buffer length ``0 .. window``.

    All values are ``nan`` without labelled anomalies; the ROC values are ``nan`` when every
    step is anomalous (no false-positive rate exists).
    """
    truth = as_binary(y_true, "y_true")
    s = as_scores(scores)
    check_same_length(truth, s, "y_true and scores")
    if window < 0 or n_thresholds < 1:
        raise BadInput(f"VUS needs window >= 0 and n_thresholds >= 1, got {window}, {n_thresholds}")
    n, n_pos = len(s), int(truth.sum())
    if n_pos == 0:
        nan = np.full(window + 1, np.nan)
        return VusResult(nan, nan.copy())

    # First threshold index (0 = highest) at which each step is alarmed: score >= t_k.
    t = np.sort(s)[::-1][np.linspace(0, n - 1, n_thresholds).astype(int)]
    first_k = np.searchsorted(-t, -s, side="left")
    n_pred = _cumcount(first_k, n_thresholds)
    hits_in_events = _cumcount(first_k[truth], n_thresholds)

    events = segment_events(truth)
    buffer_tp = _buffer_true_positives(truth, events, first_k, window, n_thresholds)  # (W+1, K)
    existence = _existence_ratio(events, first_k, window, n_thresholds, n)  # (W+1, K)

    tp = hits_in_events[None, :] + buffer_tp
    p_new = n_pos + buffer_tp / 2.0  # TSB-AD's (P + N_labels) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = np.minimum(tp / p_new, 1.0) * existence
        fpr = (n_pred[None, :] - tp) / (n - p_new)
        precision = tp / n_pred[None, :]
    rows = window + 1
    tpr_curve = np.hstack([np.zeros((rows, 1)), tpr, np.ones((rows, 1))])
    fpr_curve = np.hstack([np.zeros((rows, 1)), fpr, np.ones((rows, 1))])
    roc = np.sum(np.diff(fpr_curve, axis=1) * (tpr_curve[:, 1:] + tpr_curve[:, :-1]) / 2.0, axis=1)
    pr = np.sum(np.diff(tpr_curve[:, :-1], axis=1) * precision, axis=1)
    if n_pos == n:
        roc = np.full(rows, np.nan)
    return VusResult(roc, pr)


def vus_roc(y_true: Any, scores: Any, window: int = DEFAULT_WINDOW, n_thresholds: int = DEFAULT_THRESHOLDS) -> float:
    """Volume under the range-ROC surface (Paparrizos et al. 2022); see :func:`vus_per_window`."""
    return vus_per_window(y_true, scores, window, n_thresholds).vus_roc


def vus_pr(y_true: Any, scores: Any, window: int = DEFAULT_WINDOW, n_thresholds: int = DEFAULT_THRESHOLDS) -> float:
    """Volume under the range-PR surface (Paparrizos et al. 2022); see :func:`vus_per_window`."""
    return vus_per_window(y_true, scores, window, n_thresholds).vus_pr


def _cumcount(first_k: np.ndarray, k: int) -> np.ndarray:
    """How many entries are alarmed at each threshold index ``0 .. k-1``."""
    return np.cumsum(np.bincount(first_k, minlength=k + 1)[:k]).astype(np.float64)


def _buffer_true_positives(
    truth: np.ndarray, events: np.ndarray, first_k: np.ndarray, window: int, k: int
) -> np.ndarray:
    """``B[w, j]``: summed buffer weight of the normal steps alarmed at threshold ``j``.

    A normal step at distance ``d`` (1 .. w//2) after an event's end or before its start gets
    ``sqrt(1 - d / w)`` from that event; weights from nearby events add up, capped at 1.
    """
    half = window // 2
    out = np.zeros((window + 1, k))
    if half == 0:
        return out
    n = len(truth)
    d = np.arange(1, half + 1)
    pos = np.concatenate([(events[:, 1, None] + d).ravel(), (events[:, 0, None] - d).ravel()])
    dist = np.concatenate([np.tile(d, len(events)), np.tile(d, len(events))])
    keep = (pos >= 0) & (pos < n)
    pos, dist = pos[keep], dist[keep]
    keep = ~truth[pos]
    pos, dist = pos[keep], dist[keep]
    if len(pos) == 0:
        return out
    # Group contributions by step. A step reached by one event only needs no cap (each weight is
    # <= 1), so those steps reduce to counts per (distance, threshold) and one matrix product.
    order = np.argsort(pos, kind="stable")
    pos, dist = pos[order], dist[order]
    group_starts = np.flatnonzero(np.concatenate(([True], pos[1:] != pos[:-1])))
    sizes = np.diff(np.append(group_starts, len(pos)))
    windows = np.arange(window + 1, dtype=np.float64)[:, None]
    single = group_starts[sizes == 1]
    counts = np.bincount(dist[single] * (k + 1) + first_k[pos[single]], minlength=(half + 1) * (k + 1))
    cum_counts = np.cumsum(counts.reshape(half + 1, k + 1), axis=1)[:, :k].astype(np.float64)
    out += _weights(np.arange(half + 1), windows) @ cum_counts

    shared = np.flatnonzero(np.repeat(sizes > 1, sizes))  # contributions to multi-event steps
    if len(shared) == 0:
        return out
    pos, dist = pos[shared], dist[shared]
    starts = np.flatnonzero(np.concatenate(([True], pos[1:] != pos[:-1])))
    step_k = first_k[pos[starts]]
    by_k = np.argsort(step_k, kind="stable")
    n_alarmed = np.searchsorted(step_k[by_k], np.arange(k), side="right")  # steps with first_k <= j
    per_block = max(1, _CHUNK_CELLS // len(pos))
    for lo in range(0, window + 1, per_block):
        w = windows[lo : lo + per_block]
        per_step = np.minimum(np.add.reduceat(_weights(dist, w), starts, axis=1), 1.0)[:, by_k]
        cum = np.hstack([np.zeros((len(w), 1)), np.cumsum(per_step, axis=1)])
        out[lo : lo + per_block] += cum[:, n_alarmed]
    return out


def _weights(dist: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """``sqrt(1 - d / w)`` where ``1 <= d <= w // 2``, else 0 (TSB-AD's buffer), windows x dists."""
    d = dist[None, :].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = (d >= 1) & (d <= windows // 2)
        return np.where(inside, np.sqrt(np.clip(1.0 - d / windows, 0.0, None)), 0.0)


def _existence_ratio(events: np.ndarray, first_k: np.ndarray, window: int, k: int, n: int) -> np.ndarray:
    """Share of buffered, merged events holding an alarm at each (window, threshold)."""
    n_events = len(events)
    sentinel = k + 1
    padded = np.append(first_k, sentinel)
    bounds = np.stack([events[:, 0], events[:, 1] + 1], axis=1).ravel()
    inside = np.minimum.reduceat(padded, bounds)[::2]

    half = window // 2
    d = np.arange(1, half + 1)
    left = events[:, 0, None] - d
    right = events[:, 1, None] + d
    left_k = np.where(left >= 0, padded[np.clip(left, 0, n)], sentinel)
    right_k = np.where(right < n, padded[np.clip(right, 0, n)], sentinel)
    reach = np.minimum(np.minimum.accumulate(left_k, axis=1), np.minimum.accumulate(right_k, axis=1))
    reach = np.hstack([np.full((n_events, 1), sentinel), reach])  # column h: buffer of h steps

    gaps = events[1:, 0] - events[:-1, 1]
    by_half = np.empty((half + 1, k))  # windows 2h and 2h + 1 share the buffer h
    for h in range(half + 1):
        event_min = np.minimum(inside, reach[:, h])
        starts = np.flatnonzero(np.concatenate(([True], gaps > 2 * h)))  # TSB-AD: e_i + h < s_(i+1) - h
        group_min = np.minimum.reduceat(event_min, starts)
        by_half[h] = np.cumsum(np.bincount(group_min, minlength=k + 2)[:k]) / len(starts)
    return by_half[np.arange(window + 1) // 2]


# ---- the buffer a benchmark uses --------------------------------------------------------------
#: Longest buffer derived for a dataset, in seconds: enough for scrape, rate-window and model lag.
BUFFER_CAP_S = 120.0
#: Share of the shortest normal gap between two labelled events that the buffer may span.
GAP_SHARE = 0.5
WINDOW_RULE = (
    "VUS buffer = min({cap:g} s, {share:g} x the shortest fault-free gap between two labelled events), "
    "in steps of the dataset's interval: buffers of neighbouring events never meet, so events never merge"
)


@dataclass(frozen=True)
class VusWindow:
    """The VUS buffer length chosen for one dataset, in steps and seconds, and why."""

    steps: int
    seconds: float
    shortest_gap_steps: int | None
    rule: str

    def to_json(self) -> dict[str, Any]:
        return {"window_steps": self.steps, "window_s": self.seconds,
                "shortest_gap_steps": self.shortest_gap_steps, "rule": self.rule}


def shortest_gap_steps(y_true: Any) -> int | None:
    """Fewest normal steps between two consecutive labelled events (``None`` below two events)."""
    events = segment_events(y_true)
    if len(events) < 2:
        return None
    return int(np.min(events[1:, 0] - events[:-1, 1] - 1))


def derive_window(
    series: Sequence[Any], step_s: float, *, cap_s: float = BUFFER_CAP_S, gap_share: float = GAP_SHARE,
    window_s: float | None = None,
) -> VusWindow:
    """The VUS buffer for a dataset whose 0/1 label series (the scored one and its cuts) are ``series``.

    TSB-AD merges two events when their buffers of ``w // 2`` steps meet (a gap of ``g`` normal
    steps merges once ``2 (w // 2) > g``); a fixed 100 steps merged every fault of a short run.
    Here ``w = min(cap_s / step_s, gap_share x g_min)`` with ``g_min`` the shortest gap over all
    series given, so at least half of every gap stays plain normal time and no events merge.
    An explicit ``window_s`` is used as given (rounded to steps).
    """
    if step_s <= 0:
        raise BadInput(f"the dataset's step must be positive, got {step_s!r} s")
    gaps = [g for g in (shortest_gap_steps(y) for y in series) if g is not None]
    gap = min(gaps) if gaps else None
    if window_s is not None:
        if window_s < 0:
            raise BadInput(f"the VUS window must be >= 0 s, got {window_s!r}")
        steps = round(window_s / step_s)
        return VusWindow(steps, steps * step_s, gap, f"VUS buffer set explicitly to {window_s:g} s")
    if cap_s < 0 or not 0 < gap_share <= 1:
        raise BadInput(f"VUS buffer needs cap_s >= 0 and 0 < gap_share <= 1, got {cap_s!r}, {gap_share!r}")
    steps = int(cap_s // step_s)
    if gap is not None:
        steps = min(steps, int(gap_share * gap))
    return VusWindow(steps, steps * step_s, gap, WINDOW_RULE.format(cap=cap_s, share=gap_share))


PAPARRIZOS = "Paparrizos et al., PVLDB 2022 (VUS); matches TSB-AD 1.5"
register("vus_roc", vus_roc, "score", reference=PAPARRIZOS)
register("vus_pr", vus_pr, "score", reference=PAPARRIZOS)
