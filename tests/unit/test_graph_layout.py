"""The graph detectors' input layer: the papers' per-metric z-score by default, the additions as options, traffic weights."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from faultlab.detectors.graph_layout import GraphLayout, fit_metric_scaler, traffic_weights
from faultlab.errors import BadInput
from tests import graphdata


@pytest.fixture(scope="module")
def data():
    return graphdata.make(seed=1)


def _layout(data, **options) -> GraphLayout:
    train = data.train()
    return GraphLayout.fit(train, [str(c) for c in train.metrics.columns], **options)


def test_default_is_one_z_score_per_metric_over_all_services_and_training_steps(data):
    layout = _layout(data)
    train = data.train().metrics
    latency = [c for c in train.columns if c.endswith(":latency_p99_s")]
    pooled = train[latency].to_numpy()
    columns = layout.columns
    for c in latency:
        i = columns.index(c)
        assert layout.scaler.center_[i] == pytest.approx(pooled.mean())
        assert layout.scaler.scale_[i] == pytest.approx(pooled.std())
    # the test part plays no role: statistics come from the fault-free training part only
    assert layout.scaler.center_[columns.index(latency[0])] != pytest.approx(data.metrics[latency].to_numpy().mean())


def test_default_neither_clips_nor_switches_off_columns(data):
    layout = _layout(data)
    assert layout.clip is None and layout.active.all()
    values = np.zeros((2, len(layout.columns)))
    values[1] = layout.scaler.center_ + 1000.0 * layout.scaler.scale_  # 1000 z units
    x = layout.tensor(values)
    assert x[1].max() == pytest.approx(1000.0)


def test_a_metric_without_spread_is_centred_and_left_in_its_unit():
    values = np.array([[0.0, 0.0, 5.0], [0.0, 0.0, 7.0]])
    scaler = fit_metric_scaler(values, np.array([0, 0, 1]))
    np.testing.assert_allclose(scaler.center_, [0.0, 0.0, 6.0])
    np.testing.assert_allclose(scaler.scale_, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(scaler.transform(np.array([[3.0, 0.0, 6.0]])), [[3.0, 0.0, 0.0]])


def test_the_old_layer_is_there_as_options(data):
    train = data.train()
    flat = replace(train, metrics=train.metrics.assign(**{"db:memory_bytes": 1.0}))
    layout = GraphLayout.fit(flat, [str(c) for c in flat.metrics.columns], scaling="column_robust", clip=10.0,
                             drop_constant=True)
    assert layout.scaling == "column_robust"
    off = layout.columns.index("db:memory_bytes")
    assert not layout.active[off] and layout.active.sum() == len(layout.columns) - 1
    assert not layout.present[layout.services.index("db"), layout.metrics.index("memory_bytes")]
    x = layout.tensor(flat.metrics.to_numpy() * 100.0)
    assert np.abs(x).max() <= 10.0
    with pytest.raises(BadInput, match="scaling"):
        GraphLayout.fit(train, list(train.metrics.columns), scaling="minmax")


def test_traffic_weights_are_mean_calls_times_latency_over_training(data):
    traffic = graphdata.make(seed=1, edge_traffic=True)
    train = traffic.train()
    layout = GraphLayout.fit(train, [str(c) for c in train.metrics.columns], edge_weight="traffic")
    assert layout.weighted and layout.notes == []
    s = layout.services
    m = train.metrics
    for e, (i, j) in enumerate(layout.edge_index.T):
        caller, callee = s[i], s[j]
        expected = (m[f"{caller}:calls_to_{callee}_per_s"] * m[f"{caller}:calls_to_{callee}_latency_mean_s"]).mean()
        assert layout.edge_weight[e] == pytest.approx(expected)
    calls = GraphLayout.fit(train, [str(c) for c in train.metrics.columns], edge_weight="calls")
    e = next(k for k, (i, j) in enumerate(calls.edge_index.T) if (s[i], s[j]) == ("stock", "db"))
    assert calls.edge_weight[e] == pytest.approx(m["stock:calls_to_db_per_s"].mean())


def test_without_per_edge_series_edges_stay_unweighted_and_the_notes_say_so(data):
    train = data.train()
    weights, notes = traffic_weights(train, _layout(data).services, _layout(data).edge_index, "traffic")
    assert (weights == 1.0).all()
    assert len(notes) == 1 and "unweighted" in notes[0] and "calls_to" in notes[0]
    assert traffic_weights(train, ["a"], np.zeros((2, 0), dtype=np.int64), "traffic") == (pytest.approx(np.ones(0)), [])


def test_an_edge_without_series_takes_the_median_of_the_others():
    traffic = graphdata.make(seed=1, edge_traffic=True)
    train = traffic.train()
    dropped = [c for c in train.metrics.columns if c.startswith("stock:calls_to_db")]
    kept = [c for c in train.metrics.columns if c not in dropped]
    cut = replace(train, metrics=train.metrics[kept])
    layout = GraphLayout.fit(cut, kept, edge_weight="traffic")
    s = layout.services
    e = next(k for k, (i, j) in enumerate(layout.edge_index.T) if (s[i], s[j]) == ("stock", "db"))
    others = np.delete(layout.edge_weight, e)
    assert layout.edge_weight[e] == pytest.approx(np.median(others))
    assert any("stock->db" in n for n in layout.notes)


def test_state_round_trip_and_models_saved_before_the_options(data):
    layout = _layout(graphdata.make(seed=1, edge_traffic=True), edge_weight="traffic")
    state = layout.to_state()
    again = GraphLayout.from_state(state, layout.columns)
    np.testing.assert_array_equal(again.edge_weight, layout.edge_weight)
    assert again.clip is None and again.scaling == "metric" and again.notes == layout.notes
    old = {k: v for k, v in state.items() if k not in ("layout.edge_weight", "layout.scaling", "layout.notes")}
    old["layout.clip"] = 10.0
    legacy = GraphLayout.from_state(old, layout.columns)
    assert legacy.scaling == "column_robust" and legacy.clip == 10.0 and not legacy.weighted
