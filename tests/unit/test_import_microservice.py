"""Issue 24, ``import microservice``: groups and units from metric names (or a columns file), only
edges between services with metrics, faults that end exclusively, a reported training part."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faultlab.errors import BadInput
from faultlab.harness.io import import_dataset
from faultlab.harness.io.metric_table import group_and_unit

METRICS = ("container_cpu_usage_seconds_total", "cpu_pct", "memory_working_set_bytes", "rss", "rx_bytes_per_s",
           "bytes_sent", "fs_reads_bytes_total", "disk_write_bytes", "latency_ms", "request_duration_seconds",
           "error_rate", "qps", "queue_depth")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _case(root: Path, faults: str = "time,service,type,duration_s\n2025-01-01T00:01:00Z,cart,cpu,20\n") -> Path:
    t = pd.date_range("2025-01-01", periods=40, freq="5s", tz="UTC")
    rng = np.random.default_rng(0)
    for service in ("frontend", "cart", "redis"):
        frame = pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                              **{m: rng.random(len(t)).round(4) for m in METRICS}})
        _write(root / "metrics" / f"{service}.csv", frame.to_csv(index=False))
    _write(root / "faults.csv", faults)
    _write(root / "edges.csv", "source,target\nfrontend,cart\ncart,redis\nfrontend,payment-gateway\nuser,frontend\n")
    return root


@pytest.mark.parametrize("metric, group, unit", [
    ("container_cpu_usage_seconds_total", "cpu", "cores"), ("cpu_pct", "cpu", "%"), ("cpu", "cpu", "cores"),
    ("memory_working_set_bytes", "memory", "bytes"), ("rss", "memory", "bytes"), ("mem", "memory", "bytes"),
    ("rx_bytes_per_s", "network", "bytes/s"), ("bytes_sent", "network", "bytes"),
    ("net_receive_packets", "network", "packets"),
    ("fs_reads_bytes_total", "disk", "bytes"), ("disk_write_bytes", "disk", "bytes"), ("io", "disk", ""),
    ("latency_ms", "application", "ms"), ("request_duration_seconds", "application", "s"), ("latency-90", "application", "s"),
    ("error_rate", "application", "errors/s"), ("qps", "application", "requests/s"),
    ("requests_total", "application", "requests"),
    ("queue_depth", "application", ""),
])
def test_the_documented_table_maps_names_to_groups_and_units(metric, group, unit):
    assert group_and_unit(metric) == (group, unit)


def test_columns_get_groups_and_units_not_all_application(tmp_path):
    data = import_dataset("microservice", _case(tmp_path / "case"))
    cols = data.columns.set_index("name")
    assert cols.loc["cart:memory_working_set_bytes", ["group", "unit"]].tolist() == ["memory", "bytes"]
    assert cols.loc["redis:latency_ms", ["group", "unit"]].tolist() == ["application", "ms"]
    assert set(data.columns["group"]) == {"cpu", "memory", "network", "disk", "application"}


@pytest.mark.parametrize("suffix, text", [
    (".csv", "name,group,unit\nqueue_depth,application,messages\ncart:latency_ms,network,s\n"),
    (".yaml", "- {name: queue_depth, group: application, unit: messages}\n"
              "- {name: 'cart:latency_ms', group: network, unit: s}\n"),
])
def test_a_columns_file_overrides_the_table(tmp_path, suffix, text):
    file = _write(tmp_path / f"columns{suffix}", text)
    data = import_dataset("microservice", _case(tmp_path / "case"), {"columns": str(file)})
    cols = data.columns.set_index("name")
    # a metric name: every service's column of it
    assert cols.loc["frontend:queue_depth", "unit"] == cols.loc["redis:queue_depth", "unit"] == "messages"
    assert cols.loc["cart:latency_ms", ["group", "unit"]].tolist() == ["network", "s"]  # a column name: that column
    assert cols.loc["frontend:latency_ms", ["group", "unit"]].tolist() == ["application", "ms"]


@pytest.mark.parametrize("text, message", [
    ("name,group,unit\nqueue_depth,gpu,x\n", "columns.csv: line 2: group 'gpu' is not one of cpu, memory"),
    ("name,group,unit\nqueue_dept,application,x\n", "columns.csv: line 2: 'queue_dept' matches no column and no metric"),
    ("name,group,colour\nqueue_depth,application,red\n", "columns.csv: line 2: unknown field 'colour'"),
    ("group,unit\napplication,x\n", "columns.csv: line 2: field 'name' is missing"),
])
def test_a_bad_columns_file_names_its_line(tmp_path, text, message):
    file = _write(tmp_path / "columns.csv", text)
    with pytest.raises(BadInput, match=re.escape(message)):
        import_dataset("microservice", _case(tmp_path / "case"), {"columns": str(file)})


def test_edges_to_services_without_metrics_are_dropped_and_counted(tmp_path):
    data = import_dataset("microservice", _case(tmp_path / "case"))
    assert data.graph.edges == [{"source": "frontend", "target": "cart"}, {"source": "cart", "target": "redis"}]
    assert data.graph.names == ["cart", "frontend", "redis"]
    summary = data.meta["import"]["summary"]
    assert summary["edges_dropped"] == 2
    assert any("2 edge(s) dropped: no metrics for payment-gateway, user" in w for w in summary["warnings"])


def test_a_fault_ends_before_its_start_plus_duration(tmp_path):
    # cpu at 00:01:00 for 20 s on a 5 s grid: steps 00:01:00 .. 00:01:15, not 00:01:20
    data = import_dataset("microservice", _case(tmp_path / "case"))
    labelled = data.timestamps[data.y == 1]
    assert list(labelled) == list(pd.date_range("2025-01-01T00:01:00Z", periods=4, freq="5s"))


def test_the_training_part_is_the_rows_before_the_first_fault_and_reported(tmp_path):
    data = import_dataset("microservice", _case(tmp_path / "case"))
    summary = data.meta["import"]["summary"]
    assert data.meta["train_end"] == "2025-01-01T00:01:00+00:00" and len(data.train().metrics) == 12
    assert (summary["train_rows"], summary["test_rows"], summary["train_source"]) == (12, 28, "before the first anomaly")
    assert any(w.startswith("no fault-free part declared: training on the 12 row(s)") for w in summary["warnings"])
    chosen = import_dataset("microservice", _case(tmp_path / "case"), {"train_end": "2025-01-01T00:00:30Z"})
    assert len(chosen.train().metrics) == 6 and chosen.meta["import"]["summary"]["train_source"] == "option"


def test_files_are_sorted_on_request_and_gaps_kept_on_request(tmp_path):
    root = _case(tmp_path / "case")
    file = root / "metrics" / "redis.csv"
    lines = file.read_text().splitlines()
    file.write_text("\n".join([*lines[:10], lines[12], lines[11], *lines[13:]]) + "\n")  # 00:00:45 gone, :50 and :55 swapped
    with pytest.raises(BadInput, match=re.escape("redis.csv: line 12, column 'timestamp': timestamp '2025-01-01T00:00:50Z' "
                                                 "is out of order")):
        import_dataset("microservice", root)
    data = import_dataset("microservice", root, {"order": "sort"})
    summary = data.meta["import"]["summary"]
    assert summary["rows_reordered"] == 1 and summary["gap_steps"] == 0 and summary["gaps_filled"]
    assert data.mask["redis:cpu_pct"].sum() == 1 and len(data.metrics) == 40  # 00:00:45 filled on the shared grid
    kept = import_dataset("microservice", root, {"order": "sort", "fill_gaps": "false"})
    assert len(kept.metrics) == 40 and kept.mask["redis:cpu_pct"].sum() == 1  # the other files have 00:00:45
    (root / "metrics" / "cart.csv").write_text(file.read_text())
    (root / "metrics" / "frontend.csv").write_text(file.read_text())
    alone = import_dataset("microservice", root, {"order": "sort", "fill_gaps": "false"})
    summary = alone.meta["import"]["summary"]
    assert len(alone.metrics) == 39 and summary["gap_steps"] == 1 and not summary["gaps_filled"]
