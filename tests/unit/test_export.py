"""Export to TimeEval / TSB-AD and import back: values, labels and the fault-free split survive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.io import export_dataset, import_dataset


@pytest.fixture(scope="module")
def data():
    return generate(seed=2, train_steps=200, faults_per_type=1, fault_steps=(10, 20), gap_steps=(10, 20))


def _same(a, b):
    np.testing.assert_array_equal(a.metrics.to_numpy(), b.metrics.to_numpy())
    assert list(a.metrics.columns) == list(b.metrics.columns)
    np.testing.assert_array_equal(a.y, b.y)
    assert len(a.train().metrics) == len(b.train().metrics) and len(a.test().metrics) == len(b.test().metrics)


def test_timeeval_round_trip(data, tmp_path):
    files = export_dataset(data, "timeeval", tmp_path)
    names = [f"{data.name}.train.csv", f"{data.name}.test.csv", "datasets.csv", f"{data.name}.faultlab.json"]
    assert [f.name for f in files] == names
    back = import_dataset("timeeval", files[1])
    _same(data, back)
    np.testing.assert_array_equal(back.timestamps.as_unit("ns").asi8, data.timestamps.as_unit("ns").asi8)
    assert back.scrape_interval_s == data.scrape_interval_s
    index = pd.read_csv(files[2])
    assert index.loc[0, "split_at"] == len(data.train().metrics) and index.loc[0, "dimensions"] == data.metrics.shape[1]


def test_tsbad_round_trip(data, tmp_path):
    file, side = export_dataset(data, "tsb-ad", tmp_path)
    assert side.name == f"{file.stem}.faultlab.json"
    first = int(np.flatnonzero(data.y)[0])
    assert file.name == f"{data.name}_tr_{len(data.train().metrics)}_1st_{first}.csv"
    back = import_dataset("tsb-ad", file, {"interval_s": data.scrape_interval_s})
    _same(data, back)


def test_cli_export_of_a_named_dataset(tmp_path, capsys):
    assert main(["export", "synthetic", "--format", "tsb-ad", "--out", str(tmp_path)]) == 0
    (written,) = tmp_path.glob("synthetic_tr_*_1st_*.csv")
    assert str(written) in capsys.readouterr().out


def test_export_onto_a_file_is_bad_input(data, tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(BadInput, match="exists and is not a folder"):
        export_dataset(data, "timeeval", tmp_path / "f")
    with pytest.raises(BadInput, match="unknown export format 'csv'"):
        export_dataset(data, "csv", tmp_path / "g")
