"""From a labelled Dataset to what classifiers and root-cause scoring consume.

The runner, the bench and the tests all build classifier inputs here, so that "a window of a
fault" means the same thing everywhere: windows lie inside one labelled fault event, and each
carries that event's fault type and id (so splits can keep one event's windows together, as
TELESTO's leave-one-group-out evaluation does, Sec. 3.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.errors import BadInput


@dataclass(frozen=True)
class FaultSegment:
    """One labelled fault event: steps ``start`` .. ``end - 1`` of the dataset."""

    start: int
    end: int
    fault_id: str
    fault_type: str
    root_cause: tuple[str, ...]


@dataclass(frozen=True)
class FaultWindows:
    """Classifier inputs: ``windows`` (N x size x F), one fault type and fault id per window."""

    windows: np.ndarray
    labels: np.ndarray
    fault_ids: np.ndarray
    end_index: np.ndarray  # step index of each window's last step
    columns: list[str]
    graph: ServiceGraph


def fault_segments(data: Dataset) -> list[FaultSegment]:
    """Contiguous runs of anomalous steps that share one ``fault_id``, in time order."""
    labels = data.labels
    anomaly = labels["anomaly"].to_numpy() > 0
    ids = labels["fault_id"].astype(str).to_numpy()
    out: list[FaultSegment] = []
    start = None
    for i in range(len(anomaly) + 1):
        boundary = i == len(anomaly) or not anomaly[i] or (start is not None and ids[i] != ids[start])
        if start is not None and boundary:
            row = labels.iloc[start]
            causes = tuple(s for s in str(row["root_cause"]).split(",") if s)
            out.append(FaultSegment(start, i, str(ids[start]), str(row["fault_type"]), causes))
            start = None
        if i < len(anomaly) and anomaly[i] and start is None:
            start = i
    return out


def window_ends(start: int, end: int, size: int, stride: int) -> list[int]:
    """Last steps of the ``size``-step windows inside steps ``start .. end - 1``, ``stride`` apart.

    The one rule for cutting a fault into windows (event folds and TELESTO's protocol alike):
    windows start at the fault's first step while they fit inside it; a fault shorter than
    ``size`` still gives one window, the ``size`` steps ending at its last step (a little of the
    normal lead-in included rather than the fault dropped), unless the data has too few steps
    before it.
    """
    ends = list(range(start + size - 1, end, stride))
    if not ends and end - 1 >= size - 1:
        ends = [end - 1]
    return ends


def fault_windows(data: Dataset, size: int, stride: int | None = None) -> FaultWindows:
    """Windows of ``size`` steps inside each labelled fault event.

    Windows start at the event's first step and advance by ``stride`` (default ``size``:
    non-overlapping), cut by :func:`window_ends`.
    """
    if size < 1:
        raise BadInput(f"window size must be >= 1, got {size}")
    stride = stride or size
    if stride < 1:
        raise BadInput(f"window stride must be >= 1, got {stride}")
    values = data.values().astype(np.float64)
    if len(values) < size:
        raise BadInput(f"dataset {data.name!r} has {len(values)} steps, fewer than the window size {size}")
    ends: list[int] = []
    labels: list[str] = []
    ids: list[str] = []
    for seg in fault_segments(data):
        if not seg.fault_type:
            continue
        seg_ends = window_ends(seg.start, seg.end, size, stride)
        ends += seg_ends
        labels += [seg.fault_type] * len(seg_ends)
        ids += [seg.fault_id] * len(seg_ends)
    end_index = np.asarray(ends, dtype=np.int64)
    windows = (
        np.stack([values[e - size + 1 : e + 1] for e in end_index])
        if len(end_index)
        else np.empty((0, size, values.shape[1]))
    )
    return FaultWindows(
        windows=windows,
        labels=np.asarray(labels, dtype=str),
        fault_ids=np.asarray(ids, dtype=str),
        end_index=end_index,
        columns=[str(c) for c in data.metrics.columns],
        graph=data.graph,
    )
