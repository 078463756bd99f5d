"""A hand-made dataset for root-cause localizers: three candidate services and one context host.

Each service has CPU use (a counter in cores), a CPU quota (a constant gauge), a process count,
memory and a latency; the host (context, not in the graph) has its own CPU. The column names are
deliberately not ``service:metric`` for one series (``odd-7`` belongs to ``cart``): localizers must
read the dataset's column table, never split names. Faults (steps, end exclusive):

- 60..70: ``cpu`` on ``cart`` (its CPU use x4; its memory and latency untouched);
- 80..90: ``memory_leak`` on ``catalog`` (memory x3), while ``gateway`` starts 3 extra processes
  (a decoy for rankers that would read process counts as CPU) and the host's CPU jumps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset, ServiceGraph

CANDIDATES = ("gateway", "cart", "catalog")
STEPS = 100
TRAIN_END = 50
FAULTS = ((60, 70, "cpu", "cart", "f1-cpu"), (80, 90, "memory_leak", "catalog", "f2-mem"))


def _columns() -> list[dict[str, str]]:
    out = []
    for s in CANDIDATES:
        cpu_name = "odd-7" if s == "cart" else f"{s}:cpu_cores"
        out += [
            {"name": cpu_name, "service": s, "metric": "cpu_cores", "group": "cpu", "kind": "counter", "unit": "cores"},
            {"name": f"{s}:cpu_quota_cores", "service": s, "metric": "cpu_quota_cores", "group": "cpu", "kind": "gauge", "unit": "cores"},
            {"name": f"{s}:processes", "service": s, "metric": "processes", "group": "cpu", "kind": "gauge", "unit": "processes"},
            {"name": f"{s}:memory_bytes", "service": s, "metric": "memory_bytes", "group": "memory", "kind": "gauge", "unit": "bytes"},
            {"name": f"{s}:latency_p99_s", "service": s, "metric": "latency_p99_s", "group": "application", "kind": "gauge", "unit": "s"},
        ]
    out.append({"name": "host:cpu_busy_cores", "service": "host", "metric": "cpu_busy_cores", "group": "cpu",
                "kind": "counter", "unit": "cores"})
    return out


def make(seed: int = 0, cpu_factor: float = 4.0, memory_factor: float = 3.0) -> Dataset:
    """The dataset described in the module docstring (noise seeded)."""
    rng = np.random.default_rng(seed)
    cols = _columns()
    index = pd.date_range("2026-01-01", periods=STEPS, freq="5s", tz="UTC", name="timestamp")
    values: dict[str, np.ndarray] = {}
    for c in cols:
        level = {"cpu_cores": 0.2, "cpu_quota_cores": 1.0, "processes": 4.0, "memory_bytes": 1e8,
                 "latency_p99_s": 0.05, "cpu_busy_cores": 0.8}[c["metric"]]
        noisy = c["metric"] not in ("cpu_quota_cores", "processes")
        values[c["name"]] = level * (1.0 + (0.05 * rng.standard_normal(STEPS) if noisy else np.zeros(STEPS)))
    values["odd-7"][60:70] *= cpu_factor
    values["catalog:memory_bytes"][80:90] *= memory_factor
    values["gateway:processes"][80:90] += 3.0
    values["host:cpu_busy_cores"][80:90] *= 3.0
    metrics = pd.DataFrame(values, index=index)
    labels = pd.DataFrame({"anomaly": np.zeros(STEPS, dtype=np.int8), "fault_type": "", "root_cause": "", "fault_id": ""},
                          index=index)
    for start, end, fault_type, target, fault_id in FAULTS:
        labels.iloc[start:end, labels.columns.get_loc("anomaly")] = 1
        labels.iloc[start:end, labels.columns.get_loc("fault_type")] = fault_type
        labels.iloc[start:end, labels.columns.get_loc("root_cause")] = target
        labels.iloc[start:end, labels.columns.get_loc("fault_id")] = fault_id
    graph = ServiceGraph(nodes=[{"name": s, "kind": "service"} for s in CANDIDATES],
                         edges=[{"source": "gateway", "target": "cart"}, {"source": "gateway", "target": "catalog"}])
    meta = {"name": "rca-handmade", "scrape_interval_s": 5.0, "train_end": index[TRAIN_END].isoformat(), "columns": cols,
            "candidates": list(CANDIDATES)}
    return Dataset(metrics=metrics, labels=labels, graph=graph, meta=meta)
