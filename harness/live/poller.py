"""Steps from a Prometheus server, one per scrape, through the collector's own path.

Live values must be the values the recorded dataset will hold, or live and offline scores
cannot be compared. So a step is fetched with :func:`~faultlab.harness.collect.collect_metrics`
itself (the same queries, the same client-side counter rates from the previous grid point, the
same PromQL rate window for quantiles) over a few grid points ending at the step, on the same
grid as the run's dataset (``origin_s + k * step_s``, whole-second starts as Prometheus' client
sends them). A step is asked for ``lag_s`` after its time, so the scrape that belongs to it has
been ingested; a source that falls behind by more than a step skips to the newest one (counted
in ``skipped``) rather than scoring old data late.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from faultlab.errors import BadInput, RunFailed
from faultlab.harness.collect import CATALOG, MetricSpec, collect_metrics
from faultlab.harness.collect.fetch import make_client
from faultlab.harness.live.stream import Step

#: Seconds after a step's time before it is fetched, at most half a step (the scrape lands first).
DEFAULT_LAG_S = 1.0
#: Query threads per step (the collector's default of 8 is sized for long ranges).
STEP_WORKERS = 4


class PrometheusSource:
    """A live stream of grid steps from ``url`` (see the module docstring)."""

    def __init__(
        self,
        url: str,
        step_s: float,
        *,
        origin_s: float | None = None,
        groups: Sequence[str] | None = None,
        services: Sequence[str] | None = None,
        catalog: Sequence[MetricSpec] = CATALOG,
        monitoring: bool = False,
        lag_s: float | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not step_s > 0:
            raise BadInput(f"live step must be > 0 s, got {step_s}")
        self.url, self.step_s = url, float(step_s)
        self.origin_s = float(math.floor(clock() if origin_s is None else origin_s))
        self.options: dict[str, Any] = {
            "groups": list(groups) if groups is not None else None,
            "services": list(services) if services is not None else None,
            "catalog": list(catalog), "monitoring": monitoring, "max_workers": STEP_WORKERS,
        }
        self.lag_s = min(DEFAULT_LAG_S if lag_s is None else float(lag_s), self.step_s / 2)
        self.clock, self.sleep = clock, sleep
        self.skipped = 0  # grid steps passed over because the source fell behind
        self.last_fetch_ms: float | None = None
        self.table: list[dict[str, str]] = []  # meta.json column rows of the last fetch
        self._next: float | None = None
        self._client = make_client(url, timeout_s=max(10.0, 4 * self.step_s))

    @property
    def next_time_s(self) -> float | None:
        """The grid time of the next step :meth:`next` gives (known once :meth:`history` ran)."""
        return self._next

    # ---- the grid ------------------------------------------------------------------------------
    def grid_at_or_before(self, t_s: float) -> float:
        """The newest grid time at or before ``t_s``."""
        return self.origin_s + math.floor((t_s - self.origin_s) / self.step_s + 1e-9) * self.step_s

    def _whole_second_start(self, end_s: float, steps_before: int) -> float:
        """A grid time at least ``steps_before`` steps before ``end_s`` on a whole second (the
        collector floors its start to one; a fractional step needs a few steps more)."""
        for extra in range(40):
            start = end_s - (steps_before + extra) * self.step_s
            if abs(start - round(start)) < 1e-6:
                return float(round(start))
        raise BadInput(f"live step {self.step_s:g} s never lands on a whole second: use a step of whole or half seconds")

    # ---- fetching -------------------------------------------------------------------------------
    def _fetch(self, start_s: float, end_s: float) -> pd.DataFrame:
        """Grid steps ``start_s`` .. ``end_s`` as the collector computes them, NaN where not measured."""
        t0 = time.perf_counter()
        collected = collect_metrics(self.url, start_s, end_s, self.step_s, client=self._client, **self.options)
        self.last_fetch_ms = 1000 * (time.perf_counter() - t0)
        self.table = collected.columns
        return collected.metrics.where(~collected.mask)

    def history(self, steps: int) -> pd.DataFrame:
        """The newest ``steps`` grid steps already in Prometheus (from ``origin_s`` at the earliest)."""
        last = self.grid_at_or_before(self.clock() - self.lag_s)
        self._next = last + self.step_s
        if last < self.origin_s or steps < 1:
            return pd.DataFrame()
        start = max(self._whole_second_start(last, max(steps - 1, 0)), self.origin_s)
        return self._fetch(start, last)

    def next(self) -> Step:
        """Wait for the next grid step (plus ``lag_s``) and fetch it; RunFailed if Prometheus fails
        (the step is then passed over)."""
        now = self.clock()
        t = self._next if self._next is not None else self.grid_at_or_before(now) + self.step_s
        newest = self.grid_at_or_before(now - self.lag_s)
        if newest > t:  # fell behind by more than a step: score the newest, not old data late
            self.skipped += int(round((newest - t) / self.step_s))
            t = newest
        while (left := t + self.lag_s - self.clock()) > 0:
            self.sleep(min(left, 0.5))
        self._next = t + self.step_s
        frame = self._fetch(self._whole_second_start(t, 1), t)
        when = pd.Timestamp(t, unit="s", tz="UTC")
        if len(frame) == 0 or abs((frame.index[-1] - when).total_seconds()) > 1e-3:
            raise RunFailed(f"Prometheus at {self.url}: no grid step at {when.isoformat()} in the reply")
        return Step(when, frame.iloc[-1])

    def close(self) -> None:
        self._client.close()
