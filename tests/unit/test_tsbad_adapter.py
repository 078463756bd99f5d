"""TSB-AD's models through the Detector interface give TSB-AD's own scores, and the adapter's
protocol (fitted on, per-series aggregation, parameters, unavailable models) is what it says.

TSB-AD and its models' dependencies are imported, not skipped when absent: scripts/setup.sh installs
them (the tsbad extra), so a missing one is a broken set-up and fails here."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from TSB_AD.HP_list import Optimal_Multi_algo_HP_dict, Optimal_Uni_algo_HP_dict
from TSB_AD.model_wrapper import run_Semisupervise_AD, run_Unsupervise_AD
from TSB_AD.utils.slidingWindows import find_length_rank

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.detectors import DETECTORS, make_detector, tsbad_adapter
from faultlab.detectors.torchkit import seeded
from faultlab.errors import BadInput

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

TRAIN, TEST, PERIOD = 300, 300, 20


def _dataset(values: np.ndarray, name: str) -> Dataset:
    index = pd.date_range("2026-01-01", periods=len(values), freq="1s", tz="UTC", name="timestamp")
    labels = pd.DataFrame({"anomaly": 0, "fault_type": "", "root_cause": "", "fault_id": ""}, index=index)
    metrics = pd.DataFrame(values, index=index, columns=[f"s{i}:m{i}" for i in range(values.shape[1])])
    return Dataset(metrics=metrics, labels=labels, graph=ServiceGraph([], []), meta={"name": name})


@pytest.fixture(scope="module")
def series():
    """Sine waves of one period (20 steps) with noise; a spike and a level shift in the test part."""
    rng = np.random.default_rng(0)
    t = np.arange(TRAIN + TEST)
    x = np.column_stack([np.sin(2 * np.pi * t / PERIOD + k) + 0.1 * rng.standard_normal(len(t)) for k in range(3)])
    x[TRAIN + 100 : TRAIN + 110, 0] += 3.0
    x[TRAIN + 200 : TRAIN + 240, 1] -= 1.5
    return x[:TRAIN], x[TRAIN:]


def _fit(name: str, train: np.ndarray, **params):
    return make_detector(name, {"scaler": "none", **params}, seed=0).fit(_dataset(train, "train"))


def _unsupervised(name: str, data: np.ndarray, hp: dict) -> np.ndarray:
    out = run_Unsupervise_AD(name, data, **hp)
    assert isinstance(out, np.ndarray), out  # TSB-AD's wrapper returns the error message as a string
    return out


# ---- the same scores as TSB-AD ------------------------------------------------------------
def test_the_periods_of_the_training_and_test_series_agree(series):
    """TSB-AD derives a periodicity model's window from the series it is given; the adapter from the
    training series. On these series both are the period, so the comparisons below are like for like."""
    train, test = series
    assert find_length_rank(train[:, :1], rank=1) == find_length_rank(test[:, :1], rank=1) == PERIOD


def test_sub_pca_fitted_on_train_gives_tsbads_scores(series):
    train, test = series
    hp = Optimal_Uni_algo_HP_dict["Sub_PCA"]
    det = _fit("tsbad:Sub_PCA", train[:, :1])
    assert det.fitted_on == "train" and not det.sees_test_data
    np.testing.assert_array_equal(det.train_raw_[:, 0], _unsupervised("Sub_PCA", train[:, :1], hp))
    reference = tsbad_adapter._load("PCA").PCA(slidingWindow=PERIOD, n_components=hp["n_components"]).fit(train[:, :1])
    np.testing.assert_array_equal(det.raw_scores(_dataset(test[:, :1], "test"))[:, 0], reference.decision_function(test[:, :1]))


def test_pca_on_the_matrix_gives_tsbads_scores(series):
    train, test = series
    hp = Optimal_Multi_algo_HP_dict["PCA"]
    det = _fit("tsbad:PCA", train)
    np.testing.assert_array_equal(det.train_scores_, _unsupervised("PCA", train, hp))
    reference = tsbad_adapter._load("PCA").PCA(slidingWindow=100, n_components=hp["n_components"]).fit(train)
    np.testing.assert_array_equal(det.score(_dataset(test, "test")), reference.decision_function(test))


def test_poly_fitted_on_the_scored_series_gives_tsbads_scores(series):
    train, test = series
    hp = Optimal_Uni_algo_HP_dict["POLY"]
    det = _fit("tsbad:POLY", train[:, :1])
    assert det.fitted_on == "test" and det.sees_test_data and "sees_test_data" in det.__doc__
    np.testing.assert_array_equal(det.train_raw_[:, 0], _unsupervised("POLY", train[:, :1], hp))
    np.testing.assert_array_equal(det.raw_scores(_dataset(test[:, :1], "test"))[:, 0], _unsupervised("POLY", test[:, :1], hp))


def test_iforest_fitted_on_the_scored_matrix_gives_tsbads_scores(series):
    train, test = series
    hp = {**Optimal_Multi_algo_HP_dict["IForest"], "slidingWindow": 10}
    det = _fit("tsbad:IForest", train, slidingWindow=10)
    np.testing.assert_array_equal(det.score(_dataset(test, "test")), _unsupervised("IForest", test, hp))


@pytest.mark.parametrize(("name", "hp"), [
    ("CNN", {"window_size": 10, "num_channel": [8, 8, 8], "lr": 0.0008}),
    ("AutoEncoder", {"window_size": 10, "hidden_neurons": [8, 4]}),
])
def test_deep_models_give_tsbads_scores_under_the_seed(name, hp, series):
    """Small networks on 160 training steps: run_<Model> trains its own number of epochs (50)."""
    train, test = series[0][:160], series[1][:100]
    det = _fit(f"tsbad:{name}", train, **hp)
    with seeded(0):
        on_test = run_Semisupervise_AD(name, train, test, **hp)
    with seeded(0):
        on_train = run_Semisupervise_AD(name, train, train, **hp)
    np.testing.assert_array_equal(det.score(_dataset(test, "test")), on_test)
    np.testing.assert_array_equal(det.train_scores_, on_train)


# ---- the adapter's protocol ---------------------------------------------------------------
def test_defaults_are_tsbads_tuned_hyper_parameters():
    for name, spec in tsbad_adapter.MODELS.items():
        if f"tsbad:{name}" not in DETECTORS:
            continue
        tuned = (Optimal_Multi_algo_HP_dict if spec.multivariate else Optimal_Uni_algo_HP_dict).get(name, {})
        params = DETECTORS.get(f"tsbad:{name}")().get_params()
        assert {k: params[k] for k in tuned if k in params} == {k: v for k, v in tuned.items() if k in params}, name


def test_parameters_are_typed_and_unknown_ones_refused():
    assert make_detector("tsbad:PCA", {"n_components": 0.5}).get_params()["n_components"] == 0.5
    assert make_detector("tsbad:IForest", {"max_features": 1}).get_params()["max_features"] == 1  # an int stays a count
    with pytest.raises(BadInput, match="unknown parameter 'n_bins'"):
        make_detector("tsbad:PCA", {"n_bins": 3})
    with pytest.raises(BadInput, match="parameter 'kernel'"):
        make_detector("tsbad:OCSVM", {"kernel": "cubic"})
    with pytest.raises(BadInput, match="parameter 'periodicity'"):
        make_detector("tsbad:POLY", {"periodicity": 9})
    assert make_detector("tsbad:CNN", {"epochs": 2}).get_params()["epochs"] == 2


def test_per_series_models_take_the_largest_normalised_score_and_skip_constant_series(series):
    train, test = series
    flat = np.column_stack([train, np.full(TRAIN, 5.0)])  # the last series is constant in training
    det = make_detector("tsbad:Sub_PCA", {"max_series": 2}, seed=0).fit(_dataset(flat, "train"))
    scaled = det.scaler_.transform(flat)
    assert list(det.series_) == sorted(np.argsort(-scaled[:, :3].var(axis=0))[:2])  # the constant one never
    data = _dataset(np.column_stack([test, np.full(TEST, 9.0)]), "test")
    raw = det.raw_scores(data)
    assert raw.shape == (TEST, 2)
    expected = ((raw - np.median(det.train_raw_, axis=0)) / det.normaliser_.scale_).max(axis=1)
    np.testing.assert_allclose(det.score(data), expected)


def test_a_series_the_model_fails_on_is_left_out_and_counted(series, monkeypatch):
    """One series breaking a univariate model does not take the others down; every series failing does."""
    train, test = series
    shifted = train.copy()
    shifted[:, 2] += 100.0
    real = tsbad_adapter.run_model

    def fails_far_from_zero(name, hp, data, init=None, window=None):
        if abs(float(np.mean(data))) > 50:
            raise ValueError("synthetic failure")
        return real(name, hp, data, init, window)

    monkeypatch.setattr(tsbad_adapter, "run_model", fails_far_from_zero)
    det = _fit("tsbad:POLY", shifted)
    assert list(det.series_) == [0, 1] and list(det.skipped_series_) == ["s2:m2"]
    assert "synthetic failure" in det.skipped_series_["s2:m2"]
    assert det.info_ == {"sees_test_data": 1.0, "series_used": 2.0, "series_skipped": 1.0, "series_failed_scoring": 0.0}
    late = test.copy()
    late[:, 1] += 100.0  # fails when scored: that series has no say, the other still scores
    scores = det.score(_dataset(late, "test"))
    assert np.isfinite(scores).all() and list(det.scoring_failures_) == ["s1:m1"]
    np.testing.assert_allclose(scores, (det.raw_scores(_dataset(late, "test"))[:, 0] - np.median(det.train_raw_[:, 0]))
                               / det.normaliser_.scale_[0])
    with pytest.raises(BadInput, match="failed on every series of 'train'; the first: .*synthetic failure"):
        _fit("tsbad:POLY", train + 100.0)


def test_the_threshold_is_the_training_quantile(series):
    det = make_detector("tsbad:PCA", {"threshold_quantile": 0.9}, seed=0).fit(_dataset(series[0], "train"))
    assert det.threshold_ == pytest.approx(np.quantile(det.train_scores_, 0.9))


def test_a_model_that_cannot_run_on_the_data_is_bad_input_naming_it(series):
    with pytest.raises(BadInput, match=r"tsbad:MatrixProfile.*TSB-AD's MatrixProfile failed on 'train', series 's0:m0'"):
        _fit("tsbad:MatrixProfile", series[0][:, :1], window=2)
    with pytest.raises(BadInput, match="it needs at least 496"):  # FITS validates on the last 20 %: a window must fit
        _fit("tsbad:FITS", series[0])


def test_unavailable_models_are_listed_with_the_reason():
    missing = tsbad_adapter.UNAVAILABLE_DETECTORS
    assert "weights" in missing["tsbad:Chronos"] and "weights" in missing["tsbad:MOMENT_ZS"]
    assert "cuda" in missing["tsbad:AnomalyTransformer"].lower()
    assert not set(missing) & set(DETECTORS.names())
    listed = {f"tsbad:{n}" for n in [*tsbad_adapter.MODELS, *tsbad_adapter.NOT_ADAPTED]}
    assert listed == set(missing) | {n for n in DETECTORS.names() if n.startswith("tsbad:")}


def test_missing_tsbad_is_a_clear_message(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "TSB_AD" else real(name, *a))
    with pytest.raises(BadInput, match=r"needs TSB-AD, which is not installed: pip install --no-deps tsb-ad"):
        make_detector("tsbad:PCA")
