"""``alerts.jsonl`` and the per-step score log: what live detection leaves behind.

The alerts file is a journal like the ground truth (:mod:`faultlab.injectors.ground_truth`): one
JSON object per alarmed step, appended, flushed and fsynced before the next step, never
rewritten, so an alarm survives a crash of everything after it. Fields (DESIGN.md: time,
detector, score, threshold, suspects):

``time``       the step's time (UTC ISO 8601, ms): the data the alarm is about
``raised_at``  the wall-clock time the alarm was written (time to detect counts to here)
``detector``   the live detector's label (``zscore``, ``lstm_ae(hidden_units=8)``), ``seed``
``score``, ``threshold``   the step's score and the detector's own threshold (alarm: score > threshold)
``onset``      true on the first step of an alarm (a run of alarmed steps), ``alarm_steps`` its length so far
``suspects``   ``[{"service", "score"}]``, most suspect first ([] for a detector that does not localize)

The score log (``live/scores.jsonl`` in a run folder) has one line per step and detector, alarm
or not, with the cost of scoring it, so the board can compare live with offline scores and
report what live scoring costs; it is flushed every line and fsynced every minute and at close.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from faultlab.injectors.ground_truth import iso_ms, read_records

#: fsync the score log after this many lines (a minute at 1 s steps with one detector)
SCORES_SYNC_EVERY = 60


@dataclass(frozen=True)
class Verdict:
    """One detector's judgement of one step."""

    time: pd.Timestamp
    detector: str
    seed: int
    score: float
    threshold: float
    alarm: bool
    onset: bool = False  # first step of an alarm
    alarm_steps: int = 0  # steps of the current alarm so far (0 when not alarming)
    suspects: Sequence[tuple[str, float]] = field(default_factory=tuple)
    scoring_ms: float = 0.0  # wall time of score (and suspects) for this step
    cpu_ms: float = 0.0  # CPU time of the same

    def alert_record(self, raised_at: float) -> dict[str, Any]:
        return {
            "time": iso_ms(self.time), "raised_at": iso_ms(raised_at), "detector": self.detector, "seed": self.seed,
            "score": _num(self.score), "threshold": _num(self.threshold), "onset": self.onset,
            "alarm_steps": self.alarm_steps,
            "suspects": [{"service": s, "score": _num(v)} for s, v in self.suspects],
        }

    def score_record(self, raised_at: float, fetch_ms: float | None) -> dict[str, Any]:
        return {
            "time": iso_ms(self.time), "raised_at": iso_ms(raised_at), "detector": self.detector, "seed": self.seed,
            "score": _num(self.score), "threshold": _num(self.threshold), "alarm": self.alarm,
            "scoring_ms": round(self.scoring_ms, 3), "cpu_ms": round(self.cpu_ms, 3),
            "fetch_ms": None if fetch_ms is None else round(fetch_ms, 3),
        }


def _num(value: float) -> float | None:
    """JSON has no NaN: a score not defined yet is null."""
    return None if math.isnan(value) else float(value)


class AlertJournal:
    """Append-only ``alerts.jsonl``: each alarm is flushed and fsynced before ``append`` returns."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, default=str) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


class ScoreLog:
    """The per-step score lines: flushed each line, fsynced every :data:`SCORES_SYNC_EVERY` and at close."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = self.path.open("a", encoding="utf-8")
        self._unsynced = 0

    def append(self, record: dict[str, Any]) -> None:
        if self._fh is None:
            raise ValueError(f"{self.path}: the score log is closed")
        self._fh.write(json.dumps(record, default=str) + "\n")
        self._fh.flush()
        self._unsynced += 1
        if self._unsynced >= SCORES_SYNC_EVERY:
            os.fsync(self._fh.fileno())
            self._unsynced = 0

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None


def read_alerts(path: str | Path) -> list[dict[str, Any]]:
    """Every alarm in ``alerts.jsonl`` (a torn last line, from a killed writer, is skipped)."""
    return read_records(path)


def read_scores(path: str | Path) -> pd.DataFrame:
    """The score log as a table (one row per step and detector; ``time``/``raised_at`` as UTC times)."""
    records = read_records(path)
    columns = ["time", "raised_at", "detector", "seed", "score", "threshold", "alarm", "scoring_ms", "cpu_ms", "fetch_ms"]
    frame = pd.DataFrame(records, columns=columns) if records else pd.DataFrame(columns=columns)
    for col in ("time", "raised_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ("score", "threshold", "scoring_ms", "cpu_ms", "fetch_ms"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame["alarm"] = frame["alarm"].astype(bool)
    return frame
