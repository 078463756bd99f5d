"""Importers: one small fixture per format, written here, read back into a Dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import load_dataset
from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.datasets.index import resolve_dataset
from faultlab.harness.io import IMPORTERS, import_dataset


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_all_formats_are_registered():
    assert set(IMPORTERS.names()) == {"timeeval", "tsb-ad", "smd", "microservice", "rcaeval"}


GAPPY = ("timestamp,a,b,is_anomaly\n"  # 10 s spacing, the row at 00:00:30 is missing; labels on two rows.
         "2025-01-01T00:00:00Z,1,10,0\n2025-01-01T00:00:10Z,2,20,0\n2025-01-01T00:00:20Z,3,30,0\n"
         "2025-01-01T00:00:40Z,5,,1\n2025-01-01T00:00:50Z,6,60,1\n2025-01-01T00:01:00Z,7,70,0\n")


def test_timeeval_keeps_its_rows_by_default_and_counts_the_gap(tmp_path):
    data = import_dataset("timeeval", _write(tmp_path / "te.csv", GAPPY))
    assert len(data.metrics) == 6 and pd.Timestamp("2025-01-01T00:00:30Z") not in data.metrics.index
    np.testing.assert_array_equal(data.metrics["b"], [10, 20, 30, 30, 60, 70])  # only the empty cell is filled
    summary = data.meta["import"]["summary"]
    assert (summary["gap_steps"], summary["gaps_filled"], summary["values_filled"]) == (1, False, 1)
    assert data.scrape_interval_s == 10.0 and data.y.tolist() == [0, 0, 0, 1, 1, 0]


def test_timeeval_with_a_gap_is_gridded_and_masked_on_request(tmp_path):
    file = _write(tmp_path / "te.csv", GAPPY)
    data = import_dataset("timeeval", file, {"fill_gaps": "true"})
    summary = data.meta["import"]["summary"]
    assert (summary["gap_steps"], summary["gaps_filled"], summary["values_filled"]) == (1, True, 3)  # a, b at :30 and b at :40
    assert data.scrape_interval_s == 10.0
    assert len(data.metrics) == 7 and data.metrics.index[3] == pd.Timestamp("2025-01-01T00:00:30Z")
    np.testing.assert_array_equal(data.metrics["a"], [1, 2, 3, 3, 5, 6, 7])  # gap filled forward
    np.testing.assert_array_equal(data.metrics["b"], [10, 20, 30, 30, 30, 60, 70])  # empty cell too
    assert data.mask["a"].tolist() == [False, False, False, True, False, False, False]
    assert data.mask["b"].tolist()[3:5] == [True, True]
    assert data.y.tolist() == [0, 0, 0, 0, 1, 1, 0]
    assert data.labels["fault_id"].tolist()[4:6] == ["te001", "te001"]
    assert data.columns.set_index("name").loc["b", "service"] == "b"
    assert data.candidates == ["a", "b"] and data.name == "te"


def test_timeeval_unix_seconds_and_train_file(tmp_path):
    _write(tmp_path / "x.train.csv", "timestamp,v,is_anomaly\n0,1.0,0\n1,1.5,0\n2,1.0,0\n")
    test = _write(tmp_path / "x.test.csv", "timestamp,v,is_anomaly\n3,1.0,0\n4,9.0,1\n5,1.0,0\n")
    data = import_dataset("timeeval", test)
    assert data.name == "x" and len(data.metrics) == 6 and data.scrape_interval_s == 1.0
    assert data.train_end == pd.Timestamp(3, unit="s", tz="UTC")
    assert len(data.train().metrics) == 3 and len(data.test().metrics) == 3


def test_tsbad_training_length_from_the_file_name(tmp_path):
    rows = "\n".join(f"{i},{i * 2},{int(i in (7, 8))}" for i in range(10))
    file = _write(tmp_path / "001_Demo_id_1_Test_tr_5_1st_7.csv", "x,y,Label\n" + rows + "\n")
    data = import_dataset("tsb-ad", file, {"interval_s": "2"})
    assert data.scrape_interval_s == 2.0 and len(data.metrics) == 10
    assert len(data.train().metrics) == 5
    assert data.y.tolist() == [0] * 7 + [1, 1, 0]
    np.testing.assert_array_equal(data.metrics["y"], np.arange(10) * 2)


def _smd(root: Path, n_train: int = 20, n_test: int = 20) -> Path:
    rng = np.random.default_rng(0)
    for part, n in (("train", n_train), ("test", n_test)):
        (root / part).mkdir(parents=True, exist_ok=True)
        np.savetxt(root / part / "machine-1-1.txt", rng.random((n, 4)), delimiter=",", fmt="%.5f")
    labels = np.zeros(n_test, dtype=int)
    labels[5:9] = 1
    labels[14:16] = 1
    _write(root / "test_label" / "machine-1-1.txt", "\n".join(map(str, labels)) + "\n")
    _write(root / "interpretation_label" / "machine-1-1.txt", "5-8:1,3\n14-15:4\n")
    return root


def test_smd_root_causes_from_interpretation_labels(tmp_path):
    data = import_dataset("smd", _smd(tmp_path / "SMD"))
    assert data.name == "machine-1-1" and data.scrape_interval_s == 60.0
    assert len(data.train().metrics) == 20 and len(data.test().metrics) == 20
    test = data.test()
    assert test.labels["root_cause"].iloc[5] == "dim_1,dim_3" and test.labels["root_cause"].iloc[14] == "dim_4"
    assert test.labels["fault_id"].iloc[8] == "smd001" and test.labels["fault_id"].iloc[15] == "smd002"
    assert test.labels["root_cause"].iloc[9] == ""
    assert data.candidates == ["dim_1", "dim_2", "dim_3", "dim_4"]
    # the test file alone names its machine and root too
    again = import_dataset("smd", tmp_path / "SMD" / "test" / "machine-1-1.txt")
    np.testing.assert_array_equal(again.values(), data.values())


def _microservice(root: Path) -> Path:
    t = pd.date_range("2025-01-01", periods=12, freq="5s", tz="UTC")
    for pod, scale in (("front-end-7d4f9c-abcde", 1.0), ("front-end-7d4f9c-fghij", 3.0), ("db:primary-5b6c7d-klmno", 10.0)):
        frame = pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "cpu": scale, "latency_ms": scale * 2})
        frame = frame.drop(index=4) if pod.startswith("db") else frame  # a missed scrape
        _write(root / "metrics" / f"{pod}.csv", frame.to_csv(index=False))
    _write(root / "faults.csv", "time,service,type,duration_s\n"
           "2025-01-01T00:00:40Z,db:primary-5b6c7d-klmno,cpu,10\n2025-01-01T00:00:20Z,front-end,latency,\n")
    _write(root / "edges.csv", "source,target\nfront-end-7d4f9c-abcde,db:primary-5b6c7d-klmno\nfront-end,db:primary\n")
    return root


def test_microservice_pods_to_services_labels_and_graph(tmp_path):
    rule = r"^(?P<service>.+?)-[a-z0-9]{6}-[a-z0-9]{5}$"
    data = import_dataset("microservice", _microservice(tmp_path / "case"), {"pod_rule": rule, "pod_aggregate": "sum"})
    cols = data.columns.set_index("name")
    assert list(data.metrics.columns) == ["db:primary:cpu", "db:primary:latency_ms", "front-end:cpu", "front-end:latency_ms"]
    assert cols.loc["db:primary:cpu", "service"] == "db:primary" and cols.loc["db:primary:cpu", "metric"] == "cpu"
    np.testing.assert_allclose(data.metrics["front-end:cpu"], 4.0)  # two pods summed
    assert data.mask["db:primary:cpu"].tolist()[4] is True
    assert data.meta["candidates"] == ["db:primary", "front-end"]
    assert data.services == data.candidates == ["db:primary", "front-end"]  # from the column table, not the names
    assert data.graph.edges == [{"source": "front-end", "target": "db:primary"}]
    # latency from step 4 (00:00:20) until the cpu fault starts at step 8 (exclusive); cpu 10 s from 00:00:40: [40, 50)
    assert data.labels["fault_type"].tolist() == [""] * 4 + ["latency"] * 4 + ["cpu"] * 2 + [""] * 2
    assert data.labels["root_cause"].iloc[9] == "db:primary" and data.labels["root_cause"].iloc[5] == "front-end"
    assert data.labels["fault_id"].iloc[4] == "f001-latency"
    assert [f["targets"] for f in data.meta["faults"]] == [["front-end"], ["db:primary"]]


def test_microservice_without_rule_keeps_pods(tmp_path):
    root = _microservice(tmp_path / "case")
    (root / "faults.csv").unlink()
    data = import_dataset("microservice", root)
    assert len(data.candidates) == 3 and data.y.sum() == 0


def test_cli_import_then_bench_reads_the_folder(tmp_path, capsys):
    file = _write(tmp_path / "te.csv", "timestamp,a,b,is_anomaly\n" + "\n".join(
        f"{i * 5},{np.sin(i / 3):.4f},{(50 if 40 <= i < 46 else 1)},{int(40 <= i < 46)}" for i in range(80)) + "\n")
    assert main(["import", "timeeval", str(file), "--out", str(tmp_path / "ds"), "--name", "demo"]) == 0
    loaded = load_dataset(tmp_path / "ds")
    assert loaded.name == "demo" and json.loads((tmp_path / "ds" / "meta.json").read_text())["import"]["format"] == "timeeval"
    assert main(["bench", "--dataset", str(tmp_path / "ds"), "--detectors", "zscore", "--classifiers", "none",
                 "--out", str(tmp_path / "bench")]) == 0
    assert (tmp_path / "bench" / "scores.json").exists()


def test_dataset_spec_imports_on_the_fly(tmp_path):
    file = _write(tmp_path / "te.csv", "timestamp,a,is_anomaly\n0,1,0\n1,2,0\n2,3,1\n")
    data = resolve_dataset(f"timeeval:{file}")
    assert data.name == "te" and len(data.metrics) == 3


def test_unknown_format_and_option_are_bad_input(tmp_path, capsys):
    file = _write(tmp_path / "te.csv", "timestamp,a,is_anomaly\n0,1,0\n1,2,0\n")
    with pytest.raises(BadInput, match="unknown import format 'nab'"):
        import_dataset("nab", file)
    with pytest.raises(BadInput, match="unknown option 'interval'"):
        import_dataset("tsb-ad", file, {"interval": "1"})
    assert main(["import", "timeeval", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "nope.csv" in capsys.readouterr().err
