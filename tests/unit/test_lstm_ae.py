"""lstm_ae (seed 003): detects known faults better than the random floor, ranks the faulty
service, its radiography feature set covers >= 90 % of the error, and it repeats and reloads."""

from __future__ import annotations

import numpy as np
import pytest

from faultlab.detectors import fault_segments, make_detector
from faultlab.errors import BadInput
from tests import multiservice
from tests.fitting import assert_repeats_and_reloads, fitted_detector_fixtures

FAST = {"max_epochs": 8, "hidden_units": 16, "latent_units": 8, "progress_after_s": 1e9}
data, fitted = fitted_detector_fixtures("lstm_ae", FAST, lambda: multiservice.make(seed=1))


def test_beats_the_random_floor(fitted, data):
    multiservice.assert_beats_random_floor(fitted, data, min_auc=0.85)
    test = data.test()
    normal = test.y == 0
    assert (fitted.score(test)[normal] > fitted.threshold_).mean() < 0.15


def test_score_is_the_worst_group_against_its_own_threshold(fitted, data):
    test = data.test()
    mse = fitted.group_mse(test)
    assert fitted.threshold_ == 1.0
    assert set(fitted.groups_) == {"cpu", "memory", "network", "application"}
    np.testing.assert_allclose(fitted.score(test), (mse / fitted.group_threshold_).max(axis=1))
    train_mse = fitted.group_mse(data.train())[fitted.params.window - 1 :]
    crossing = (train_mse > fitted.group_threshold_).mean(axis=0)
    assert np.all(crossing <= 0.011)  # the 99th percentile of training MSE per group


def test_contributions_sum_to_one_per_group(fitted, data):
    p = fitted.contributions(data.test())
    for group in fitted.groups_:
        np.testing.assert_allclose(p[:, fitted.column_group_ == group].sum(axis=1), 1.0, atol=1e-6)


def test_radiography_feature_set_covers_90_percent_and_is_minimal(fitted, data):
    test = data.test()
    for seg in fault_segments(test):
        features = fitted.feature_set(test, seg.start, seg.end)
        shares = [share for _, share in features]
        assert sum(shares) >= 0.9 - 1e-9
        assert sum(shares[:-1]) < 0.9
        assert shares == sorted(shares, reverse=True)


def test_localize_ranks_the_faulty_service_first_mostly(fitted, data):
    test = data.test()
    segments = fault_segments(test)
    rankings = fitted.localize(test, [(s.start, s.end) for s in segments])
    hits = [r.top_services(1)[0] in s.root_cause for r, s in zip(rankings, segments)]
    assert np.mean(hits) >= 0.66  # random: 0.25 with four services
    top_metric = rankings[0].metrics[0][0]
    assert top_metric.startswith(segments[0].root_cause[0] + ":")


def test_same_seed_same_scores_and_save_load(fitted, data, tmp_path):
    loaded = assert_repeats_and_reloads(fitted, data, "lstm_ae", FAST, tmp_path / "m")
    test = data.test()
    assert loaded.feature_set(test, 100, 130) == fitted.feature_set(test, 100, 130)


def test_params_and_short_data_are_refused(data):
    with pytest.raises(BadInput, match="window"):
        make_detector("lstm_ae", {"window": 1})
    with pytest.raises(BadInput, match="at least"):
        make_detector("lstm_ae", FAST).fit(data.train().slice(end=data.train().timestamps[5]))


def test_each_group_is_read_on_its_own_against_its_own_threshold(fitted, data):
    """Seed 003 reads one radiography per group; the system rule (any group over its T^g) stays the step score."""
    test = data.test()
    per_group = fitted.group_scores(test)
    assert list(per_group) == fitted.groups_
    mse = fitted.group_mse(test)
    for k, group in enumerate(fitted.groups_):
        np.testing.assert_allclose(per_group[group], mse[:, k])
        assert fitted.group_thresholds_[group] == fitted.group_threshold_[k]
    any_group = np.any([per_group[g] > fitted.group_thresholds_[g] for g in per_group], axis=0)
    np.testing.assert_array_equal(fitted.predict(test).astype(bool), any_group)


def test_every_group_trains_to_convergence_visibly(fitted):
    p = type(fitted.params)()
    assert (p.max_epochs, p.patience) == (200, 10)  # a documented cap (the paper gives none), early stopping first
    assert set(fitted.training_) == set(fitted.groups_)
    for history in fitted.training_.values():
        assert history.max_epochs == FAST["max_epochs"] and 1 <= history.best_epoch <= history.epochs <= history.max_epochs
        assert len(history.val_loss) == history.epochs and history.fit_s > 0


def test_counters_enter_as_increments_gauges_as_values():
    """Sec. III-A: a counter's increment is its rate times the step's duration (irregular steps too)."""
    import pandas as pd

    from faultlab.dataset import Dataset, ServiceGraph

    stamps = pd.DatetimeIndex(pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.r_[0, np.cumsum([5, 5, 10] * 20)], "s"),
                              name="timestamp")
    n = len(stamps)
    rng = np.random.default_rng(0)
    metrics = pd.DataFrame({"s:requests_per_s": 2.0 + rng.random(n), "s:memory_bytes": 100.0 + rng.random(n)}, index=stamps)
    table = [{"name": "s:requests_per_s", "service": "s", "metric": "requests_per_s", "group": "application", "kind": "counter"},
             {"name": "s:memory_bytes", "service": "s", "metric": "memory_bytes", "group": "memory", "kind": "gauge"}]
    labels = pd.DataFrame({"anomaly": 0, "fault_type": "", "root_cause": "", "fault_id": ""}, index=stamps)
    data = Dataset(metrics, labels, ServiceGraph([], []), {"name": "irregular", "scrape_interval_s": 5.0, "columns": table})
    det = make_detector("lstm_ae", {"max_epochs": 1, "hidden_units": 4, "latent_units": 2, "window": 4, "progress_after_s": 1e9}).fit(data)
    x = det.inputs(det.align(data))
    steps = np.r_[5.0, np.tile([5.0, 5.0, 10.0], 20)]  # the first step: the scrape interval
    np.testing.assert_allclose(x[:, 0], metrics["s:requests_per_s"].to_numpy() * steps)
    np.testing.assert_array_equal(x[:, 1], metrics["s:memory_bytes"].to_numpy())
