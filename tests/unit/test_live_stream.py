"""The rolling buffer (gap rule, capacity, Dataset view) and the poller's grid and timing, without Prometheus."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faultlab.errors import BadInput, RunFailed
from faultlab.harness.live.poller import PrometheusSource
from faultlab.harness.live.stream import StreamBuffer

TABLE = [{"name": n, "service": n.split(":")[0], "metric": n.split(":")[1], "group": "cpu", "kind": "gauge", "unit": ""}
         for n in ("a:x", "b:x", "c:x")]
T0 = pd.Timestamp("2026-01-01T00:00:00Z")


def _t(k: int) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds=5 * k)


def test_a_missing_value_keeps_the_last_one_and_is_masked():
    buffer = StreamBuffer(["a:x", "b:x", "c:x"], TABLE, capacity=10, step_s=5, fill=np.array([7.0, 8.0, 9.0]))
    buffer.push(_t(0), {"a:x": 1.0, "b:x": np.nan})  # c:x absent, b:x NaN: never seen, so the fill
    buffer.push(_t(1), {"a:x": np.nan, "b:x": 2.0, "c:x": 3.0, "d:x": 99.0})  # d:x is not a fitted series
    data = buffer.dataset()
    assert data.metrics.to_numpy().tolist() == [[1.0, 8.0, 9.0], [1.0, 2.0, 3.0]]
    assert data.mask.to_numpy().tolist() == [[False, True, True], [True, False, False]]
    assert list(data.metrics.columns) == ["a:x", "b:x", "c:x"] and data.y.sum() == 0
    assert data.scrape_interval_s == 5


def test_the_oldest_step_leaves_a_full_buffer():
    buffer = StreamBuffer(["a:x"], TABLE, capacity=3, step_s=5)
    for k in range(5):
        buffer.push(_t(k), {"a:x": float(k)})
    assert len(buffer) == 3 and buffer.last_time == _t(4)
    assert buffer.dataset().metrics["a:x"].tolist() == [2.0, 3.0, 4.0]


def test_a_series_never_seen_without_a_fill_is_left_to_the_series_policy():
    buffer = StreamBuffer(["a:x", "b:x"], TABLE, capacity=3, step_s=5)
    buffer.push(_t(0), {"a:x": 1.0})
    assert list(buffer.dataset().metrics.columns) == ["a:x"]


def test_steps_must_move_forward():
    buffer = StreamBuffer(["a:x"], TABLE, capacity=3, step_s=5)
    buffer.push(_t(1), {"a:x": 1.0})
    with pytest.raises(BadInput, match="not after"):
        buffer.push(_t(1), {"a:x": 2.0})


class Clock:
    """A fake wall clock; ``sleep`` advances it."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _source(clock: Clock, step_s: float = 5.0, origin_s: float = 1000.0) -> tuple[PrometheusSource, list]:
    """A source whose fetch returns a frame on the asked grid (values = the time), recording each ask."""
    src = PrometheusSource("http://127.0.0.1:1", step_s, origin_s=origin_s, clock=clock, sleep=clock.sleep, lag_s=1.0)
    asked: list[tuple[float, float]] = []

    def fetch(start_s: float, end_s: float) -> pd.DataFrame:
        asked.append((start_s, end_s))
        times = np.arange(start_s, end_s + 1e-9, step_s)
        index = pd.DatetimeIndex(pd.to_datetime(times, unit="s", utc=True), name="timestamp")
        return pd.DataFrame({"a:x": times}, index=index)

    src._fetch = fetch  # type: ignore[method-assign]
    return src, asked


def test_history_ends_at_the_newest_ingested_grid_step():
    clock = Clock(1000.0 + 5 * 20 + 0.4)  # step 20 is 0.4 s old: within the lag, not asked for yet
    src, asked = _source(clock)
    frame = src.history(4)
    assert asked == [(1000.0 + 5 * 16, 1000.0 + 5 * 19)] and len(frame) == 4
    assert src.next_time_s == 1000.0 + 5 * 20


def test_history_does_not_reach_before_the_stream_began():
    src, asked = _source(Clock(1000.0 + 5 * 2 + 2.0))
    src.history(50)
    assert asked == [(1000.0, 1010.0)]


def test_next_waits_for_the_step_plus_the_lag_then_fetches_it():
    clock = Clock(1000.0 + 5 * 20 + 1.2)
    src, asked = _source(clock)
    src.history(3)
    step = src.next()
    assert step.time == pd.Timestamp(1105.0, unit="s", tz="UTC") and step.values["a:x"] == 1105.0
    assert clock.now == pytest.approx(1106.0) and asked[-1] == (1100.0, 1105.0)
    assert src.next().time == pd.Timestamp(1110.0, unit="s", tz="UTC")
    assert src.skipped == 0


def test_a_source_that_fell_behind_skips_to_the_newest_step():
    clock = Clock(1000.0 + 5 * 20 + 1.5)
    src, _ = _source(clock)
    src.history(3)
    clock.now += 17.0  # scoring took 17 s: steps 21 and 22 are gone
    assert src.next().time == pd.Timestamp(1115.0, unit="s", tz="UTC")
    assert src.skipped == 2


def test_a_fractional_step_asks_from_a_whole_second():
    clock = Clock(1000.0 + 2.5 * 5 + 1.3)  # grid 1000, 1002.5, ...; newest ingested: 1012.5
    src, asked = _source(clock, step_s=2.5)
    src.history(2)
    assert asked[-1] == (1010.0, 1012.5)  # 1010 is whole; the collector floors its start to a second
    src.next()
    assert asked[-1] == (1010.0, 1015.0)


def test_a_reply_without_the_step_is_a_failed_step():
    clock = Clock(1000.0 + 5 * 3 + 1.5)
    src, _ = _source(clock)
    src.history(1)
    src._fetch = lambda start, end: pd.DataFrame({"a:x": []}, index=pd.DatetimeIndex([], tz="UTC"))  # type: ignore[method-assign]
    with pytest.raises(RunFailed, match="no grid step"):
        src.next()
    assert src.next_time_s == 1000.0 + 5 * 5  # the failed step is passed over
