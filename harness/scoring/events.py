"""Events (contiguous runs) in labels and alarms, and the time-based metrics built on them.

An event is a ``(start, end)`` pair of step indices, **both inclusive** (the convention of
Tatbul et al. 2018 and of the reference implementations), returned as an ``E x 2`` int64 array.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from faultlab.errors import BadInput
from faultlab.flags import runs_of
from faultlab.harness.scoring.base import as_binary, check_same_length, register


def segment_events(y: Any) -> np.ndarray:
    """``E x 2`` array of the ``(start, end)`` indices (inclusive) of each run of 1s in ``y``."""
    runs = runs_of(as_binary(y, "labels"))
    return np.array([(start, end - 1) for start, end in runs], dtype=np.int64).reshape(-1, 2)


def segment_runs(keys: Sequence[str] | np.ndarray, empty: str = "") -> tuple[np.ndarray, list[str]]:
    """Events from a per-step key column (e.g. ``fault_id``): runs of one equal, non-empty key.

    Two faults back to back are two events, which :func:`segment_events` on the 0/1 column would
    merge. Returns the ``E x 2`` inclusive index array and the key of each event.
    """
    arr = np.asarray(keys, dtype=object)
    if arr.ndim != 1:
        raise BadInput(f"event keys must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        return np.empty((0, 2), dtype=np.int64), []
    change = np.ones(arr.size, dtype=bool)
    change[1:] = arr[1:] != arr[:-1]
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:] - 1, arr.size - 1)
    keep = arr[starts] != empty
    events = np.stack([starts[keep], ends[keep]], axis=1).astype(np.int64)
    return events, [str(k) for k in arr[starts[keep]]]


def step_durations_s(n: int, timestamps_s: Any = None, step_s: float | None = None) -> np.ndarray:
    """Seconds each step stands for: the gap to the next timestamp, at most the median gap.

    A gap longer than the usual step is time nobody observed (missed scrapes, or other faults'
    steps cut out by a per-group breakdown), so it does not count. Give either ``timestamps_s``
    (float seconds or datetime64 values) or a constant ``step_s``.
    """
    if timestamps_s is None:
        if step_s is None or step_s <= 0:
            raise BadInput(f"give timestamps_s or a positive step_s, got step_s={step_s!r}")
        return np.full(n, float(step_s))
    t = to_seconds(timestamps_s)
    if len(t) != n:
        raise BadInput(f"timestamps_s has {len(t)} values for {n} steps")
    if n < 2:
        return np.full(n, float(step_s or 0.0))
    gaps = np.diff(t)
    if (gaps <= 0).any():
        raise BadInput("timestamps_s must be strictly increasing")
    usual = float(np.median(gaps))
    return np.append(np.minimum(gaps, usual), usual)


def to_seconds(timestamps: Any) -> np.ndarray:
    """Float seconds from float seconds, datetime64 values or a pandas DatetimeIndex."""
    arr = np.asarray(timestamps)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype("datetime64[ns]").astype(np.int64) / 1e9
    if arr.dtype == object and arr.size and hasattr(arr.flat[0], "timestamp"):
        return np.array([t.timestamp() for t in arr], dtype=np.float64)
    return arr.astype(np.float64)


def detection_delays_s(
    y_true: Any,
    y_pred: Any,
    *,
    timestamps_s: Any = None,
    step_s: float | None = None,
    events: np.ndarray | None = None,
) -> np.ndarray:
    """Seconds from each fault event's start to its first alarm inside the event (NaN: missed).

    Only alarms at or after the labelled (actual) start and no later than the event's end count;
    an alarm raised before the start is a false alarm, not an early detection. ``events``
    overrides the segmentation of ``y_true`` (e.g. from :func:`segment_runs` on ``fault_id``).
    """
    truth = as_binary(y_true, "y_true")
    pred = as_binary(y_pred, "y_pred")
    check_same_length(truth, pred)
    events = segment_events(truth) if events is None else np.asarray(events, dtype=np.int64)
    if timestamps_s is None:
        if step_s is None or step_s <= 0:
            raise BadInput(f"give timestamps_s or a positive step_s, got step_s={step_s!r}")
        t = np.arange(len(truth), dtype=np.float64) * float(step_s)
    else:
        t = to_seconds(timestamps_s)
        if len(t) != len(truth):
            raise BadInput(f"timestamps_s has {len(t)} values for {len(truth)} steps")
    alarms = np.flatnonzero(pred)
    delays = np.full(len(events), np.nan)
    if len(events) == 0 or len(alarms) == 0:
        return delays
    first = np.searchsorted(alarms, events[:, 0], side="left")
    found = first < len(alarms)
    idx = alarms[np.minimum(first, len(alarms) - 1)]
    hit = found & (idx <= events[:, 1])
    delays[hit] = t[idx[hit]] - t[events[hit, 0]]
    return delays


def mean_detection_delay_s(y_true: Any, y_pred: Any, **context: Any) -> float:
    """Mean delay over the detected events; ``nan`` when none is detected (see recall for misses)."""
    delays = detection_delays_s(y_true, y_pred, **context)
    return float(np.nanmean(delays)) if np.isfinite(delays).any() else float("nan")


def false_alarms_per_hour(
    y_true: Any,
    y_pred: Any,
    *,
    timestamps_s: Any = None,
    step_s: float | None = None,
) -> float:
    """Alarm events that start outside every labelled event, per hour of fault-free time.

    An alarm event is a run of positive predictions, so one long false alarm counts once (what an
    operator is paged for). Fault-free time is the summed duration of the steps labelled 0;
    ``nan`` when there is none.
    """
    truth = as_binary(y_true, "y_true")
    pred = as_binary(y_pred, "y_pred")
    check_same_length(truth, pred)
    durations = step_durations_s(len(truth), timestamps_s, step_s)
    normal_h = float(durations[~truth].sum()) / 3600.0
    if normal_h <= 0:
        return float("nan")
    starts = segment_events(pred)[:, 0]
    return float((~truth[starts]).sum()) / normal_h


def detected_event_fraction(y_true: Any, y_pred: Any, **context: Any) -> float:
    """Share of labelled events with at least one alarm inside (event-wise existence recall)."""
    if context.get("timestamps_s") is None and context.get("step_s") is None:
        context = {**context, "step_s": 1.0}  # the share does not depend on the clock
    delays = detection_delays_s(y_true, y_pred, **context)
    return float(np.isfinite(delays).mean()) if len(delays) else float("nan")


register("mean_delay_s", mean_detection_delay_s, "events", higher_is_better=False)
register("detected_events", detected_event_fraction, "events")
register("false_alarms_per_h", false_alarms_per_hour, "events", higher_is_better=False)
