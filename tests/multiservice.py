"""Small synthetic multi-service datasets with anomalies at known places, for the deep detectors' tests.

Four services x (cpu, memory, network, application) metrics driven by one shared load (a
slow cycle plus noise), so the metrics are correlated as on the testbed; faults are shifts
of one service's metrics of one group, at step ranges the test knows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset, ServiceGraph
from tests.fitting import event_recall

SERVICES = ("gateway", "cart", "catalog", "payment")
METRICS = (
    ("cpu_cores", "cpu", 0.2),
    ("memory_bytes", "memory", 1.0),
    ("rx_bytes_per_s", "network", 0.5),
    ("tx_bytes_per_s", "network", 0.5),
    ("request_rate", "application", 1.0),
    ("latency_p99_s", "application", 0.1),
)
#: (start, end, fault type, service, group, size in units of the metric's typical level)
FAULTS = (
    (700, 730, "cpu", "cart", "cpu", 3.0),
    (800, 830, "network_overload", "catalog", "network", 2.0),
    (900, 930, "cpu", "payment", "cpu", 3.0),
    (1000, 1030, "memory_leak", "gateway", "memory", 2.0),
    (1100, 1130, "network_overload", "cart", "network", 2.0),
    (1200, 1230, "memory_leak", "payment", "memory", 2.0),
)


def make(seed: int = 0, train_steps: int = 600, steps: int = 1300, faults=FAULTS, drift_per_step: float = 0.0) -> Dataset:
    """The dataset; ``drift_per_step`` adds a slow linear drift to every series after training."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    load = 1.0 + 0.5 * np.sin(2 * np.pi * t / 200) + 0.05 * rng.normal(size=steps)
    names, groups, cols = [], [], []
    for si, svc in enumerate(SERVICES):
        for metric, group, level in METRICS:
            share = 0.5 + 0.25 * si
            series = level * share * (load + 0.03 * rng.normal(size=steps))
            names.append(f"{svc}:{metric}")
            groups.append({"name": names[-1], "service": svc, "metric": metric, "group": group, "kind": "gauge", "unit": ""})
            cols.append(series)
    values = np.stack(cols, axis=1)
    if drift_per_step:
        after = np.clip(t - train_steps, 0, None).astype(float)
        values = values * (1.0 + drift_per_step * after)[:, None]
    anomaly = np.zeros(steps, dtype=np.int8)
    fault_type = np.full(steps, "", dtype=object)
    root = np.full(steps, "", dtype=object)
    fault_id = np.full(steps, "", dtype=object)
    for k, (start, end, ftype, svc, group, size) in enumerate(faults):
        for j, col in enumerate(groups):
            if col["service"] == svc and col["group"] == group:
                values[start:end, j] += size * np.abs(values[:train_steps, j]).mean()
        anomaly[start:end] = 1
        fault_type[start:end], root[start:end], fault_id[start:end] = ftype, svc, f"f{k:03d}"
    index = pd.date_range("2026-01-01", periods=steps, freq="5s", tz="UTC", name="timestamp")
    labels = pd.DataFrame(
        {"anomaly": anomaly, "fault_type": fault_type.astype(str), "root_cause": root.astype(str), "fault_id": fault_id.astype(str)},
        index=index,
    )
    meta = {"name": "multiservice", "scrape_interval_s": 5.0, "train_end": index[train_steps].isoformat(), "columns": groups}
    graph = ServiceGraph([{"name": s, "kind": "service"} for s in SERVICES], [{"source": "gateway", "target": s} for s in SERVICES[1:]])
    return Dataset(metrics=pd.DataFrame(values, index=index, columns=names), labels=labels, graph=graph, meta=meta)


def random_floor(test: Dataset, train: Dataset, seed: int = 0) -> tuple[float, float]:
    """ROC-AUC and event recall of the ``random`` reference scorer with its own 99th-percentile threshold."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    threshold = np.quantile(rng.random(len(train.metrics)), 0.99)
    scores = rng.random(len(test.metrics))
    return float(roc_auc_score(test.y, scores)), event_recall(test, scores > threshold)


def assert_beats_random_floor(detector, data, min_auc: float, min_recall: float = 0.8) -> None:
    """ROC-AUC and event recall at the detector's own threshold clear bars that a random scorer fails."""
    from sklearn.metrics import roc_auc_score

    test = data.test()
    auc = roc_auc_score(test.y, detector.score(test))
    recall = event_recall(test, detector.predict(test))
    random_auc, random_recall = random_floor(test, data.train())
    assert auc >= min_auc > random_auc
    assert recall >= min_recall > random_recall
