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
