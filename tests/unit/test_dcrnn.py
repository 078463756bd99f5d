"""dcrnn (seed 002) on a small service graph: detection, root cause, persistence, schedule, threshold, traffic weights."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from faultlab.detectors import make_detector
from faultlab.errors import BadInput
from tests import graphdata
from tests.fitting import assert_reloads_identically, fitted_detector_fixtures

FAST = {"device": "cpu", "max_epochs": 8, "history": 8, "horizon": 2, "hidden_dim": 16, "max_train_windows": 256, "batch_size": 64}
data, fitted = fitted_detector_fixtures("dcrnn", FAST, lambda: graphdata.make(seed=1))


def test_faults_score_above_normal_where_random_does_not(data, fitted):
    test = data.test()
    graphdata.assert_detects_beyond_random(test, fitted.score(test), fitted.threshold_)


def test_threshold_is_three_sigma_of_fault_free_scores(fitted):
    train = fitted.train_scores_
    assert fitted.threshold_ == pytest.approx(train.mean() + 3.0 * train.std())


def test_root_cause_is_ranked_high_in_most_events(data, fitted):
    # five candidates: a random ranking names the root cause first in 20 % of the events
    assert graphdata.ac_at(data.test(), fitted, 1) >= 0.5
    assert graphdata.ac_at(data.test(), fitted, 3) >= 0.75


def test_callee_fault_that_slows_every_caller_is_localised_to_the_callee():
    """Per-column scaling (an option) localises a slow callee on this data (see the same test of gnn_lstm_vae)."""
    data = graphdata.make(seed=2, faults=((700, 740, "db"), (800, 840, "db"), (900, 940, "stock")), latency_factor=6.0)
    det = make_detector("dcrnn", {**FAST, "scaling": "column_robust"}, seed=0).fit(data.train())
    rankings = det.localize(data.test(), [(100, 140), (200, 240), (300, 340)])
    assert [r.services[0][0] for r in rankings] == ["db", "db", "stock"]
    assert dict(rankings[0].metrics)["gateway:latency_p99_s"] > 3.0  # the callers did deviate
    assert all(name in graphdata.SERVICES for name, _ in rankings[0].services)  # never the context "host"


def test_save_load_gives_identical_scores(data, fitted, tmp_path):
    assert_reloads_identically(fitted, data.test(), tmp_path / "m")


def test_missing_service_at_scoring_time_is_named(data, fitted):
    test = data.test()
    kept = [c for c in test.metrics.columns if not c.startswith("db:")]
    with pytest.raises(BadInput, match="db"):
        fitted.score(replace(test, metrics=test.metrics[kept]))


def test_scheduled_sampling_decays_from_teacher_forcing_to_own_forecasts():
    from faultlab.detectors._dcrnn_net import teacher_probability

    probs = [teacher_probability(i, 200.0) for i in (0, 200, 1000, 2000, 10**6)]
    assert probs[0] == pytest.approx(200 / 201)
    assert all(a > b for a, b in itertools.pairwise(probs))
    assert probs[-1] == pytest.approx(0.0, abs=1e-12)


def test_defaults_are_the_papers_input_and_the_notes_say_when_edges_stay_unweighted(data, fitted):
    layout = fitted.layout_
    assert layout.scaling == "metric" and layout.clip is None and layout.active.all()
    assert not layout.weighted  # graphdata.make without edge_traffic has no per-edge series
    assert len(fitted.notes_) == 1 and "unweighted" in fitted.notes_[0]
    test = data.test()
    np.testing.assert_allclose(fitted.score(test), fitted.squared_errors(test).sum(axis=(1, 2)) / layout.present.sum())


def test_edges_are_weighted_by_traffic_where_the_dataset_has_it(tmp_path):
    """Seed 002: edge weight from traffic volume and latency; the walks follow it (DCRNN Sec. 2.1)."""
    data = graphdata.make(seed=1, edge_traffic=True)
    det = make_detector("dcrnn", {**FAST, "max_epochs": 2}, seed=0).fit(data.train())
    layout = det.layout_
    assert layout.weighted and det.notes_ == []
    s = layout.services
    fwd = {(s[int(b)], s[int(a)]): float(w) for (a, b), w in zip(det.net_.fwd_index.T, det.net_.fwd_weight)}
    m = data.train().metrics
    load = {c: (m[f"gateway:calls_to_{c}_per_s"] * m[f"gateway:calls_to_{c}_latency_mean_s"]).mean() for c in ("orders", "catalog")}
    assert fwd[("gateway", "orders")] == pytest.approx(load["orders"] / sum(load.values()), rel=1e-5)
    assert_reloads_identically(det, data.test(), tmp_path / "m")
    unweighted = make_detector("dcrnn", {**FAST, "max_epochs": 1, "edge_weight": "none"}, seed=0).fit(data.train())
    assert not unweighted.layout_.weighted and unweighted.notes_ == []


def test_data_shorter_than_one_window_is_scored_step_by_step(data, fitted):
    """A from-alarm cut can end a few steps into the test part (the ladder's starts with a fault)."""
    test = data.test()
    short = replace(test, metrics=test.metrics.iloc[:5], labels=test.labels.iloc[:5],
                    mask=None if test.mask is None else test.mask.iloc[:5])
    assert len(fitted.score(short)) == 5
    assert len(fitted.localize(short, [(2, 5)])[0].services) == len(graphdata.SERVICES)
    with pytest.raises(BadInput, match="0 steps"):
        fitted.score(replace(short, metrics=short.metrics.iloc[:0], labels=short.labels.iloc[:0],
                             mask=None if short.mask is None else short.mask.iloc[:0]))
