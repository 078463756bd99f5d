"""gnn_lstm_vae (seed 000) on a small service graph: detection, root cause, persistence, service order."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from faultlab.detectors import make_detector
from faultlab.errors import BadInput
from tests import graphdata
from tests.fitting import assert_reloads_identically, fitted_detector_fixtures

FAST = {"device": "cpu", "max_epochs": 8, "window": 12, "graph_dim": 16, "hidden_dim": 16, "max_train_windows": 256, "batch_size": 64}
data, fitted = fitted_detector_fixtures("gnn_lstm_vae", FAST, lambda: graphdata.make(seed=1))


def test_faults_score_above_normal_where_random_does_not(data, fitted):
    test = data.test()
    graphdata.assert_detects_beyond_random(test, fitted.score(test), fitted.threshold_)


def test_root_cause_is_ranked_first_in_most_events(data, fitted):
    assert graphdata.ac_at_1(data.test(), fitted) >= 0.75


def test_rankings_name_candidate_services_and_their_columns_only(data, fitted):
    ranking = fitted.localize(data.test(), [(120, 150)])[0]
    assert {name for name, _ in ranking.services} == set(graphdata.SERVICES)
    assert all(not col.startswith("host:") for col, _ in ranking.metrics)
    assert all(col in data.metrics.columns for col, _ in ranking.metrics)


def test_callee_fault_that_slows_every_caller_is_localised_to_the_callee():
    data = graphdata.make(seed=2, faults=((700, 740, "db"), (800, 840, "db"), (900, 940, "stock")), latency_factor=6.0)
    test = data.test()
    det = make_detector("gnn_lstm_vae", FAST, seed=0).fit(data.train())
    rankings = det.localize(test, [(100, 140), (200, 240), (300, 340)])
    assert [r.services[0][0] for r in rankings] == ["db", "db", "stock"]
    # the callers' latency did deviate: the case is one of propagation, not of an isolated fault
    caller_scores = dict(rankings[0].metrics)
    assert caller_scores["gateway:latency_p99_s"] > 3.0


def test_save_load_gives_identical_scores(data, fitted, tmp_path):
    again = assert_reloads_identically(fitted, data.test(), tmp_path / "m")
    assert again.layout_.services == fitted.layout_.services


def test_service_order_of_the_scored_data_does_not_matter(data, fitted):
    test = data.test()
    shuffled = replace(test, metrics=test.metrics[list(reversed(test.metrics.columns))])
    np.testing.assert_array_equal(fitted.score(shuffled), fitted.score(test))


def test_missing_service_at_scoring_time_is_named(data, fitted):
    test = data.test()
    kept = [c for c in test.metrics.columns if not c.startswith("stock:")]
    with pytest.raises(BadInput, match="stock"):
        fitted.score(replace(test, metrics=test.metrics[kept]))
