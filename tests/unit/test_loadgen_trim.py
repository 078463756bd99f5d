"""Locust's per-second stats and chart history stay bounded over a long run (no Locust needed)."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

from faultlab.testbed.app.loadgen.trim import HISTORY_POINTS, KEEP_S, trim_per_second, trim_stats


def entry(first_s: int, last_s: int, fail_every: int = 0) -> SimpleNamespace:
    """A StatsEntry-like object with one request per second over [first_s, last_s]."""
    reqs: dict[int, int] = defaultdict(int)
    fails: dict[int, int] = defaultdict(int)
    for t in range(first_s, last_s + 1):
        reqs[t] += 1
        if fail_every and t % fail_every == 0:
            fails[t] += 1
    return SimpleNamespace(num_reqs_per_sec=reqs, num_fail_per_sec=fails)


def test_only_the_recent_seconds_stay():
    counts = {t: 1 for t in range(1000, 2001)}
    assert trim_per_second(counts, now_s=2000.5, keep_s=120) == 880
    assert min(counts) == 1880 and max(counts) == 2000
    assert trim_per_second(counts, now_s=2000.5, keep_s=120) == 0  # idempotent


def test_an_hour_of_stats_is_trimmed_to_minutes_and_what_current_rps_reads_survives():
    now = 3600 * 500
    stats = SimpleNamespace(
        entries={("/products", "GET"): entry(now - 3600, now), ("/checkout", "POST"): entry(now - 3600, now, fail_every=7)},
        total=entry(now - 3600, now),
        history=[{"time": i} for i in range(720)],  # an hour of 5 s chart points
    )
    dropped = trim_stats(stats, now + 0.3)
    assert dropped > 3 * 3000
    for e in [*stats.entries.values(), stats.total]:
        assert len(e.num_reqs_per_sec) == KEEP_S + 1
        assert all(e.num_reqs_per_sec[t] == 1 for t in range(now - 12, now + 1))  # current_rps' window
        assert all(t >= now - KEEP_S for t in e.num_fail_per_sec)
    assert len(stats.history) == HISTORY_POINTS and stats.history[-1] == {"time": 719}


def test_missing_attributes_are_skipped():
    assert trim_stats(SimpleNamespace(), 10.0) == 0
    assert trim_stats(SimpleNamespace(entries={}, total=None, history=None), 10.0) == 0
