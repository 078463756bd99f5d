"""gnn_lstm_vae (seed 000) on a small service graph: detection, root cause, persistence, service order, the paper's input."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from faultlab.detectors import make_detector
from faultlab.errors import BadInput
from tests import graphdata
from tests.fitting import assert_reloads_identically, fitted_detector_fixtures

FAST = {"device": "cpu", "max_epochs": 8, "window": 12, "graph_dim": 16, "hidden_dim": 16, "max_train_windows": 256, "batch_size": 64}
#: The input layer and score before issue 23: additions seed 000 lacks, kept as options.
OLD = {"scaling": "column_robust", "clip": 10.0, "drop_constant": True, "normalise_scores": True, "service_dim": 4}
data, fitted = fitted_detector_fixtures("gnn_lstm_vae", FAST, lambda: graphdata.make(seed=1))


def test_faults_score_above_normal_where_random_does_not(data, fitted):
    test = data.test()
    graphdata.assert_detects_beyond_random(test, fitted.score(test), fitted.threshold_)


def test_root_cause_is_ranked_high_in_most_events(data, fitted):
    # five candidates: a random ranking names the root cause first in 20 % of the events
    assert graphdata.ac_at(data.test(), fitted, 1) >= 0.5
    assert graphdata.ac_at(data.test(), fitted, 3) >= 0.75


def test_rankings_name_candidate_services_and_their_columns_only(data, fitted):
    ranking = fitted.localize(data.test(), [(120, 150)])[0]
    assert {name for name, _ in ranking.services} == set(graphdata.SERVICES)
    assert all(not col.startswith("host:") for col, _ in ranking.metrics)
    assert all(col in data.metrics.columns for col, _ in ranking.metrics)


def test_callee_fault_that_slows_every_caller_is_localised_to_the_callee():
    """Per-column scaling (an option) localises a slow callee on this data; the papers' shared scale does not.

    Latency here adds up along the call chain, so every caller's latency rises by at least as
    much as the callee's own (the gateway's twice): in one z-score per metric the callee is not
    the service that moved most. Only a per-column scale shows the callee's latency moved most
    relative to its own normal. On the recorded data the shared scale localises better (see
    benchmarks/graph_input.py); this keeps the option's case covered.
    """
    data = graphdata.make(seed=2, faults=((700, 740, "db"), (800, 840, "db"), (900, 940, "stock")), latency_factor=6.0)
    test = data.test()
    det = make_detector("gnn_lstm_vae", {**FAST, "scaling": "column_robust"}, seed=0).fit(data.train())
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


def test_defaults_are_the_papers_input_and_score(data, fitted):
    """Seed 000: one z-score per metric, nothing clipped or switched off, no service embedding,
    score = squared reconstruction error (mean over the present pairs), threshold at the 99th
    percentile of the fault-free scores."""
    layout = fitted.layout_
    assert layout.scaling == "metric" and layout.clip is None and layout.active.all()
    assert fitted.net_.service_embedding is None
    assert not any("service_embedding" in k for k in fitted.net_.state_dict())
    test = data.test()
    errors = fitted.squared_errors(test)
    np.testing.assert_allclose(fitted.score(test), errors.sum(axis=(1, 2)) / layout.present.sum())
    assert fitted.threshold_ == pytest.approx(np.quantile(fitted.train_scores_, 0.99))


def test_the_old_input_layer_is_there_as_options_and_reloads(data, tmp_path):
    det = make_detector("gnn_lstm_vae", {**FAST, **OLD, "max_epochs": 2}, seed=0).fit(data.train())
    assert det.layout_.scaling == "column_robust" and det.layout_.clip == 10.0
    assert det.net_.service_embedding.weight.shape == (len(det.layout_.services), 4)
    test = data.test()
    np.testing.assert_allclose(det.score(test), det.pair_errors(test).sum(axis=(1, 2)) / det.layout_.present.sum())
    assert_reloads_identically(det, test, tmp_path / "old")


def test_a_model_saved_before_the_new_input_loads_with_its_old_input_and_score(data, tmp_path):
    import json

    from faultlab.detectors import Detector

    det = make_detector("gnn_lstm_vae", {**FAST, **OLD, "max_epochs": 1}, seed=0).fit(data.train())
    det.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    for key in ("scaling", "drop_constant", "normalise_scores"):  # parameters the old model did not have
        doc["params"].pop(key)
    for key in ("layout.scaling", "layout.notes"):
        doc["state"].pop(key)
    (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
    with np.load(tmp_path / "m" / "arrays.npz") as npz:
        arrays = {k: npz[k] for k in npz.files if k != "layout.edge_weight"}
    np.savez(tmp_path / "m" / "arrays.npz", **arrays)
    again = Detector.load(tmp_path / "m")
    assert again.params.scaling == "column_robust" and again.params.normalise_scores and again.params.drop_constant
    np.testing.assert_array_equal(again.score(data.test()), det.score(data.test()))
