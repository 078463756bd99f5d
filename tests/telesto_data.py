"""A small TELESTO-protocol dataset: fault types with distinct signatures, injected k times per group.

Three services in two groups (``front``: a; ``back``: b, c), five series each (cpu, memory,
disk, network, latency) under a noisy load. Each fault type leaves a footprint of its own shape on
every service of the target group: ``cpu`` a noisy CPU plateau with latency up, ``memory_leak``
a linear memory ramp, ``disk`` on/off I/O bursts, ``network_overload`` swinging network bytes.
Shapes, not only which series moves, tell the types apart: TELESTO's nodes carry no series
identity (that is what makes it dimension invariant), so a model of it sees a window as a set
of series shapes. The generator
records ``group`` in the ground truth and uses generator-style ids (``f007-cpu-back``), as a
``faults.generator`` scenario does. Deterministic for a seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset, ServiceGraph

GROUPS = {"front": ["a"], "back": ["b", "c"]}
SERVICES = ("a", "b", "c")
METRICS = ("cpu_cores", "memory_bytes", "disk_bytes_per_s", "rx_bytes_per_s", "latency_s")
TYPES = ("cpu", "memory_leak", "disk", "network_overload")


def make(
    seed: int = 0, repetitions: int = 5, fault_steps: int = 24, gap_steps: int = 8, train_steps: int = 160,
    extra_series: int = 0,
) -> Dataset:
    """The dataset; ``extra_series`` adds that many noise series to service ``a`` (dimension tests)."""
    rng = np.random.default_rng(seed)
    cells = [(t, g) for t in TYPES for g in GROUPS for _ in range(repetitions)]
    order = rng.permutation(len(cells))
    n = train_steps + len(cells) * (fault_steps + gap_steps) + gap_steps
    index = pd.date_range("2026-01-05", periods=n, freq="1s", tz="UTC", name="timestamp")
    load = 1 + 0.3 * np.sin(np.arange(n) / 40) + rng.normal(0, 0.05, n)
    base = {
        "cpu_cores": lambda: 0.2 * load + rng.normal(0, 0.02, n),
        "memory_bytes": lambda: 100 + rng.normal(0, 1.0, n),
        "disk_bytes_per_s": lambda: 5 + rng.normal(0, 0.5, n),
        "rx_bytes_per_s": lambda: 50 * load + rng.normal(0, 2.0, n),
        "latency_s": lambda: 0.01 * load + rng.normal(0, 0.001, n),
    }
    series = {f"{s}:{m}": base[m]() for s in SERVICES for m in METRICS}
    for k in range(extra_series):
        series[f"a:extra_{k}"] = rng.normal(0, 1.0, n)
    anomaly = np.zeros(n, dtype=np.int8)
    fault_type, root_cause, fault_id = [""] * n, [""] * n, [""] * n
    records = []
    t = train_steps
    for i, cell in enumerate(order):
        ftype, group = cells[cell]
        t += gap_steps
        lo, hi = t, t + fault_steps
        steps = np.arange(fault_steps)
        for svc in GROUPS[group]:
            if ftype == "cpu":  # a noisy plateau on CPU, latency up with it
                series[f"{svc}:cpu_cores"][lo:hi] += 0.8 + rng.normal(0, 0.15, fault_steps)
                series[f"{svc}:latency_s"][lo:hi] *= 2.0
            elif ftype == "memory_leak":  # a steady ramp
                series[f"{svc}:memory_bytes"][lo:hi] += 60 * (steps + 1) / fault_steps
            elif ftype == "disk":  # bursts: on two steps, off two
                series[f"{svc}:disk_bytes_per_s"][lo:hi] += 40 * (steps % 4 < 2)
            else:  # transfers that swing up and down
                series[f"{svc}:rx_bytes_per_s"][lo:hi] += 150 * (1 + np.sin(steps * 2 * np.pi / 6))
        fid = f"f{i + 1:03d}-{ftype}-{group}"
        anomaly[lo:hi] = 1
        for step in range(lo, hi):
            fault_type[step], root_cause[step], fault_id[step] = ftype, ",".join(GROUPS[group]), fid
        records.append({"event": "reverted", "fault_id": fid, "type": ftype, "targets": GROUPS[group], "group": group,
                        "outcome": "reverted", "applied_at": index[lo].isoformat(), "reverted_at": index[hi - 1].isoformat()})
        t = hi
    metrics = pd.DataFrame(series, index=index)
    labels = pd.DataFrame({"anomaly": anomaly, "fault_type": fault_type, "root_cause": root_cause, "fault_id": fault_id},
                          index=index)
    meta = {"name": f"telesto-toy-{seed}", "scrape_interval_s": 1.0, "train_end": index[train_steps].isoformat(),
            "faults": records}
    graph = ServiceGraph([{"name": s, "kind": "service"} for s in SERVICES],
                         [{"source": "a", "target": "b"}, {"source": "a", "target": "c"}])
    return Dataset(metrics=metrics, labels=labels, graph=graph, meta=meta)
