"""benchmarks/memory_growth.py: MB/h per service from the fault-free part of a run (synthetic data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph
from tests.repofiles import import_file

MB = 2**20


@pytest.fixture(scope="module")
def growth():
    return import_file("benchmarks/memory_growth.py", "memory_growth_benchmark")


def run_dataset(tmp_path, queries):
    """70 minutes at 10 s: cart's working set grows 6 MB/h, its cache 60 MB/h; a fault at 40-45 min
    doubles cart's memory (it must be left out); train_end at 60 min."""
    index = pd.date_range("2026-12-05T18:00:00Z", periods=420, freq="10s", name="timestamp")
    hours = np.arange(420) * 10 / 3600
    ws = 50 * MB + 6 * MB * hours
    fault = (hours >= 40 / 60) & (hours < 45 / 60)
    ws = np.where(fault, 2 * ws, ws)
    metrics = pd.DataFrame({
        "cart:memory_bytes": ws,
        "cart:rss_bytes": 40 * MB + 6 * MB * hours,
        "cart:cache_bytes": 10 * MB + 60 * MB * hours,
        "cart:cpu_cores": 0.1,
        "redis:memory_bytes": np.full(420, 5 * MB),
    }, index=index)
    labels = pd.DataFrame({"anomaly": fault.astype(int), "fault_type": np.where(fault, "memory_alloc", ""),
                           "root_cause": np.where(fault, "cart", ""), "fault_id": np.where(fault, "f1", "")}, index=index)
    meta = {"name": "growth", "scrape_interval_s": 10.0, "train_end": "2026-12-05T19:00:00.000Z",
            "collection": {"queries": queries}}
    ds = Dataset(metrics=metrics, labels=labels, graph=ServiceGraph([], []), meta=meta)
    return ds.save(tmp_path / "run" / "dataset")


def test_slopes_start_and_end_from_the_fault_free_part(tmp_path, growth):
    run_dataset(tmp_path, ["container_memory_working_set_bytes"])
    ds = growth.dataset_of(tmp_path / "run")  # a run folder: its dataset/ is read
    rows = {r["service"]: r for r in growth.growth_table(ds, skip_s=300)}
    assert set(rows) == {"cart", "redis"}
    cart = rows["cart"]
    assert cart["memory_bytes"]["mb_per_h"] == pytest.approx(6.0, abs=1e-6)  # the fault's steps left out
    assert cart["cache_bytes"]["mb_per_h"] == pytest.approx(60.0, abs=1e-6)
    assert "memory_usage_bytes" not in cart and "cpu_cores" not in cart
    # from 5 min (skipped start-up) to 60 min (train_end): means of the first and last minute
    assert cart["rss_bytes"]["start_mb"] == pytest.approx(40 + 6 * (5.5 / 60), abs=0.01)
    assert cart["rss_bytes"]["end_mb"] == pytest.approx(40 + 6 * (59.33 / 60), abs=0.02)
    assert rows["redis"]["memory_bytes"]["mb_per_h"] == pytest.approx(0.0, abs=1e-9)
    assert "working set" in growth.memory_meaning(ds)
    # the same window of a longer run: 5 to 25 minutes
    part = growth.fault_free(ds, skip_s=300, span_s=1200)
    assert (part.index[-1] - part.index[0]).total_seconds() == 1200


def test_the_script_prints_a_table_and_says_what_memory_bytes_meant(tmp_path, growth, capsys):
    run_dataset(tmp_path, ["container_memory_usage_bytes"])
    assert growth.main([str(tmp_path / "run" / "dataset"), "--json", str(tmp_path / "rows.json")]) == 0
    out = capsys.readouterr().out
    assert "raw cgroup usage" in out and "cart" in out and "6.00" in out
    assert (tmp_path / "rows.json").exists()
    with pytest.raises(SystemExit, match="fewer than 3"):
        growth.main([str(tmp_path / "run"), "--skip-s", "99999"])
