"""A deterministic synthetic dataset that looks like a testbed run, for tests and ``bench``.

The shop of ``testbed/README.md`` (7 services, PostgreSQL, Redis, the real call graph) under
a load with a slow "daily" cycle, a faster ripple and noise, recorded with the column names of
``faultlab.harness.collect.catalog``. A fault-free training period (``meta["train_end"]``) is followed
by injected faults of the six testbed types, each with a plausible footprint on its target
and, through the call graph, on its callers' latency:

==================  ==========================================================================
cpu                 +0.5..0.9 cores on the target, its own latency x1.6..2.5
memory_leak         memory and RSS grow linearly to +150..300 MB, dropped at revert
memory_alloc        a +200..400 MB step in memory and RSS
disk                +20..60 MB/s written and +5..20 MB/s read, latency x1.3, a little CPU
network_overload    +5..20 MB/s received and sent (+packets), a little CPU, latency x1.3
packet_loss         latency x2..4 (retransmissions), errors up, throughput down a little
==================  ==========================================================================

Labels come from ground-truth-like records through :func:`faultlab.harness.datasets.labels.labels_from_ground_truth`,
the same path a real run takes. Everything is drawn from one seeded generator: the same
arguments always give the same dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.errors import BadInput
from faultlab.harness.datasets.labels import labels_from_ground_truth
from faultlab.injectors.ground_truth import iso_ms
from faultlab.testbed.topology import service_graph

FAULT_TYPES = ("cpu", "memory_leak", "memory_alloc", "disk", "network_overload", "packet_loss")
MB = 1024.0 * 1024.0

#: (metric, group, kind, unit) for every container; application metrics for services only.
CONTAINER_METRICS = (
    ("cpu_cores", "cpu", "counter", "cores"),
    ("memory_bytes", "memory", "gauge", "bytes"),
    ("rss_bytes", "memory", "gauge", "bytes"),
    ("rx_bytes_per_s", "network", "counter", "bytes/s"),
    ("tx_bytes_per_s", "network", "counter", "bytes/s"),
    ("rx_packets_per_s", "network", "counter", "packets/s"),
    ("tx_packets_per_s", "network", "counter", "packets/s"),
    ("disk_read_bytes_per_s", "disk", "counter", "bytes/s"),
    ("disk_write_bytes_per_s", "disk", "counter", "bytes/s"),
)
APP_METRICS = (
    ("request_rate", "application", "counter", "requests/s"),
    ("error_rate", "application", "counter", "requests/s"),
    ("in_flight", "application", "gauge", "requests"),
    ("latency_p50_s", "application", "gauge", "s"),
    ("latency_p99_s", "application", "gauge", "s"),
)

# Calls per incoming request, caller -> callee (gateway requests come from the load).
FANOUT = {
    ("gateway", "catalog"): 0.6,
    ("gateway", "cart"): 0.3,
    ("gateway", "recommendation"): 0.3,
    ("gateway", "checkout"): 0.08,
    ("recommendation", "catalog"): 1.0,
    ("catalog", "postgres"): 1.0,
    ("cart", "redis"): 1.5,
    ("checkout", "cart"): 1.0,
    ("checkout", "payment"): 1.0,
    ("checkout", "shipping"): 1.0,
    ("payment", "postgres"): 2.0,
    ("shipping", "redis"): 1.0,
}
OWN_LATENCY_S = {"gateway": 0.004, "catalog": 0.006, "cart": 0.003, "recommendation": 0.012,
                 "checkout": 0.008, "payment": 0.015, "shipping": 0.005, "postgres": 0.004, "redis": 0.001}
IDLE_CPU_CORES = {"postgres": 0.03, "redis": 0.01}
CPU_PER_REQUEST = {"gateway": 0.004, "catalog": 0.006, "cart": 0.003, "recommendation": 0.010,
                   "checkout": 0.006, "payment": 0.005, "shipping": 0.003, "postgres": 0.002, "redis": 0.0006}
BASE_MEMORY_MB = {"gateway": 60, "catalog": 65, "cart": 55, "recommendation": 80, "checkout": 58,
                  "payment": 52, "shipping": 50, "postgres": 180, "redis": 12}


@dataclass(frozen=True)
class SyntheticSpec:
    """What to generate; the defaults give ~2.9k steps (about 4 hours at 5 s)."""

    seed: int = 0
    train_steps: int = 1200
    faults_per_type: int = 3
    fault_types: tuple[str, ...] = FAULT_TYPES
    fault_steps: tuple[int, int] = (30, 60)  # duration range, in steps
    gap_steps: tuple[int, int] = (30, 60)  # normal steps before each fault
    scrape_interval_s: float = 5.0
    period_steps: int = 720  # the "daily" load cycle
    base_rate_rps: float = 20.0
    start: str = "2026-01-05T00:00:00Z"
    name: str = "synthetic"


def generate(spec: SyntheticSpec | None = None, **overrides: object) -> Dataset:
    """Build the dataset described by ``spec`` (fields may also be given as keywords)."""
    try:
        spec = _checked(replace(spec or SyntheticSpec(), **overrides))
    except TypeError as exc:  # an unknown keyword
        raise BadInput(f"synthetic: {exc}") from None
    rng = np.random.default_rng(spec.seed)
    graph = service_graph()
    services = graph.names
    schedule = _schedule(spec, services, graph, rng)
    n_steps = spec.train_steps + sum(g + d for _, g, d, _, _ in schedule) + spec.gap_steps[0]
    step = pd.Timedelta(seconds=spec.scrape_interval_s)
    index = pd.date_range(pd.Timestamp(spec.start), periods=n_steps, freq=step, name="timestamp")

    load = _load(spec, n_steps, rng)
    effects = _Effects(n_steps, services)
    records = []
    t = spec.train_steps
    for k, (ftype, gap, duration, target, intensity) in enumerate(schedule):
        t += gap
        effects.apply(ftype, target, t, t + duration, intensity)
        records.append(_record(f"f{k + 1:03d}", ftype, target, intensity, index, t, t + duration, spec))
        t += duration
    columns, values = _simulate(services, graph, load, effects, rng)

    metrics = pd.DataFrame(values, index=index, columns=[c["name"] for c in columns])
    labels = labels_from_ground_truth(records, index)
    meta = {
        "name": spec.name,
        "scrape_interval_s": spec.scrape_interval_s,
        "start": iso_ms(index[0]),
        "end": iso_ms(index[-1]),
        "train_end": iso_ms(index[spec.train_steps]),
        "columns": columns,
        "faults": records,
        "source": {"generator": "faultlab.harness.datasets.synthetic", "seed": spec.seed, "faults_per_type": spec.faults_per_type},
    }
    mask = pd.DataFrame(False, index=index, columns=metrics.columns)
    return Dataset(metrics=metrics, labels=labels, graph=graph, meta=meta, mask=mask)


def _checked(spec: SyntheticSpec) -> SyntheticSpec:
    unknown = [f for f in spec.fault_types if f not in FAULT_TYPES]
    if unknown:
        raise BadInput(f"synthetic: unknown fault type(s) {', '.join(unknown)}; valid: {', '.join(FAULT_TYPES)}")
    if spec.train_steps < 10 or spec.faults_per_type < 0:
        raise BadInput(
            "synthetic: train_steps must be >= 10 and faults_per_type >= 0, "
            f"got {spec.train_steps}, {spec.faults_per_type}"
        )
    for field_name in ("fault_steps", "gap_steps"):
        lo, hi = getattr(spec, field_name)
        if not 1 <= lo <= hi:
            raise BadInput(f"synthetic: {field_name} must be (lo, hi) with 1 <= lo <= hi, got {(lo, hi)}")
    return spec


def _schedule(spec: SyntheticSpec, services: list[str], graph: ServiceGraph, rng: np.random.Generator) -> list[tuple]:
    """``(type, gap, duration, target, intensity)`` per fault, types shuffled, targets drawn."""
    types = [t for t in spec.fault_types for _ in range(spec.faults_per_type)]
    order = rng.permutation(len(types))
    out = []
    for i in order:
        gap = int(rng.integers(spec.gap_steps[0], spec.gap_steps[1] + 1))
        duration = int(rng.integers(spec.fault_steps[0], spec.fault_steps[1] + 1))
        target = services[int(rng.integers(len(services)))]
        out.append((types[i], gap, duration, target, float(rng.uniform(0.0, 1.0))))
    return out


def _load(spec: SyntheticSpec, n_steps: int, rng: np.random.Generator) -> np.ndarray:
    """Gateway requests/s: a daily cycle, a faster ripple and slowly correlated noise."""
    t = np.arange(n_steps)
    phase = rng.uniform(0, 2 * np.pi)
    daily = 0.35 * np.sin(2 * np.pi * t / spec.period_steps + phase)
    ripple = 0.08 * np.sin(2 * np.pi * t / (spec.period_steps / 5.3))
    cycle = 1 + daily + ripple
    ar = np.zeros(n_steps)
    eps = rng.normal(0, 0.02, n_steps)
    for i in range(1, n_steps):
        ar[i] = 0.9 * ar[i - 1] + eps[i]
    return spec.base_rate_rps * cycle * (1 + ar)


class _Effects:
    """Per-service additive/multiplicative modifiers over time, filled in by each fault."""

    def __init__(self, n_steps: int, services: list[str]) -> None:
        zeros = lambda: {s: np.zeros(n_steps) for s in services}  # noqa: E731
        ones = lambda: {s: np.ones(n_steps) for s in services}  # noqa: E731
        self.cpu_add, self.mem_add, self.rx_add, self.tx_add = zeros(), zeros(), zeros(), zeros()
        self.read_add, self.write_add, self.error_frac = zeros(), zeros(), zeros()
        self.latency_mul, self.throughput_mul = ones(), ones()

    def apply(self, ftype: str, target: str, start: int, end: int, x: float) -> None:
        s = slice(start, end)
        ramp = np.minimum(1.0, (np.arange(end - start) + 1) / 2.0)  # effect visible within 2 scrapes
        if ftype == "cpu":
            self.cpu_add[target][s] += (0.5 + 0.4 * x) * ramp
            self.latency_mul[target][s] *= 1.6 + 0.9 * x
        elif ftype == "memory_leak":
            self.mem_add[target][s] += (150 + 150 * x) * MB * np.linspace(1.0 / (end - start), 1.0, end - start)
        elif ftype == "memory_alloc":
            self.mem_add[target][s] += (200 + 200 * x) * MB * ramp
        elif ftype == "disk":
            self.write_add[target][s] += (20 + 40 * x) * MB * ramp
            self.read_add[target][s] += (5 + 15 * x) * MB * ramp
            self.cpu_add[target][s] += 0.1 * ramp
            self.latency_mul[target][s] *= 1.3
        elif ftype == "network_overload":
            self.rx_add[target][s] += (5 + 15 * x) * MB * ramp
            self.tx_add[target][s] += (5 + 15 * x) * MB * ramp
            self.cpu_add[target][s] += 0.15 * ramp
            self.latency_mul[target][s] *= 1.3
        elif ftype == "packet_loss":
            self.latency_mul[target][s] *= 2.0 + 2.0 * x
            self.error_frac[target][s] += 0.02 + 0.05 * x
            self.throughput_mul[target][s] *= 0.9


def _simulate(
    services: list[str], graph: ServiceGraph, load: np.ndarray, fx: _Effects, rng: np.random.Generator
) -> tuple[list[dict], np.ndarray]:
    """Column descriptions and the ``T x F`` values: traffic down the graph, latency back up."""
    n = len(load)
    order = _topological(services, graph)
    incoming = {s: np.zeros(n) for s in services}
    incoming["gateway"] = load.copy()
    for caller in order:  # callers before callees
        for (src, dst), calls in FANOUT.items():
            if src == caller:
                incoming[dst] += incoming[caller] * calls * fx.throughput_mul[caller]
    latency = {}
    for svc in reversed(order):  # callees before callers: a slow callee slows its callers
        own = OWN_LATENCY_S[svc] * (1 + 0.3 * incoming[svc] / max(incoming[svc].mean(), 1e-9))
        downstream = sum(latency[dst] * min(calls, 1.0) for (src, dst), calls in FANOUT.items() if src == svc)
        latency[svc] = own * fx.latency_mul[svc] + downstream

    def noisy(x: np.ndarray, rel: float) -> np.ndarray:
        return np.clip(x * (1 + rng.normal(0, rel, n)), 0, None)

    columns: list[dict] = []
    series: list[np.ndarray] = []
    kinds = {node["name"]: node.get("kind", "service") for node in graph.nodes}
    for svc in services:
        rate = incoming[svc]
        mem_drift = np.cumsum(rng.normal(0, 0.002, n))
        mem_drift -= np.linspace(0, mem_drift[-1], n)  # bounded wander, no trend
        load_share = rate / max(rate.mean(), 1e-9)
        memory = BASE_MEMORY_MB[svc] * MB * (1 + 0.03 * np.tanh(mem_drift) + 0.02 * load_share) + fx.mem_add[svc]
        rx = rate * 600 * fx.throughput_mul[svc] + 2000 + fx.rx_add[svc]
        tx = rate * 2500 * fx.throughput_mul[svc] + 1500 + fx.tx_add[svc]
        write_base = rate * 400 if kinds.get(svc) == "database" else np.full(n, 3000.0)
        values = {
            "cpu_cores": noisy(IDLE_CPU_CORES.get(svc, 0.01) + CPU_PER_REQUEST[svc] * rate, 0.06) + fx.cpu_add[svc],
            "memory_bytes": noisy(memory, 0.005),
            "rss_bytes": noisy(0.8 * memory, 0.005),
            "rx_bytes_per_s": noisy(rx, 0.05),
            "tx_bytes_per_s": noisy(tx, 0.05),
            "rx_packets_per_s": noisy(rx / 900, 0.05),
            "tx_packets_per_s": noisy(tx / 1200, 0.05),
            "disk_read_bytes_per_s": noisy(np.full(n, 500.0), 0.5) + fx.read_add[svc],
            "disk_write_bytes_per_s": noisy(write_base, 0.3) + fx.write_add[svc],
        }
        for metric, group, kind, unit in CONTAINER_METRICS:
            columns.append(_column(svc, metric, group, kind, unit))
            series.append(values[metric])
        if kinds.get(svc) == "database":
            continue
        p50 = latency[svc] * 0.5
        app = {
            "request_rate": noisy(rate * fx.throughput_mul[svc], 0.04),
            "error_rate": rng.poisson(np.clip(rate * (0.001 + fx.error_frac[svc]), 0, None) * 5.0) / 5.0,
            "in_flight": rng.poisson(np.clip(rate * latency[svc], 0, None)).astype(float),
            "latency_p50_s": noisy(p50, 0.08),
            "latency_p99_s": noisy(latency[svc] * 2.5, 0.12),
        }
        for metric, group, kind, unit in APP_METRICS:
            columns.append(_column(svc, metric, group, kind, unit))
            series.append(app[metric])
    return columns, np.column_stack(series)


def _topological(services: list[str], graph: ServiceGraph) -> list[str]:
    """Callers before callees (the call graph is a DAG)."""
    callers = {s: {e["source"] for e in graph.edges if e["target"] == s} for s in services}
    order: list[str] = []
    while len(order) < len(services):
        ready = [s for s in services if s not in order and callers[s] <= set(order)]
        if not ready:
            raise ValueError("the call graph has a cycle")
        order += ready
    return order


def _column(svc: str, metric: str, group: str, kind: str, unit: str) -> dict[str, str]:
    return {"name": f"{svc}:{metric}", "service": svc, "metric": metric, "group": group, "kind": kind, "unit": unit}


def _record(
    fault_id: str, ftype: str, target: str, x: float, index: pd.DatetimeIndex, start: int, end: int, spec: SyntheticSpec
) -> dict:
    """A ground-truth-like record (DESIGN.md): applied just before ``start``, reverted just after ``end - 1``."""
    half = pd.Timedelta(seconds=spec.scrape_interval_s / 2)
    applied, reverted = index[start] - half, index[end - 1] + half
    effect = {
        "cpu": ("cpu_cores", 0.5 + 0.4 * x, "cores"),
        "memory_leak": ("memory_bytes", (150 + 150 * x) * MB, "bytes"),
        "memory_alloc": ("memory_bytes", (200 + 200 * x) * MB, "bytes"),
        "disk": ("disk_write_bytes_per_s", (20 + 40 * x) * MB, "bytes/s"),
        "network_overload": ("rx_bytes_per_s", (5 + 15 * x) * MB, "bytes/s"),
        "packet_loss": ("latency_p99_s", 2.0 + 2.0 * x, "ratio"),
    }[ftype]
    return {
        "fault_id": fault_id,
        "type": ftype,
        "targets": [target],
        "params": {"intensity": round(x, 4)},
        "mechanism": "synthetic",
        "scheduled_start": iso_ms(applied),
        "scheduled_end": iso_ms(reverted),
        "applied_at": iso_ms(applied),
        "reverted_at": iso_ms(reverted),
        "effect_onset": iso_ms(index[start]),
        "effect_offset": iso_ms(index[end - 1]),
        "outcome": "reverted",
        "effect": {"metric": f"{target}:{effect[0]}", "baseline": None, "during": round(effect[1], 6), "unit": effect[2]},
        "error": None,
    }
