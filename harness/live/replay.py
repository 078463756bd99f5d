"""A recorded dataset replayed step by step: a live stream without Prometheus.

The tests prove with it that live scores equal offline ones and use no later data, and
:func:`stream_scores` is the reference a live run's scores are compared with. A step's values
are the recorded ones (already gap-filled by the collector), so a replay feeds a
:class:`~.stream.StreamBuffer` exactly what the dataset holds.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset, legacy_column_table
from faultlab.detectors import Detector
from faultlab.harness.live.stream import Step, StreamBuffer


class ReplaySource:
    """Steps ``start`` .. end of ``data`` one at a time; :meth:`history` gives the ones before ``start``."""

    def __init__(self, data: Dataset, start: int = 0) -> None:
        if not 0 <= start <= len(data.metrics):
            raise ValueError(f"replay start {start} is outside the {len(data.metrics)} steps of {data.name!r}")
        self.data = data
        self.step_s = data.scrape_interval_s
        self._next = start
        self._start = start

    def history(self, steps: int) -> pd.DataFrame:
        return self.data.metrics.iloc[max(0, self._start - steps) : self._start]

    def next(self) -> Step | None:
        if self._next >= len(self.data.metrics):
            return None
        values = self.data.metrics.iloc[self._next]
        self._next += 1
        return Step(pd.Timestamp(values.name), values)

    def __iter__(self) -> Iterator[Step]:
        while (step := self.next()) is not None:
            yield step


def buffer_for(detector: Detector, data: Dataset, name: str = "replay") -> StreamBuffer:
    """An empty buffer in ``detector``'s fitted columns, sized to its ``history_steps``."""
    return StreamBuffer(
        detector.columns_, fitted_table(detector), capacity=detector.history_steps, step_s=data.scrape_interval_s,
        graph=data.graph, candidates=data.candidates, fill=detector.fill_values_, name=name,
    )


def fitted_table(detector: Detector) -> list[dict[str, str]]:
    """The meta.json column rows ``detector`` was fitted on (derived from the names for legacy models)."""
    return list(getattr(detector, "column_table_", None) or legacy_column_table(detector.columns_))


def stream_scores(detector: Detector, data: Dataset) -> np.ndarray:
    """``detector``'s live score of every step of ``data``, streamed one step at a time from its start.

    Each step's score comes from a buffer that holds that step and the ones before it only;
    NaN while the stream is shorter than the detector's ``warmup_steps``.
    """
    buffer = buffer_for(detector, data)
    out = np.empty(len(data.metrics))
    for i, step in enumerate(ReplaySource(data)):
        buffer.push(step.time, step.values)
        out[i] = detector.score_latest(buffer.dataset())
    return out
