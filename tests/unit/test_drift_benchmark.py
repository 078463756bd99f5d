"""benchmarks/drift.py: the share of fault-free test steps outside each series' training range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph
from tests.repofiles import import_file


@pytest.fixture(scope="module")
def drift():
    return import_file("benchmarks/drift.py", "drift_benchmark")


def dataset() -> Dataset:
    """100 steps, training the first 50. cart's memory climbs out of its range in the test part,
    its cpu stays inside, its error rate (constant 0 in training) moves once; a fault at 60-69
    puts cpu far outside, which must not count; steps 70-74 are recovering and do not count either."""
    index = pd.date_range("2026-12-05T18:00:00Z", periods=100, freq="1s", name="timestamp")
    t = np.arange(100)
    memory = np.where(t < 50, 100 + (t % 10), 200.0)  # range 100..109; test 200: outside
    cpu = 0.5 + 0.1 * np.sin(t)  # inside everywhere
    cpu[60:70] = 5.0  # the fault
    cpu[70:75] = 4.0  # recovering
    errors = np.zeros(100)
    errors[80] = 1.0  # one fault-free step off the training constant
    metrics = pd.DataFrame({"cart:memory_bytes": memory, "cart:cpu_cores": cpu, "cart:error_rate": errors}, index=index)
    fault = (t >= 60) & (t < 70)
    labels = pd.DataFrame({"anomaly": fault.astype(int), "fault_type": np.where(fault, "cpu", ""),
                           "root_cause": np.where(fault, "cart", ""), "fault_id": np.where(fault, "f1", ""),
                           "recovering": ((t >= 70) & (t < 75)).astype(int)}, index=index)
    columns = [{"name": "cart:memory_bytes", "service": "cart", "metric": "memory_bytes", "group": "memory"},
               {"name": "cart:cpu_cores", "service": "cart", "metric": "cpu_cores", "group": "cpu"},
               {"name": "cart:error_rate", "service": "cart", "metric": "error_rate", "group": "application"}]
    meta = {"name": "drifty", "scrape_interval_s": 1.0, "train_end": str(index[50]), "columns": columns}
    return Dataset(metrics=metrics, labels=labels, graph=ServiceGraph([], []), meta=meta)


def test_shares_count_only_fault_free_test_steps(drift):
    frame = drift.drift(dataset())
    assert frame.loc["cart:memory_bytes", "share_outside"] == 1.0
    assert frame.loc["cart:cpu_cores", "share_outside"] == 0.0  # the fault and its recovery are left out
    assert frame.loc["cart:error_rate", "share_outside"] == pytest.approx(1 / 35)  # 50 test steps - 10 - 5
    assert (frame["fault_free_steps"] == 35).all()
    assert frame.loc["cart:memory_bytes", "train_max"] == 109


def test_the_margin_widens_the_range(drift):
    data = dataset()
    assert drift.drift(data, margin=0.0).loc["cart:memory_bytes", "share_outside"] == 1.0
    assert drift.drift(data, margin=11.0).loc["cart:memory_bytes", "share_outside"] == 0.0  # 109 + 11 * 9 >= 200


def test_the_report_names_the_worst_column_per_group(drift, capsys, monkeypatch):
    monkeypatch.setattr(drift, "resolve_dataset", lambda name: dataset())
    assert drift.main(["drifty", "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "| drifty | memory | 1 | 100.0 % | 1 | cart:memory_bytes (100 %) |" in out
    assert "| drifty | cpu | 1 | 0.0 % | 0 | cart:cpu_cores (0 %) |" in out


def test_removing_the_trailing_median_keeps_only_the_level_change_until_the_median_follows(drift):
    data = dataset()
    frame = drift.drift(data, remove_drift_s=30)  # a 30-step median: memory's new level is absorbed after 15 steps
    share = frame.loc["cart:memory_bytes", "share_outside"]
    assert 0 < share < 0.5  # as recorded: 1.0
    assert drift.any_outside(data, remove_drift_s=30)["memory"] == pytest.approx(share)  # one column: any = its share


def test_any_outside_is_per_step_over_a_groups_columns(drift):
    shares = drift.any_outside(dataset())
    assert shares["memory"] == 1.0 and shares["cpu"] == 0.0
    assert shares["application"] == pytest.approx(1 / 35)
