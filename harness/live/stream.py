"""What a live detector sees: steps arriving one at a time, and the rolling buffer it scores.

A :class:`Step` is one time step of every series (NaN where a series had no sample). A
:class:`StepSource` (Prometheus, :mod:`.poller`; a recorded dataset, :mod:`.replay`) first gives
the history to prime a buffer with, then steps as they come. :class:`StreamBuffer` keeps the
newest steps as a :class:`~faultlab.dataset.Dataset` in the columns the detectors were fitted
on, with the collector's gap rule (a missing value keeps the series' last value and is masked),
so a detector scores a live buffer exactly as it scores a recorded dataset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.errors import BadInput


@dataclass(frozen=True)
class Step:
    """One time step of a stream: ``values`` by column name, NaN where a series had no sample."""

    time: pd.Timestamp
    values: pd.Series


class StepSource(Protocol):
    """Where steps come from: history to prime with, then one step at a time."""

    step_s: float

    def history(self, steps: int) -> pd.DataFrame:
        """The newest ``steps`` steps before the first one :meth:`next` gives (fewer at a stream's
        start); index: UTC timestamps, columns: series, NaN where missing."""
        ...

    def next(self) -> Step | None:
        """The next step, waiting for it where it is not there yet; None when the stream ended."""
        ...


class StreamBuffer:
    """The newest ``capacity`` steps of a stream in fixed columns, as a Dataset.

    ``columns`` and ``table`` (their meta.json column rows) are what the detectors were fitted on;
    a series missing at a step keeps its last value (masked), one never seen takes ``fill`` (the
    training median) rather than a later value, and series outside ``columns`` are ignored.
    """

    def __init__(
        self,
        columns: Sequence[str],
        table: Sequence[Mapping[str, Any]],
        *,
        capacity: int,
        step_s: float,
        graph: ServiceGraph | None = None,
        candidates: Sequence[str] | None = None,
        fill: np.ndarray | None = None,
        name: str = "live",
    ) -> None:
        if capacity < 1:
            raise BadInput(f"a stream buffer needs a capacity of at least 1 step, got {capacity}")
        self.columns = [str(c) for c in columns]
        self.capacity = int(capacity)
        self.step_s = float(step_s)
        self.fill = np.full(len(self.columns), np.nan) if fill is None else np.asarray(fill, dtype=np.float64)
        if self.fill.shape != (len(self.columns),):
            raise BadInput(f"stream buffer: {len(self.fill)} fill values for {len(self.columns)} columns")
        wanted = set(self.columns)
        self._meta: dict[str, Any] = {
            "name": name,
            "scrape_interval_s": self.step_s,
            "columns": [dict(row) for row in table if str(row.get("name")) in wanted],
        }
        if candidates is not None:
            self._meta["candidates"] = list(candidates)
        self._graph = graph or ServiceGraph([], [])
        self._values = np.empty((0, len(self.columns)))
        self._mask = np.empty((0, len(self.columns)), dtype=bool)
        self._times: list[pd.Timestamp] = []

    def __len__(self) -> int:
        return len(self._times)

    @property
    def last_time(self) -> pd.Timestamp | None:
        return self._times[-1] if self._times else None

    def push(self, time: pd.Timestamp, values: pd.Series | Mapping[str, float]) -> None:
        """Append one step (times must increase); the oldest step leaves when the buffer is full."""
        time = pd.Timestamp(time)
        time = time.tz_localize("UTC") if time.tzinfo is None else time.tz_convert("UTC")
        if self._times and time <= self._times[-1]:
            raise BadInput(f"stream step {time.isoformat()} is not after the last one {self._times[-1].isoformat()}")
        row = pd.Series(values, dtype=np.float64).reindex(self.columns).to_numpy(dtype=np.float64)
        missing = ~np.isfinite(row)
        previous = self._values[-1] if len(self._values) else self.fill
        row = np.where(missing, previous, row)
        self._values = np.vstack([self._values, row])[-self.capacity :]
        self._mask = np.vstack([self._mask, missing])[-self.capacity :]
        self._times = [*self._times, time][-self.capacity :]

    def extend(self, frame: pd.DataFrame) -> None:
        """Push every row of ``frame`` (index: times), oldest first."""
        for time, values in frame.iterrows():
            self.push(pd.Timestamp(time), values)

    def dataset(self) -> Dataset:
        """The buffer as a Dataset (labels all normal); columns never seen and without a fill are left
        out, so a detector's series policy fills them as it does for a recorded dataset."""
        index = pd.DatetimeIndex(self._times, name="timestamp")
        known = np.isfinite(self._values).all(axis=0)
        columns = [c for c, ok in zip(self.columns, known) if ok]
        metrics = pd.DataFrame(self._values[:, known], index=index, columns=columns)
        mask = pd.DataFrame(self._mask[:, known], index=index, columns=columns)
        labels = pd.DataFrame(
            {"anomaly": np.zeros(len(index), dtype=np.int8), "fault_type": "", "root_cause": "", "fault_id": ""},
            index=index,
        )
        return Dataset(metrics=metrics, labels=labels, graph=self._graph, meta=dict(self._meta), mask=mask)
