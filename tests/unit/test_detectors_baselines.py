"""The baselines do what they claim: hand-computed scores on tiny data, and better-than-chance
detection, localisation and classification on the synthetic dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.detectors import fault_segments, fault_windows, make_classifier, make_detector
from faultlab.detectors.random_forest import window_statistics
from faultlab.errors import BadInput
from faultlab.harness.datasets.index import resolve_dataset


def _tiny(values: dict[str, list[float]]) -> Dataset:
    n = len(next(iter(values.values())))
    index = pd.date_range("2026-01-01", periods=n, freq="5s", tz="UTC", name="timestamp")
    labels = pd.DataFrame({"anomaly": 0, "fault_type": "", "root_cause": "", "fault_id": ""}, index=index)
    return Dataset(metrics=pd.DataFrame(values, index=index), labels=labels, graph=ServiceGraph([], []), meta={"name": "tiny"})


@pytest.fixture(scope="module")
def synthetic():
    return resolve_dataset("synthetic")


# ---- hand-computed ------------------------------------------------------------------------
def _steps(n: int, values: list[float]) -> list[float]:
    return [values[i % len(values)] for i in range(n)]


def test_zscore_is_robust_z_with_a_level_floor_and_the_sigma_rule():
    train = _tiny({"a:x": _steps(20, [1, 2, 3, 4, 5]) + [100.0], "b:y": [10.0] * 21})
    det = make_detector("zscore", {"threshold_mode": "sigma", "aggregate": "max"}).fit(train)
    # a:x: median 3, MAD 1 -> scale 1.4826 (the 1 % level floor, 1.0, is lower).
    # b:y is constant at 10: no spread, so its scale is the level floor 0.01 * 10 = 0.1.
    np.testing.assert_allclose(det.scaler_.scale_, [1.4826, 0.1])
    test = _tiny({"a:x": [3.0, 6.0, 3.0 + 5 * 1.4826], "b:y": [10.0, 10.0 + 1e-9, 10.0]})
    np.testing.assert_allclose(det.score(test), [0.0, 3 / 1.4826, 5.0], atol=1e-6)
    assert det.threshold_ == 3.0
    np.testing.assert_array_equal(det.predict(test), [0, 0, 1])


def test_zscore_leaving_a_constant_scores_high_but_float_jitter_does_not():
    # An availability at exactly 100 % in training that drops to 90 %: z = 10 / (0.01 * 100).
    train = _tiny({"svc::AWS::Lambda:availability": [100.0] * 30, "svc::AWS::Lambda:latency": _steps(30, [1.0, 1.2, 0.9])})
    det = make_detector("zscore").fit(train)
    jitter = _tiny({"svc::AWS::Lambda:availability": [100.0 + 1e-9, 100.0 - 1e-9, 100.0], "svc::AWS::Lambda:latency": [1.0, 1.1, 1.0]})
    drop = _tiny({"svc::AWS::Lambda:availability": [100.0, 90.0, 90.0], "svc::AWS::Lambda:latency": [1.0, 1.1, 1.0]})
    assert det.predict(jitter).sum() == 0
    np.testing.assert_array_equal(det.predict(drop), [0, 1, 1])
    assert det.abs_z(drop)[1, 0] == pytest.approx(10.0)


def test_zscore_sparse_count_alarms_only_beyond_its_fault_free_maximum():
    # c:errors is 0 on 19 of 20 steps: MAD 0 -> the floor max|x - median| / sigma = 1/3 puts
    # its own fault-free error (1.0) at z = 3, not above.
    train = _tiny({"a:x": _steps(20, [1.0, 2, 3, 2]), "c:errors": [0.0] * 4 + [1.0] + [0.0] * 15})
    det = make_detector("zscore", {"threshold_mode": "sigma", "aggregate": "max"}).fit(train)
    np.testing.assert_allclose(det.scaler_.scale_[1], 1 / 3)
    assert (det.train_scores_ > det.threshold_).sum() == 0
    test = _tiny({"a:x": [2.0, 2.0], "c:errors": [1.0, 2.0]})
    np.testing.assert_allclose(det.score(test), [3.0, 6.0])
    np.testing.assert_array_equal(det.predict(test), [0, 1])


def test_zscore_learned_threshold_is_a_margin_over_a_fault_free_quantile(synthetic):
    det = make_detector("zscore").fit(synthetic.train())
    learned = 1.5 * np.quantile(det.train_scores_, 0.99)
    assert det.threshold_ == pytest.approx(max(learned, 3.0))
    assert (det.train_scores_ > det.threshold_).mean() <= 0.01
    test = synthetic.test()
    normal = (test.y == 0) & (test.labels["recovering"].to_numpy() == 0)
    assert det.predict(test)[normal].mean() < 0.05


def test_zscore_absorbs_a_gauge_level_that_lasts_but_not_a_fault():
    rng = np.random.default_rng(0)
    n_train, n_test = 60, 400
    train = _tiny({"m:memory_bytes": 100 + rng.normal(0, 1, n_train)})
    det = make_detector("zscore", {"drift_window_s": 300.0}).fit(train)  # 60 steps of 5 s
    level = np.full(n_test, 100.0)
    level[20:30] = 200.0  # a fault of 10 steps: scored in full
    level[100:] = 150.0  # a new normal that lasts: absorbed after half the window
    test = _tiny({"m:memory_bytes": level + rng.normal(0, 1, n_test)})
    pred = det.predict(test)
    assert pred[20:30].all()
    assert pred[40:100].mean() < 0.05 and pred[140:].mean() < 0.02  # noise at 3 sigma aside
    static = make_detector("zscore", {"drift_window_s": None}).fit(train)
    assert static.predict(test)[200:].all()  # without the drift baseline it alarms forever


def test_zscore_localize_ranks_the_deviating_service_first():
    train = _tiny({"a:x": _steps(20, [1.0, 2, 3, 2, 1, 2]), "b:y": _steps(20, [5.0, 6, 5, 6, 5, 6])})
    det = make_detector("zscore").fit(train)
    test = _tiny({"a:x": [2.0, 2, 2, 2], "b:y": [5.0, 50, 60, 5]})
    (ranking,) = det.localize(test)  # its own predicted segment: steps 1..2
    assert (ranking.start_index, ranking.end_index) == (1, 3)
    assert ranking.top_services(2) == ["b", "a"]
    assert ranking.metrics[0][0] == "b:y"


def test_static_threshold_quantile_margin_and_absolute_value():
    train = _tiny({"a:cpu_cores": list(np.arange(1.0, 101.0)), "b:cpu_cores": [2.0] * 100, "a:mem": [0.0] * 100})
    det = make_detector("static_threshold", {"metric": "cpu_cores", "quantile": 0.5, "margin": 2.0}).fit(train)
    np.testing.assert_allclose(det.limits_, [101.0, 4.0])  # median 50.5 * 2, 2 * 2; a:mem not chosen
    test = _tiny({"a:cpu_cores": [50.0, 151.5], "b:cpu_cores": [5.0, 0.0], "a:mem": [9e9, 9e9]})
    np.testing.assert_allclose(det.score(test), [0.25, 0.5])  # max((50-101)/101, (5-4)/4), (151.5-101)/101
    exact = make_detector("static_threshold", {"metric": "b:cpu_cores", "value": 4.0}).fit(train)
    np.testing.assert_allclose(exact.score(test), [0.25, -1.0])
    np.testing.assert_array_equal(exact.predict(test), [1, 0])


def test_static_threshold_unknown_metric_names_it():
    with pytest.raises(BadInput, match="no_such_metric.*metrics: x"):
        make_detector("static_threshold", {"metric": "no_such_metric"}).fit(_tiny({"a:x": [1.0, 2.0] * 10}))


def test_static_threshold_default_watches_every_series_of_any_dataset():
    # No Faultlab metric names here: the default needs none.
    train = _tiny({"PetSite/AWS::EC2:CPUUtilization": _steps(20, [10.0, 12, 11]), "db:Errors": [0.0] * 20})
    det = make_detector("static_threshold").fit(train)
    assert len(det.selected_) == 2
    test = _tiny({"PetSite/AWS::EC2:CPUUtilization": [11.0, 30.0, 11.0], "db:Errors": [0.0, 0.0, 1e-9]})
    np.testing.assert_array_equal(det.predict(test), [0, 1, 0])  # 1e-9 on a zero series is not 1e-9/0


def test_iforest_window_scores_go_to_the_last_step_with_padding(synthetic):
    train, test = synthetic.train(), synthetic.test()
    det = make_detector("iforest", {"window": 4, "n_estimators": 10}).fit(train)
    scores = det.score(test)
    samples = det._samples(det.matrix(test))
    window_scores = -det.forest_.score_samples(samples)
    np.testing.assert_allclose(scores[3:], window_scores)
    np.testing.assert_allclose(scores[:3], window_scores[0])


def test_iforest_contamination_sets_the_training_alarm_rate(synthetic):
    det = make_detector("iforest", {"contamination": 0.05, "n_estimators": 20}).fit(synthetic.train())
    assert det.threshold_ == pytest.approx(np.quantile(det.train_scores_, 0.95))
    assert abs((det.train_scores_ > det.threshold_).mean() - 0.05) < 0.01


def test_iforest_different_seeds_differ(synthetic):
    train, test = synthetic.train(), synthetic.test()
    a = make_detector("iforest", {"n_estimators": 10}, seed=0).fit(train).score(test)
    b = make_detector("iforest", {"n_estimators": 10}, seed=1).fit(train).score(test)
    assert not np.allclose(a, b)


def test_window_statistics_order_and_values():
    w = np.array([[[1.0, 10.0], [3.0, 10.0], [5.0, 4.0]]])  # 1 window, 3 steps, 2 metrics
    np.testing.assert_allclose(
        window_statistics(w)[0],
        [3, 8, np.std([1, 3, 5]), np.std([10, 10, 4]), 1, 4, 5, 10, 4, -6],
    )


# ---- better than chance on the synthetic dataset ------------------------------------------
@pytest.mark.parametrize(("name", "params", "min_auc"), [("zscore", {}, 0.9), ("iforest", {}, 0.7)])
def test_detectors_beat_chance_on_synthetic(synthetic, name, params, min_auc):
    train, test = synthetic.train(), synthetic.test()
    scores = make_detector(name, params, seed=0).fit(train).score(test)
    assert roc_auc_score(test.y, scores) > min_auc


def test_static_cpu_threshold_catches_cpu_faults(synthetic):
    train, test = synthetic.train(), synthetic.test()
    det = make_detector("static_threshold", {"metric": "cpu_cores"}).fit(train)
    scores = det.score(test)
    cpu_or_normal = (test.labels["fault_type"] == "cpu").to_numpy() | (test.y == 0)
    assert roc_auc_score(test.y[cpu_or_normal], scores[cpu_or_normal]) > 0.9
    assert roc_auc_score(test.y, scores) > 0.6  # one metric cannot see memory or packet-loss faults
    pred = det.predict(test)
    assert test.y[pred == 1].mean() > 0.9  # few false alarms: limits sit above the training peak


def test_zscore_localizes_most_cpu_faults_in_top3(synthetic):
    train, test = synthetic.train(), synthetic.test()
    det = make_detector("zscore").fit(train)
    cpu = [s for s in fault_segments(test) if s.fault_type == "cpu"]
    assert len(cpu) >= 3
    rankings = det.localize(test, [(s.start, s.end) for s in cpu])
    assert [r.fault_id for r in rankings] == [s.fault_id for s in cpu]
    hits = [s.root_cause[0] in r.top_services(3) for s, r in zip(cpu, rankings)]
    assert sum(hits) > len(hits) / 2


def test_random_forest_classifies_unseen_fault_events_better_than_chance():
    data = resolve_dataset("synthetic-large")
    fw = fault_windows(data, size=10)
    events = sorted(set(fw.fault_ids))
    train = np.isin(fw.fault_ids, events[::2])  # whole events held out: no window leaks
    clf = make_classifier("random_forest", {"n_estimators": 100}, seed=0).fit(fw.windows[train], fw.labels[train])
    accuracy = (clf.predict(fw.windows[~train]) == fw.labels[~train]).mean()
    assert accuracy > 2 / len(clf.classes_)  # twice chance; faults hit other services in the test events
