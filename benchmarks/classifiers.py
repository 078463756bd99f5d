"""Graph classifiers on the CPU: training seconds per epoch and inference graphs per second.

Run alone: ``python benchmarks/classifiers.py`` (``--series 30,120,480 --windows 32``).
Every window is a fully connected graph with one node per series (TELESTO, seed 001), so the
edges per graph grow as ``d (d - 1)``: 870 at 30 series, 14k at 120, 230k at 480. The batch
is capped so that one batch holds at most ``--max-edges`` edges (the paper's 128 graphs at 30
series, fewer above), which keeps the memory bounded; the time per epoch is for ``--windows``
windows of 20 steps, so the columns compare like with like. ``random_forest`` is the
fixed-dimension reference. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faultlab.detectors import make_classifier
from faultlab.detectors.telesto import FAST_PARAMS

MODELS: list[tuple[str, str, dict[str, Any]]] = [  # (row title, registered name, params)
    ("telesto (paper: 5 levels, 64 ch, 8 heads)", "telesto", {}),
    ("telesto (fast CI config)", "telesto", {k: v for k, v in FAST_PARAMS.items() if k not in ("max_epochs", "batch_size")}),
    ("gcn (2 layers, 32 ch)", "gcn", {}),
    ("gin (2 layers, 64 ch)", "gin", {}),
    ("random_forest (200 trees)", "random_forest", {}),
]
WINDOW_STEPS = 20
CLASSES = 5


def make_windows(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` windows of ``d`` noisy series; each class lifts a different share of the series."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % CLASSES
    windows = rng.normal(0, 1, (n, WINDOW_STEPS, d))
    for i, c in enumerate(labels):
        windows[i, :, c::CLASSES] += 3.0
    return windows, np.array([f"type{c}" for c in labels])


def measure(name: str, params: dict[str, Any], d: int, n_windows: int, epochs: int, max_edges: int) -> tuple[float, float]:
    """``(seconds per training epoch, inference graphs per second)`` on ``n_windows`` windows of ``d`` series."""
    windows, labels = make_windows(n_windows, d)
    params = dict(params)
    if name != "random_forest":
        batch = max(2, min(128, max_edges // max(d * (d - 1), 1)))
        params |= {"max_epochs": epochs, "batch_size": batch, "device": "cpu", "progress_after_s": 1e9}
    model = make_classifier(name, params, seed=0)
    tick = time.perf_counter()
    model.fit(windows, labels)
    fit_s = time.perf_counter() - tick
    per_epoch = float(np.mean(model.history_.epoch_s)) if hasattr(model, "history_") else fit_s
    tick = time.perf_counter()
    model.predict_proba(windows)
    return per_epoch, n_windows / (time.perf_counter() - tick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default="30,120,480", help="numbers of metric series (graph nodes)")
    parser.add_argument("--windows", type=int, default=32, help="windows per epoch and per inference pass")
    parser.add_argument("--epochs", type=int, default=1, help="epochs to average over")
    parser.add_argument("--max-edges", type=int, default=250_000, help="cap on edges per batch (sets the batch size)")
    parser.add_argument("--models", default="", help="comma-separated row-title prefixes to run (default: all)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.series.split(",")]
    chosen = [m for m in MODELS if not args.models or any(m[0].startswith(p) for p in args.models.split(","))]
    head = " | ".join(f"{d} series: s/epoch, graphs/s" for d in sizes)
    print(f"{args.windows} windows of {WINDOW_STEPS} steps, {args.epochs} epoch(s), batch <= {args.max_edges} edges, CPU\n")
    print(f"| model | {head} |")
    print("|---|" + "---|" * len(sizes))
    for title, name, params in chosen:
        cells = []
        for d in sizes:
            per_epoch, rate = measure(name, params, d, args.windows, args.epochs, args.max_edges)
            cells.append(f"{per_epoch:.3g}, {rate:.3g}")
            print(f"  {title} at {d}: {per_epoch:.3g} s/epoch, {rate:.3g} graphs/s", file=sys.stderr, flush=True)
        print(f"| {title} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
