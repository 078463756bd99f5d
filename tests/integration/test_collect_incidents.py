"""``faultlab collect`` against a real Prometheus (backfilled, no Docker) with an incident CSV.

The series are ``tests.prom_fixtures.known_run``: gateway's CPU rises from 0.05 to 0.5 cores at
step 80 (2025-01-01T00:06:40Z); the incident CSV says so, and the labels must follow it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from faultlab.dataset import load_dataset
from faultlab.harness.cli import main
from tests.prom_fixtures import KNOWN_POINTS, KnownPrometheus, known_prometheus  # noqa: F401 (fixture)

pytestmark = pytest.mark.prometheus

QUERIES = """
queries:
  - metric: cpu_cores
    query: sum by (service) (rate(container_cpu_usage_seconds_total[20s]))
    kind: gauge
    group: cpu
    unit: cores
  - metric: memory_bytes
    query: label_replace(container_memory_working_set_bytes{container="gw-1"}, "service", "edge/gw:1", "container", ".*")
    kind: gauge
    group: memory
    unit: bytes
"""


@pytest.fixture()
def collected(known_prometheus, tmp_path):  # noqa: F811
    p: KnownPrometheus = known_prometheus
    (tmp_path / "incidents.csv").write_text(
        "start,end,service,type\n2025-01-01T00:06:40Z,2025-01-01T00:08:20Z,gateway,cpu\n"
        "2025-01-01T00:02:00Z,2025-01-01T00:02:10Z,cart;postgres,latency\n")
    (tmp_path / "queries.yaml").write_text(QUERIES)
    code = main(["collect", "--prometheus", p.url, "--start", str(p.start_s), "--end", "2025-01-01T00:10:00Z",
                 "--step-s", str(p.step_s), "--labels", str(tmp_path / "incidents.csv"),
                 "--queries", str(tmp_path / "queries.yaml"), "--train-end", "2025-01-01T00:01:50Z",
                 "--name", "mine", "--out", str(tmp_path / "ds")])
    assert code == 0
    return load_dataset(tmp_path / "ds"), tmp_path


def test_incident_csv_labels_follow_the_incidents(collected):
    data, _ = collected
    assert len(data.metrics) == KNOWN_POINTS and data.name == "mine"
    y = data.y
    assert np.flatnonzero(y).tolist() == [24, 25, 26] + list(range(80, 101))  # closed intervals on the grid
    assert set(data.labels["fault_type"].iloc[80:101]) == {"cpu"}
    assert set(data.labels["root_cause"].iloc[80:101]) == {"gateway"}
    assert data.labels["root_cause"].iloc[24] == "cart,postgres"
    assert data.meta["train_end"] == "2025-01-01T00:01:50.000Z"
    assert [f["mechanism"] for f in data.meta["faults"]] == ["incident", "incident"]


def test_user_queries_become_columns_with_their_service(collected):
    data, _ = collected
    cols = data.columns.set_index("name")
    assert cols.loc["edge/gw:1:memory_bytes", "service"] == "edge/gw:1"
    assert cols.loc["gateway:cpu_cores", "unit"] == "cores"
    gw = data.metrics["gateway:cpu_cores"].to_numpy()
    np.testing.assert_allclose(gw[10:75], 0.05, rtol=1e-9)
    np.testing.assert_allclose(gw[90:], 0.5, rtol=1e-9)
    assert json.loads(data.path.joinpath("meta.json").read_text())["collection"]["queries"][0].startswith("sum by (service)")


def test_the_collected_folder_benches(collected, capsys):
    data, tmp_path = collected
    code = main(["bench", "--dataset", str(data.path), "--detectors", "zscore", "--classifiers", "none",
                 "--out", str(tmp_path / "bench")])
    assert code == 0 and (tmp_path / "bench" / "scores.json").exists()


def test_a_journal_labels_too(known_prometheus, tmp_path):  # noqa: F811
    p: KnownPrometheus = known_prometheus
    journal = tmp_path / "ground_truth.jsonl"
    journal.write_text(json.dumps({"event": "reverted", "fault_id": "f1", "type": "cpu", "targets": ["gateway"],
                                   "applied_at": "2025-01-01T00:06:40.000Z", "reverted_at": "2025-01-01T00:07:00.000Z",
                                   "outcome": "reverted"}) + "\n")
    assert main(["collect", "--prometheus", p.url, "--start", str(p.start_s), "--end", str(p.end_s), "--groups", "cpu",
                 "--labels", str(journal), "--out", str(tmp_path / "ds")]) == 0
    data = load_dataset(tmp_path / "ds")
    assert np.flatnonzero(data.y).tolist() == [80, 81, 82, 83, 84]
    assert "cart:cpu_cores" in data.metrics.columns  # the testbed catalogue by default
