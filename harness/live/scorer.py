"""Fitted detectors on one live buffer: a score per step, alarms with their top suspects.

Every step pushed is scored by every detector with :meth:`~faultlab.detectors.Detector.score_latest`
(the offline score of that step, from it and earlier steps only); a score above the detector's
own ``threshold_`` is an alarm, journalled at once with the detector's top suspects over the
alarm so far (:meth:`~faultlab.detectors.Detector.suspects_latest`). The cost of each step
(wall and CPU milliseconds) is measured here, where it is spent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from faultlab.detectors import Detector
from faultlab.errors import RunFailed
from faultlab.harness.live.journal import AlertJournal, ScoreLog, Verdict
from faultlab.harness.live.stream import Step, StepSource, StreamBuffer

#: An alarm's suspects are ranked over at most this many of its newest steps (cost stays bounded).
SUSPECT_STEPS = 12


def buffer_capacity(detectors: Sequence[Detector]) -> int:
    """Steps a shared buffer keeps: the longest ``history_steps``, plus room to rank an alarm's newest steps."""
    return max(d.history_steps for d in detectors) + SUSPECT_STEPS - 1


@dataclass
class LiveDetector:
    """A fitted detector in a live scorer, with its alarm state."""

    label: str
    detector: Detector
    seed: int = 0
    alarm_steps: int = 0  # length of the current alarm (0: not alarming)


class LiveScorer:
    """Scores each new step with every detector; journals alarms and (optionally) every score."""

    def __init__(
        self,
        detectors: Sequence[LiveDetector],
        buffer: StreamBuffer,
        *,
        alerts: AlertJournal | None = None,
        scores: ScoreLog | None = None,
        top_k: int = 3,
        on_verdict: Callable[[Verdict], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.detectors = list(detectors)
        self.buffer = buffer
        self.alerts, self.scores = alerts, scores
        self.top_k = top_k
        self.on_verdict = on_verdict or (lambda verdict: None)
        self.clock = clock
        self.steps = 0
        self.alarms = 0

    def prime(self, history: pd.DataFrame) -> None:
        """Fill the buffer with the steps before the live ones (nothing is scored)."""
        self.buffer.extend(history)

    def step(self, step: Step, fetch_ms: float | None = None) -> list[Verdict]:
        """Push ``step``, score it with every detector, journal alarms and scores; the verdicts."""
        self.buffer.push(step.time, step.values)
        data = self.buffer.dataset()
        verdicts = [self._judge(live, data, step.time) for live in self.detectors]
        raised_at = self.clock()
        for verdict in verdicts:
            if verdict.alarm:
                self.alarms += 1
                if self.alerts is not None:
                    self.alerts.append(verdict.alert_record(raised_at))
            if self.scores is not None:
                self.scores.append(verdict.score_record(raised_at, fetch_ms))
            self.on_verdict(verdict)
        self.steps += 1
        return verdicts

    def _judge(self, live: LiveDetector, data, when: pd.Timestamp) -> Verdict:
        det = live.detector
        wall, cpu = time.perf_counter(), time.process_time()
        score = det.score_latest(data)
        alarm = bool(score > det.threshold_)  # Detector.predict's rule; NaN (warming up) is no alarm
        live.alarm_steps = live.alarm_steps + 1 if alarm else 0
        suspects = det.suspects_latest(data, min(live.alarm_steps, SUSPECT_STEPS), self.top_k) if alarm else []
        return Verdict(
            time=when, detector=live.label, seed=live.seed, score=score, threshold=float(det.threshold_), alarm=alarm,
            onset=alarm and live.alarm_steps == 1, alarm_steps=live.alarm_steps, suspects=tuple(suspects),
            scoring_ms=1000 * (time.perf_counter() - wall), cpu_ms=1000 * (time.process_time() - cpu),
        )

    def close(self) -> None:
        if self.scores is not None:
            self.scores.close()


def run_stream(
    source: StepSource,
    scorer: LiveScorer,
    *,
    max_steps: int | None = None,
    keep_going: Callable[[], bool] = lambda: True,
    log: Callable[[str], None] = lambda line: None,
) -> int:
    """Prime ``scorer`` from ``source``'s history, then score step after step until the source
    ends, ``max_steps`` were scored, ``keep_going()`` (asked before each step) says no, or an
    interruption (SIGTERM, Ctrl-C) stops it; returns the steps scored.

    A step the source could not fetch (a failed query) is skipped with a line in the log: a
    monitoring loop outlives a Prometheus hiccup.
    """
    scorer.prime(source.history(scorer.buffer.capacity))
    while (max_steps is None or scorer.steps < max_steps) and keep_going():
        try:
            step = source.next()
        except RunFailed as exc:
            log(f"warning: step skipped: {exc}")
            continue
        if step is None:
            break
        scorer.step(step, getattr(source, "last_fetch_ms", None))
    return scorer.steps
