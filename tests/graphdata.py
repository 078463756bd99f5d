"""A small service-graph dataset with single-service faults that propagate to callers, for the graph detectors' tests.

Five services call each other (gateway -> orders, gateway -> catalog, orders -> stock,
catalog -> stock, stock -> db) and a context series ``host`` (no edges, never a candidate)
sums their CPU. A shared load with a slow cycle and noise drives request rates; CPU follows
requests; a service's latency is its own time plus its callees' (so a slow callee makes its
callers slow too, as on the testbed). A fault on one service raises its CPU and multiplies
its own latency, which the call graph carries up to every caller. With ``edge_traffic`` each
caller also reports its calls per second to each callee and their mean latency, named as
:mod:`faultlab.harness.collect.catalog` names them (``<caller>:calls_to_<callee>_per_s``,
``<caller>:calls_to_<callee>_latency_mean_s``), so ``dcrnn`` can weigh the edges by traffic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset, ServiceGraph
from tests.fitting import event_recall

SERVICES = ("gateway", "orders", "catalog", "stock", "db")
EDGES = (("gateway", "orders"), ("gateway", "catalog"), ("orders", "stock"), ("catalog", "stock"), ("stock", "db"))
OWN_LATENCY_S = {"gateway": 0.004, "orders": 0.006, "catalog": 0.005, "stock": 0.008, "db": 0.003}
CPU_PER_REQUEST = {"gateway": 0.004, "orders": 0.006, "catalog": 0.005, "stock": 0.007, "db": 0.003}
#: (start, end, target): faults in the test part, one service each
FAULTS = (
    (640, 670, "orders"),
    (720, 750, "stock"),
    (800, 830, "db"),
    (880, 910, "catalog"),
    (960, 990, "gateway"),
    (1040, 1070, "stock"),
    (1120, 1150, "orders"),
    (1200, 1230, "db"),
)


def _callees(service: str) -> list[str]:
    return [dst for src, dst in EDGES if src == service]


def make(seed: int = 0, train_steps: int = 600, steps: int = 1260, faults=FAULTS, latency_factor: float = 4.0,
         edge_traffic: bool = False) -> Dataset:
    """The dataset; ``faults`` are ``(start, end, service)`` triples (end exclusive)."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    load = 20.0 * (1.0 + 0.4 * np.sin(2 * np.pi * t / 120) + 0.05 * rng.normal(size=steps))
    hit = {s: np.zeros(steps, dtype=bool) for s in SERVICES}
    for start, end, target in faults:
        hit[target][start:end] = True
    rate, latency, cpu = {}, {}, {}
    for svc in ("gateway", "orders", "catalog", "stock", "db"):  # callers before callees
        callers = [src for src, dst in EDGES if dst == svc]
        rate[svc] = load if not callers else sum(rate[c] for c in callers) * 0.7
    for svc in reversed(SERVICES):  # callees before callers
        own = OWN_LATENCY_S[svc] * (1.0 + 0.05 * rng.normal(size=steps)) * np.where(hit[svc], latency_factor, 1.0)
        latency[svc] = own + sum(latency[c] for c in _callees(svc))
        cpu[svc] = CPU_PER_REQUEST[svc] * rate[svc] * (1.0 + 0.05 * rng.normal(size=steps)) + np.where(hit[svc], 0.3, 0.0)
    columns: dict[str, np.ndarray] = {}
    info = []
    for svc in SERVICES:
        series = {
            "cpu_cores": cpu[svc],
            "memory_bytes": 5e7 * (1.0 + 0.01 * rng.normal(size=steps)),
            "request_rate": rate[svc] * (1.0 + 0.03 * rng.normal(size=steps)),
            "latency_p99_s": latency[svc],
        }
        for metric, values in series.items():
            columns[f"{svc}:{metric}"] = values
            group = {"cpu_cores": "cpu", "memory_bytes": "memory"}.get(metric, "application")
            info.append({"name": f"{svc}:{metric}", "service": svc, "metric": metric, "group": group, "kind": "gauge", "unit": ""})
    if edge_traffic:
        for src, dst in EDGES:
            callers = [a for a, b in EDGES if b == dst]
            share = rate[dst] / len(callers)  # each caller sends an even share of the callee's requests
            edge = {f"calls_to_{dst}_per_s": share, f"calls_to_{dst}_latency_mean_s": latency[dst]}
            for metric, values in edge.items():
                columns[f"{src}:{metric}"] = values * (1.0 + 0.02 * rng.normal(size=steps))
                info.append({"name": f"{src}:{metric}", "service": src, "metric": metric, "group": "application",
                             "kind": "gauge", "unit": ""})
    columns["host:cpu_cores"] = sum(cpu[s] for s in SERVICES) + 0.01 * rng.normal(size=steps)
    info.append({"name": "host:cpu_cores", "service": "host", "metric": "cpu_cores", "group": "cpu", "kind": "gauge", "unit": ""})
    index = pd.date_range("2026-01-05", periods=steps, freq="5s", tz="UTC", name="timestamp")
    labels = pd.DataFrame({"anomaly": 0, "fault_type": "", "root_cause": "", "fault_id": ""}, index=index)
    for i, (start, end, target) in enumerate(faults):
        labels.iloc[start:end, :] = [1, "cpu", target, f"f{i:02d}"]
    labels["anomaly"] = labels["anomaly"].astype(np.int8)
    graph = ServiceGraph(
        nodes=[{"name": s, "kind": "service"} for s in SERVICES],
        edges=[{"source": a, "target": b} for a, b in EDGES],
    )
    meta = {
        "name": "graphdata",
        "scrape_interval_s": 5.0,
        "train_end": index[train_steps].isoformat(),
        "columns": info,
        "candidates": list(SERVICES),
    }
    return Dataset(metrics=pd.DataFrame(columns, index=index), labels=labels, graph=graph, meta=meta)


def ac_at(data: Dataset, detector, k: int = 1) -> float:
    """AC@k of ``detector``'s rankings on the labelled events (the harness's own metric)."""
    from faultlab.detectors.windows import fault_segments
    from faultlab.harness.scoring import ac_at_k

    segments = fault_segments(data)
    rankings = detector.localize(data, [(s.start, s.end) for s in segments])
    return ac_at_k([r.top_services(k) for r in rankings], [set(s.root_cause) for s in segments], k=k)


def ac_at_1(data: Dataset, detector) -> float:
    """AC@1 of ``detector``'s rankings on the labelled events."""
    return ac_at(data, detector, 1)


def assert_detects_beyond_random(test, scores, threshold: float) -> None:
    """ROC-AUC >= 0.9 where a random scorer's is not, event recall >= 0.75, and no always-alarm."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(test.y, scores)
    random_auc = roc_auc_score(test.y, np.random.default_rng(0).random(len(scores)))
    assert auc >= 0.9 > random_auc
    flags = scores > threshold
    assert event_recall(test, flags) >= 0.75
    assert flags[test.y == 0].mean() <= 0.1  # the learned threshold is not an always-alarm
