"""Live steps from a real Prometheus equal the rows of the dataset collected afterwards.

The backfilled known run of ``tests.prom_fixtures`` (counters with a reset, replicas, a 100 s
gap in a gauge) is polled step by step with a fake clock, as the live process polls a run's
Prometheus; every live value must be the collected dataset's value at that step, and a value
the collector filled (masked) must arrive as missing, for the buffer's gap rule to fill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faultlab.harness.collect import collect_metrics
from faultlab.harness.live.poller import PrometheusSource
from tests.prom_fixtures import KnownPrometheus, known_prometheus  # noqa: F401 (fixture)

pytestmark = pytest.mark.prometheus


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_polled_steps_are_the_collected_rows(known_prometheus: KnownPrometheus):  # noqa: F811
    p = known_prometheus
    offline = collect_metrics(p.url, p.start_s, p.end_s, p.step_s)
    clock = Clock(p.start_s + 30 * p.step_s + 1.5)
    source = PrometheusSource(p.url, p.step_s, origin_s=p.start_s, clock=clock, sleep=clock.sleep, lag_s=1.0)
    history = source.history(12)
    assert history.index[0] == offline.metrics.index[19] and history.index[-1] == offline.metrics.index[30]
    rows = [history]
    for _ in range(60):  # steps 31..90: the counter reset at 60, the gauge's gap at 40..59
        step = source.next()
        rows.append(step.values.to_frame().T.set_axis([step.time]))
    live = pd.concat(rows)
    expected = offline.metrics.loc[live.index, live.columns]
    masked = offline.mask.loc[live.index, live.columns].to_numpy()
    values = live.to_numpy(dtype=float)
    assert np.isnan(values[masked]).all()
    np.testing.assert_allclose(values[~masked], expected.to_numpy()[~masked], rtol=1e-12)
    assert masked[:, list(live.columns).index("gateway:memory_bytes")].sum() >= 15  # the gap arrived as missing
    assert source.skipped == 0
