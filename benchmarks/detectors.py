"""How the deep detectors' cost grows with the number of services: training time per epoch,
scoring throughput and peak memory, on the CPU, for 6, 24, 96 and 384 services.

Run alone: ``python benchmarks/detectors.py [--detectors lstm_ae,attae] [--services 6,24]
[--steps 1500] [--epochs 3]``. Each (detector, size) runs in its own process, so the peak
resident memory it reports (``ru_maxrss`` minus the process's size after imports) belongs to
that one fit and score. Synthetic data: ``N`` services x 14 metrics (the testbed's container
and application metrics, one shared load with noise), a call tree (service ``i`` calls
``2i+1`` and ``2i+2``), the first 80 % fault-free for training, then five faults.

Training runs exactly ``--epochs`` epochs (early stopping off) and the time per epoch comes
from the detector's ``history_`` (a :class:`faultlab.detectors.torchkit.TrainHistory` or a
dict of them, summed: one model per group) when it has one, else fit time / epochs.
Throughput is test steps scored per second (windows built, forward passes, thresholds).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faultlab.dataset import Dataset, ServiceGraph  # noqa: E402

DETECTORS = ["lstm_ae", "attae", "gnn_lstm_vae", "dcrnn"]
SIZES = [6, 24, 96, 384]
METRICS = (
    ("cpu_cores", "cpu"), ("memory_bytes", "memory"), ("rss_bytes", "memory"),
    ("rx_bytes_per_s", "network"), ("tx_bytes_per_s", "network"), ("rx_packets_per_s", "network"),
    ("tx_packets_per_s", "network"), ("disk_read_bytes_per_s", "disk"), ("disk_write_bytes_per_s", "disk"),
    ("request_rate", "application"), ("error_rate", "application"), ("in_flight", "application"),
    ("latency_p50_s", "application"), ("latency_p99_s", "application"),
)


def make_dataset(n_services: int, steps: int, seed: int = 0) -> Dataset:
    """``steps`` x (``n_services`` x 14) synthetic metrics with five faults in the last 20 %."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    load = 1.0 + 0.5 * np.sin(2 * np.pi * t / 300) + 0.05 * rng.normal(size=steps)
    services = [f"svc{i:03d}" for i in range(n_services)]
    share = rng.uniform(0.3, 1.5, size=(n_services, len(METRICS)))
    values = load[:, None, None] * share[None] * (1 + 0.03 * rng.normal(size=(steps, n_services, len(METRICS))))
    train_steps = int(steps * 0.8)
    anomaly = np.zeros(steps, dtype=np.int8)
    fault_type = np.full(steps, "", dtype=object)
    root = np.full(steps, "", dtype=object)
    fault_id = np.full(steps, "", dtype=object)
    gap = (steps - train_steps) // 5
    for k in range(5):
        start = train_steps + k * gap + gap // 3
        end = start + max(gap // 3, 2)
        target = int(rng.integers(n_services))
        values[start:end, target, k % len(METRICS)] *= 3.0
        anomaly[start:end] = 1
        fault_type[start:end], root[start:end], fault_id[start:end] = "cpu", services[target], f"f{k}"
    names = [f"{s}:{m}" for s in services for m, _ in METRICS]
    columns = [
        {"name": f"{s}:{m}", "service": s, "metric": m, "group": g, "kind": "gauge", "unit": ""}
        for s in services
        for m, g in METRICS
    ]
    index = pd.date_range("2026-01-01", periods=steps, freq="5s", tz="UTC", name="timestamp")
    labels = pd.DataFrame(
        {"anomaly": anomaly, "fault_type": fault_type.astype(str), "root_cause": root.astype(str), "fault_id": fault_id.astype(str)},
        index=index,
    )
    edges = [{"source": services[i], "target": services[j]} for i in range(n_services) for j in (2 * i + 1, 2 * i + 2) if j < n_services]
    graph = ServiceGraph([{"name": s, "kind": "service"} for s in services], edges)
    meta = {"name": f"bench-{n_services}", "scrape_interval_s": 5.0, "train_end": index[train_steps].isoformat(), "columns": columns}
    return Dataset(metrics=pd.DataFrame(values.reshape(steps, -1), index=index, columns=names), labels=labels, graph=graph, meta=meta)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _epoch_seconds(detector: Any, fit_s: float, epochs: int) -> float:
    history = getattr(detector, "history_", None)
    histories = list(history.values()) if isinstance(history, dict) else [history]
    if histories and all(hasattr(h, "epoch_s") for h in histories):
        per_model = [np.mean(h.epoch_s) for h in histories if h.epoch_s]
        if per_model:
            return float(np.sum(per_model))
    return fit_s / max(epochs, 1)


def measure_one(name: str, n_services: int, steps: int, epochs: int, seed: int = 0) -> dict[str, Any]:
    """Fit and score one detector on one size, in this process."""
    import torch  # noqa: F401  (imported before the baseline, so its own size is not counted)

    from faultlab.detectors import DETECTORS as REGISTRY
    from faultlab.detectors import make_detector

    data = make_dataset(n_services, steps, seed)
    train, test = data.train(), data.test()
    fields = REGISTRY.get(name).Params.model_fields
    params: dict[str, Any] = {}
    if "max_epochs" in fields:
        params.update(max_epochs=epochs, patience=epochs + 1)
    if "device" in fields:
        params["device"] = "cpu"
    if "progress_after_s" in fields:
        params["progress_after_s"] = 1e9
    base_mb = _rss_mb()
    tick = time.perf_counter()
    detector = make_detector(name, params, seed).fit(train)
    fit_s = time.perf_counter() - tick
    tick = time.perf_counter()
    detector.score(test)
    score_s = time.perf_counter() - tick
    return {
        "detector": name,
        "services": n_services,
        "series": int(data.metrics.shape[1]),
        "train_steps": len(train.metrics),
        "epoch_s": _epoch_seconds(detector, fit_s, epochs),
        "fit_s": fit_s,
        "score_steps_per_s": len(test.metrics) / score_s,
        "peak_mb": _rss_mb() - base_mb,
    }


def run_child(name: str, n_services: int, steps: int, epochs: int, timeout_s: float) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--one", name, str(n_services), "--steps", str(steps), "--epochs", str(epochs)]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"detector": name, "services": n_services, "error": f"over {timeout_s:.0f} s"}
    if out.returncode != 0:
        return {"detector": name, "services": n_services, "error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def format_table(rows: list[dict[str, Any]]) -> str:
    head = "| detector | services | series | train steps | s / epoch | fit s | score steps/s | peak MB |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['detector']} | {r['services']} | | | | | | {r['error']} |")
            continue
        lines.append(
            f"| {r['detector']} | {r['services']} | {r['series']} | {r['train_steps']} | {r['epoch_s']:.2f} | "
            f"{r['fit_s']:.1f} | {r['score_steps_per_s']:.0f} | {r['peak_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detectors", default=",".join(DETECTORS))
    parser.add_argument("--services", default=",".join(map(str, SIZES)))
    parser.add_argument("--steps", type=int, default=1500, help="time steps per dataset (80 %% training)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--timeout-s", type=float, default=1800.0, help="per detector and size")
    parser.add_argument("--one", nargs=2, metavar=("DETECTOR", "SERVICES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(args.one[0], int(args.one[1]), args.steps, args.epochs)))
        return 0
    rows = []
    for name in [d for d in args.detectors.split(",") if d]:
        for size in [int(s) for s in args.services.split(",") if s]:
            rows.append(run_child(name, size, args.steps, args.epochs, args.timeout_s))
            print(f"{name} x {size}: done", file=sys.stderr, flush=True)
    print(f"CPU, torch threads from OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"{args.steps} steps, {args.epochs} epochs")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
