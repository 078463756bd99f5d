"""Issue 24: export then import keeps the structure (TimeEval, TSB-AD) through the sidecar.

On the shipped ``bench-mixed``: 9 root-cause candidates (not one per column), the graph, the
column table (services, metrics, groups, units), the timestamps (TSB-AD no longer starts at
1970-01-01) and the fault labels come back; the CSV files stay plain for other tools."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faultlab.errors import BadInput
from faultlab.harness.datasets.index import resolve_dataset
from faultlab.harness.io import export_dataset, import_dataset


@pytest.fixture(scope="module")
def bench():
    return resolve_dataset("bench-mixed")


@pytest.fixture(scope="module")
def exported(bench, tmp_path_factory):
    """Each format exported once, for the tests that only read the files."""
    return {fmt: export_dataset(bench, fmt, tmp_path_factory.mktemp(fmt)) for fmt in ("timeeval", "tsb-ad")}


def _target(fmt: str, files):
    return files[1] if fmt == "timeeval" else files[0]


def _same_structure(back, data):
    assert back.name == data.name
    assert back.candidates == data.candidates and len(back.candidates) == 9
    assert back.graph == data.graph and back.graph.edges
    assert back.columns.equals(data.columns)
    assert back.services == data.services
    np.testing.assert_array_equal(back.timestamps.as_unit("ns").asi8, data.timestamps.as_unit("ns").asi8)
    np.testing.assert_array_equal(back.metrics.to_numpy(), data.metrics.to_numpy())
    assert back.labels.reset_index(drop=True).equals(data.labels.reset_index(drop=True))
    assert back.meta["faults"] == data.meta["faults"]
    assert len(back.train().metrics) == len(data.train().metrics) and len(back.test().metrics) == len(data.test().metrics)


@pytest.mark.parametrize("fmt", ["timeeval", "tsb-ad"])
def test_bench_mixed_round_trip_keeps_its_structure(bench, exported, fmt):
    files = exported[fmt]
    back = import_dataset(fmt, _target(fmt, files))
    _same_structure(back, bench)
    assert back.timestamps[0] == pd.Timestamp("2026-12-06T07:56:31Z")
    assert back.meta["import"]["sidecar"] == str(files[-1])


@pytest.mark.parametrize("fmt", ["timeeval", "tsb-ad"])
def test_the_foreign_files_stay_plain_and_import_without_the_sidecar(exported, fmt):
    files = exported[fmt]
    csv = pd.read_csv(_target(fmt, files))
    assert list(csv.columns)[-1] in ("is_anomaly", "Label") and csv.shape[1] in (275 + 1, 275 + 2)
    plain = import_dataset(fmt, _target(fmt, files), {"sidecar": "false"})
    assert len(plain.candidates) == 275 and not plain.graph.edges  # what other tools' files give: one entity per series


def test_an_edited_file_refuses_its_sidecar(bench, tmp_path):
    files = export_dataset(bench, "timeeval", tmp_path)
    for file in files[:2]:  # the train and test files, one series gone
        pd.read_csv(file).drop(columns=["cart:cpu_cores"]).to_csv(file, index=False)
    with pytest.raises(BadInput, match="its column table does not describe the series of .*--option sidecar=false"):
        import_dataset("timeeval", files[1])
    files[0].unlink()  # now 1801 rows fewer
    with pytest.raises(BadInput, match=r"describes 5829 rows, .*bench-mixed.test.csv has 4028; ignore it with"):
        import_dataset("timeeval", files[1])
    assert len(import_dataset("timeeval", files[1], {"sidecar": "false"}).metrics) == 4028


def test_a_sidecar_of_another_format_is_refused(bench, tmp_path):
    files = export_dataset(bench, "tsb-ad", tmp_path)
    doc = json.loads(files[1].read_text())
    files[1].write_text(json.dumps({**doc, "format": "timeeval"}))
    with pytest.raises(BadInput, match=r"written for format 'timeeval', not 'tsb-ad'; ignore it with --option sidecar=false"):
        import_dataset("tsb-ad", files[0])


def test_tsbad_without_a_sidecar_still_starts_at_the_epoch(bench, tmp_path):
    (file, side) = export_dataset(bench, "tsb-ad", tmp_path)
    side.unlink()
    back = import_dataset("tsb-ad", file)
    assert back.timestamps[0] == pd.Timestamp(0, unit="s", tz="UTC")  # documented: the file has no time
