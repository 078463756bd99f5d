"""Data Faultlab did not produce itself: names with '::' and '/', a constant availability that
drops, series missing or new at scoring time, a one-step training part (issue 16)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph, load_dataset
from faultlab.detectors import make_detector
from faultlab.errors import BadInput

# Two components whose names share everything up to the first ':' (the old convention merged them).
LAMBDA = "PetSite_AWS::Lambda"
FUNCTION = "PetSite_AWS::Function"
URL = "https://pets.example/api/v1"
COMPONENTS = (LAMBDA, FUNCTION, URL)
N_TRAIN, N_TEST = 60, 40
FAULT = slice(N_TRAIN + 10, N_TRAIN + 20)


def _table(names: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": n, "service": s, "metric": m, "group": "application", "kind": "gauge", "unit": ""} for n, (s, m) in names.items()]


def _foreign() -> Dataset:
    """Per-component latency (noisy) and availability (exactly 100 % in training); the Lambda's
    availability drops during the fault. Column names are opaque ids, not '<service>:<metric>'."""
    rng = np.random.default_rng(0)
    n = N_TRAIN + N_TEST
    index = pd.date_range("2026-03-01", periods=n, freq="300s", tz="UTC", name="timestamp")
    names: dict[str, tuple[str, str]] = {}
    columns = {}
    for comp in COMPONENTS:
        lat, avail = f"{comp}/Latency:p50", f"{comp}/Availability"
        names[lat] = (comp, "latency_ms")
        names[avail] = (comp, "availability_pct")
        columns[lat] = 50 + rng.normal(0, 2, n)
        columns[avail] = np.full(n, 100.0)
    columns[f"{LAMBDA}/Availability"][FAULT] = 92.0
    anomaly = np.zeros(n, dtype=np.int8)
    anomaly[FAULT] = 1
    labels = pd.DataFrame(
        {
            "anomaly": anomaly,
            "fault_type": np.where(anomaly, "availability", ""),
            "root_cause": np.where(anomaly, LAMBDA, ""),
            "fault_id": np.where(anomaly, "i1", ""),
        },
        index=index,
    )
    graph = ServiceGraph([{"name": c, "kind": "service"} for c in COMPONENTS], [{"source": URL, "target": LAMBDA}])
    meta = {"name": "foreign", "scrape_interval_s": 300.0, "columns": _table(names), "train_end": index[N_TRAIN].isoformat()}
    return Dataset(metrics=pd.DataFrame(columns, index=index), labels=labels, graph=graph, meta=meta)


def test_names_with_colons_and_slashes_survive_save_load_and_per_service(tmp_path):
    data = _foreign()
    assert data.services == list(COMPONENTS)  # from the table: the Lambda and the Function stay apart
    loaded = load_dataset(data.save(tmp_path / "d"))
    assert loaded.services == list(COMPONENTS)
    assert list(loaded.metrics.columns) == list(data.metrics.columns)
    assert loaded.column_for(LAMBDA, "availability_pct") == f"{LAMBDA}/Availability"
    assert loaded.service_of()[f"{URL}/Latency:p50"] == URL
    tensor, services, metrics = loaded.per_service()
    assert services == list(COMPONENTS) and metrics == ["availability_pct", "latency_ms"]
    np.testing.assert_array_equal(tensor[FAULT, 0, 0], 92.0)
    np.testing.assert_array_equal(tensor[FAULT, 1, 0], 100.0)
    assert loaded.labels["recovering"].sum() == 0  # labels without the column load with zeros


def test_zscore_detects_the_drop_from_a_constant_and_ranks_the_right_component():
    data = _foreign()
    det = make_detector("zscore").fit(data.train())
    test = data.test()
    pred = det.predict(test)
    fault = test.y == 1
    assert pred[fault].all()
    assert pred[~fault].mean() < 0.05  # noise on the latencies and exact 100 % elsewhere: quiet
    (ranking,) = det.localize(test, [(10, 20)])
    assert ranking.top_services(1) == [LAMBDA]
    assert ranking.metrics[0][0] == f"{LAMBDA}/Availability"


def test_float_jitter_on_a_constant_does_not_alarm():
    data = _foreign()
    det = make_detector("zscore").fit(data.train())
    metrics = data.test().metrics.copy()
    metrics[f"{LAMBDA}/Availability"] = 100.0 + np.random.default_rng(1).normal(0, 1e-9, len(metrics))
    assert det.predict(replace(data.test(), metrics=metrics)).sum() == 0


@pytest.mark.parametrize("name", ["zscore", "static_threshold", "iforest"])
def test_missing_and_extra_series_under_both_policies(name):
    data = _foreign()
    test = data.test()
    gone = f"{FUNCTION}/Latency:p50"
    metrics = test.metrics.drop(columns=[gone]).assign(**{"NewPod/x": 1.0})
    table = [r for r in test.meta["columns"] if r["name"] != gone] + _table({"NewPod/x": ("NewPod", "x")})
    odd = replace(test, metrics=metrics, meta={**test.meta, "columns": table})
    det = make_detector(name).fit(data.train())
    scores = det.score(odd)
    assert len(scores) == len(test.metrics) and np.isfinite(scores).all()
    assert det.alignment_ == {"policy": "fill", "missing": 1, "new": 1, "missing_columns": [gone], "new_columns": ["NewPod/x"]}
    strict = make_detector(name, {"series_policy": "strict"}).fit(data.train())
    with pytest.raises(BadInput, match="lacks 1 column"):
        strict.score(odd)


@pytest.mark.parametrize("name", ["zscore", "static_threshold", "iforest"])
def test_a_one_step_training_part_is_refused_naming_dataset_and_length(name):
    data = _foreign()
    one = replace(data, meta={**data.meta, "train_end": data.timestamps[1].isoformat()})
    with pytest.raises(BadInput, match=r"'foreign' has 1 fault-free step\(s\); it needs at least \d+"):
        make_detector(name).fit(one.train())


def test_names_and_table_that_disagree_are_bad_input(tmp_path):
    folder = _foreign().save(tmp_path / "d")
    meta = json.loads((folder / "meta.json").read_text())
    meta["columns"][0]["name"] = "renamed"
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(BadInput, match="meta.json.*disagree"):
        load_dataset(folder)
    meta["columns"] = meta["columns"][1:] + meta["columns"][1:2]
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(BadInput, match="listed twice"):
        load_dataset(folder)


def test_a_column_without_a_table_row_is_bad_input_at_construction():
    data = _foreign()
    with pytest.raises(BadInput, match="no row in meta columns.*extra"):
        replace(data, metrics=data.metrics.assign(extra=1.0))


def test_legacy_dataset_without_a_table_derives_it_once_from_the_first_colon(tmp_path):
    data = _foreign()
    legacy = pd.DataFrame({"cart:cpu_cores": [1.0, 2.0], "redis:mem:used": [3.0, 4.0], "plain": [0.0, 1.0]}, index=data.timestamps[:2])
    ds = Dataset(metrics=legacy, labels=data.labels.iloc[:2], graph=ServiceGraph([], []), meta={"name": "old"})
    assert ds.services == ["cart", "redis", "plain"]
    assert list(ds.columns["metric"]) == ["cpu_cores", "mem:used", "plain"]
    again = load_dataset(ds.save(tmp_path / "old"))
    assert again.meta["columns"] == ds.meta["columns"]
