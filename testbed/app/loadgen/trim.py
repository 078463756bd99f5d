"""Keeping Locust's in-memory statistics bounded over hours of load (pure: no Locust import).

Locust (2.47) keeps, per request name and for the total, a ``{second: count}`` dict of requests
and of failures (``StatsEntry.num_reqs_per_sec`` / ``num_fail_per_sec``) for its whole run, and
appends a chart point to ``RequestStats.history`` every 5 s; nothing ever drops them. They feed
only the web UI's charts and the final HTML report, which the testbed does not use: the
``locust_*`` metrics read ``current_rps``/``current_fail_per_sec`` (the last 12 s) and the
response-time cache (the last 20 s). So over a long recording the load generator's memory grows
by a few MB per hour without any load changing: an artefact of the testbed, not load. The
locustfile calls :func:`trim_stats` every minute to keep the last ``keep_s`` seconds only.
"""

from __future__ import annotations

from typing import Any

KEEP_S = 120  # far more than the 12 s window current_rps and current_fail_per_sec read
HISTORY_POINTS = 120  # chart points kept (10 minutes at Locust's 5 s history interval)


def trim_per_second(counts: dict[int, int], now_s: float, keep_s: float = KEEP_S) -> int:
    """Drop the seconds older than ``keep_s`` from a ``{second: count}`` dict; how many went."""
    oldest = int(now_s - keep_s)
    stale = [t for t in counts if t < oldest]
    for t in stale:
        del counts[t]
    return len(stale)


def trim_stats(stats: Any, now_s: float, keep_s: float = KEEP_S, history_points: int = HISTORY_POINTS) -> int:
    """Trim every entry of a Locust ``RequestStats`` (and its total) and its chart history in place;
    returns how many items were dropped. Attributes a Locust version lacks are skipped."""
    dropped = 0
    entries = list(getattr(stats, "entries", {}).values())
    total = getattr(stats, "total", None)
    for entry in [*entries, *([total] if total is not None else [])]:
        for name in ("num_reqs_per_sec", "num_fail_per_sec"):
            counts = getattr(entry, name, None)
            if isinstance(counts, dict):
                dropped += trim_per_second(counts, now_s, keep_s)
    history = getattr(stats, "history", None)
    if isinstance(history, list) and len(history) > history_points:
        extra = len(history) - history_points
        del history[:extra]
        dropped += extra
    return dropped
