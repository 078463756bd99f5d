"""How long each registered metric takes, and what a 20 x 10 leaderboard's VUS-PR costs.

Run alone: ``python benchmarks/scoring.py`` (``--no-reference`` skips the TSB-AD timing).
Prints one table of seconds per metric call on three synthetic series, then the leaderboard
estimate: 20 detectors x 10 datasets of 10k-100k points, VUS-PR with TSB-AD's defaults.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faultlab.harness.scoring import METRICS, segment_events, vus_pr  # noqa: E402

SERIES = [  # (column title, points, events)
    ("1M pts / 100 ev", 1_000_000, 100),
    ("1M pts / 5k ev", 1_000_000, 5_000),
    ("20k pts / 100 ev", 20_000, 100),
]
FAULT_TYPES = np.array(["cpu", "memory", "latency", "loss", "disk"])
SERVICES = [f"svc{i}" for i in range(12)]


def make_series(n: int, n_events: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels with ``n_events`` events of 5-60 steps, scores that lean towards them, predictions."""
    rng = np.random.default_rng(seed)
    y = np.zeros(n, dtype=np.int8)
    for start in np.sort(rng.choice(n - 60, size=n_events, replace=False)):
        y[start : start + int(rng.integers(5, 60))] = 1
    scores = rng.random(n) + 0.6 * y * rng.random(n)
    return y, scores, (scores > np.quantile(scores, 0.95)).astype(np.int8)


def inputs_for(kind: str, n: int, n_events: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
    y, scores, pred = make_series(n, n_events)
    rng = np.random.default_rng(1)
    if kind == "binary":
        return (y, pred), {}
    if kind == "score":
        return (y, scores), {}
    if kind == "events":
        return (y, pred), {"step_s": 5.0}
    if kind == "classification":  # one label per step: an upper bound on real use
        truth = FAULT_TYPES[rng.integers(0, 5, n)]
        guess = np.where(rng.random(n) < 0.7, truth, FAULT_TYPES[rng.integers(0, 5, n)])
        return (truth, guess), {}
    # rootcause: one ranked list of all services per labelled event
    n_faults = len(segment_events(y))
    ranked = [list(rng.permutation(SERVICES)) for _ in range(n_faults)]
    truth = [{SERVICES[int(i)]} for i in rng.integers(0, len(SERVICES), n_faults)]
    return (ranked, truth), {}


def best_time_s(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def metric_table() -> None:
    print(f"{'metric':<26} {'kind':<15}" + "".join(f"{title:>18}" for title, _, _ in SERIES))
    cache: dict[tuple[str, int, int], tuple[tuple[Any, ...], dict[str, Any]]] = {}
    for _name, metric in METRICS.items():
        cells = []
        for _, n, n_events in SERIES:
            key = (metric.kind, n, n_events)
            if key not in cache:
                cache[key] = inputs_for(metric.kind, n, n_events)
            args, context = cache[key]
            repeats = 1 if n >= 1_000_000 else 3
            cells.append(best_time_s(lambda metric=metric, args=args, context=context: metric(*args, **context), repeats))
        print(f"{metric.display_name:<26} {metric.kind:<15}" + "".join(f"{c:>17.4f}s" for c in cells))


def leaderboard_estimate(reference: bool) -> None:
    lengths = np.geomspace(10_000, 100_000, 10).astype(int)
    datasets = [make_series(int(n), max(5, int(n) // 2_000), seed=i) for i, n in enumerate(lengths)]
    rng = np.random.default_rng(2)
    start = time.perf_counter()
    for y, scores, _ in datasets:
        for _ in range(20):
            vus_pr(y, scores + 0.05 * rng.random(len(scores)))
    total = time.perf_counter() - start
    points = int(lengths.sum())
    print(
        f"\nLeaderboard 20 detectors x 10 datasets ({lengths.min()}-{lengths.max()} points, "
        f"{points} in all), VUS-PR window=100, 250 thresholds: {total:.2f} s "
        f"({1000 * total / 200:.1f} ms per call)"
    )
    if not reference:
        return
    try:
        from TSB_AD.evaluation.basic_metrics import generate_curve
    except ImportError:
        print("TSB-AD not installed: reference timing skipped (pip install --no-deps tsb-ad)")
        return
    import warnings

    y, scores, _ = make_series(5_000, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_s = best_time_s(lambda: generate_curve(y, scores, 100), 1)
    ours_s = best_time_s(lambda: vus_pr(y, scores), 3)
    print(
        f"TSB-AD 1.5 generate_curve on 5,000 points (window 100): {ref_s:.2f} s vs ours {ours_s * 1000:.1f} ms; "
        f"its cost grows with n, so the same leaderboard would take about "
        f"{ref_s * points / 5_000 * 20 / 3600:.1f} h with it"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-reference", action="store_true", help="skip timing TSB-AD's VUS")
    args = parser.parse_args()
    print("Seconds per call (best of 3; 1 run on 1M points). Classification: one label per step;")
    print("root cause: one ranked list of 12 services per labelled event.\n")
    metric_table()
    leaderboard_estimate(reference=not args.no_reference)


if __name__ == "__main__":
    main()
