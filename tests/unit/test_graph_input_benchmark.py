"""benchmarks/graph_input.py: configurations, any dataset name, and one fast row per detector (small graph data)."""

from __future__ import annotations

import pytest

from faultlab.errors import BadInput
from tests import graphdata
from tests.repofiles import import_file


@pytest.fixture(scope="module")
def bench():
    return import_file("benchmarks/graph_input.py", "graph_input_benchmark")


def test_variants_parse_and_keep_only_each_detectors_keys(bench):
    label, params = bench.parse_variant("x:scaling=column_robust,clip=10,service_dim=4,edge_weight=none")
    assert label == "x" and params == {"scaling": "column_robust", "clip": 10, "service_dim": 4, "edge_weight": "none"}
    gnn = dict(bench.configs("gnn_lstm_vae", ["old", "new"], [(label, params)], False, "cpu"))
    dcrnn = dict(bench.configs("dcrnn", ["new"], [(label, params)], False, "cpu"))
    assert gnn["old"]["clip"] == 10.0 and gnn["old"]["service_dim"] == 4 and "clip" not in gnn["new"]
    assert "edge_weight" not in gnn["x"] and gnn["x"]["service_dim"] == 4
    assert "service_dim" not in dcrnn["x"] and dcrnn["x"]["edge_weight"] == "none"
    with pytest.raises(BadInput, match="KEY=VALUE"):
        bench.parse_variant("x:clip")
    with pytest.raises(BadInput, match="neither old nor new"):
        bench.configs("dcrnn", ["older"], [], False, "cpu")


def test_an_unknown_name_is_refused_naming_it(bench):
    with pytest.raises(BadInput, match="no-such-recording"):
        bench.load("no-such-recording")


def test_one_row_per_detector_on_a_small_graph(bench):
    from faultlab.harness.evaluation.detector_rows import scored_steps

    data = graphdata.make(seed=1, edge_traffic=True)
    steps = scored_steps(data)
    params = {"device": "cpu", "max_epochs": 1, "hidden_dim": 8, "history": 4, "horizon": 1, "max_train_windows": 64,
              "progress_after_s": 1e9}
    row = bench.run_one(data, "dcrnn", params, 0, steps)
    assert set(row) == {"vus_pr", "f1", "alarm_rate", "train_alarm_rate", "ac@1", "seconds"}
    assert 0.0 <= row["vus_pr"] <= 1.0 and 0.0 <= row["ac@1"] <= 1.0
    floor = bench.run_one(data, "always_alarm", {}, 0, steps)
    assert floor["alarm_rate"] == 1.0
    bare = bench.input_only(data, steps)
    assert set(bare) == set(row) and bare["train_alarm_rate"] <= 0.011
