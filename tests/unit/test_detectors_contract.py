"""Contract tests run over every registered detector and classifier.

Parametrised from the registries, so a new method is held to the same contract as soon as
it registers: one score per step, determinism under the seed, save/load round trips,
predict == score > threshold_, and BadInput that names a bad parameter.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from faultlab.detectors import CLASSIFIERS, DETECTORS, Classifier, Detector, fault_windows, make_classifier, make_detector
from faultlab.detectors.floors import is_floor
from faultlab.errors import BadInput
from faultlab.harness.datasets.synthetic import generate

#: TSB-AD's models through one adapter: the contract is checked on one model of each kind it
#: handles (the matrix fitted on train, per series fitted on train, fitted on the scored series,
#: online, a network), not on all ~40, which would take most of the unit-test time;
#: tests/unit/test_tsbad_adapter.py covers the adapter itself.
TSBAD_SAMPLE = {"tsbad:PCA", "tsbad:Sub_PCA", "tsbad:POLY", "tsbad:Left_STAMPi", "tsbad:AutoEncoder"}
DETECTOR_NAMES = [n for n in DETECTORS.names() if not n.startswith("tsbad:") or n in TSBAD_SAMPLE]
CLASSIFIER_NAMES = CLASSIFIERS.names()


@pytest.fixture(scope="module")
def data():
    return generate(seed=3, train_steps=300, faults_per_type=1, fault_steps=(20, 30), gap_steps=(20, 30))


@pytest.fixture(scope="module")
def split(data):
    return data.train(), data.test()


def _small(name: str) -> dict:
    """Each method's own CI configuration (``ci_params``: seconds, not minutes) and small forests.

    The contract is about behaviour (shapes, determinism, persistence), not accuracy; defaults
    are exercised by each method's own tests and the recorded leaderboards.
    """
    cls = DETECTORS.get(name) if name in DETECTORS else CLASSIFIERS.get(name)
    forests = {"iforest": {"n_estimators": 20}, "random_forest": {"n_estimators": 20}}
    return {**getattr(cls, "ci_params", {}), **forests.get(name, {})}


def test_registries_hold_the_baselines():
    assert {"static_threshold", "zscore", "iforest"} <= set(DETECTOR_NAMES)
    assert "random_forest" in CLASSIFIER_NAMES


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_score_has_one_finite_float_per_step(name, split):
    train, test = split
    det = make_detector(name, _small(name), seed=0).fit(train)
    scores = det.score(test)
    assert scores.shape == (len(test.metrics),)
    assert scores.dtype == np.float64
    assert np.isfinite(scores).all()
    assert det.train_scores_.shape == (len(train.metrics),)
    assert isinstance(det.threshold_, float)


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_same_seed_same_scores(name, split):
    train, test = split
    a = make_detector(name, _small(name), seed=7).fit(train).score(test)
    b = make_detector(name, _small(name), seed=7).fit(train).score(test)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_save_load_round_trip_gives_identical_scores(name, split, tmp_path):
    train, test = split
    det = make_detector(name, _small(name), seed=1).fit(train)
    det.save(tmp_path / "model")
    assert not list((tmp_path / "model").glob("*.pkl"))
    again = Detector.load(tmp_path / "model")
    assert type(again) is type(det)
    assert again.get_params() == det.get_params() and again.seed == 1
    assert again.threshold_ == det.threshold_
    np.testing.assert_array_equal(again.score(test), det.score(test))
    np.testing.assert_array_equal(again.predict(test), det.predict(test))


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_predict_uses_threshold(name, split):
    train, test = split
    det = make_detector(name, _small(name), seed=0).fit(train)
    scores = det.score(test)
    np.testing.assert_array_equal(det.predict(test), (scores > det.threshold_).astype(np.int8))
    det.threshold_ = float(np.median(scores))  # moving the threshold moves the predictions
    pred = det.predict(test)
    np.testing.assert_array_equal(pred, (scores > det.threshold_).astype(np.int8))
    if not is_floor(name):  # always_alarm's constant score cannot split the steps; every other detector's must
        assert 0 < pred.sum() < len(pred)


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_unknown_param_is_bad_input_naming_it(name):
    with pytest.raises(BadInput, match="bogus_knob"):
        make_detector(name, {"bogus_knob": 1})


@pytest.mark.parametrize("name", [n for n in DETECTOR_NAMES if DETECTORS.get(n).Params.model_fields])
def test_invalid_param_value_is_bad_input_naming_it(name):
    first = list(DETECTORS.get(name).Params.model_fields)[0]
    with pytest.raises(BadInput, match=first):
        make_detector(name, {first: object()})


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_strict_policy_refuses_data_without_the_fitted_columns(name, split):
    train, test = split
    det = make_detector(name, {**_small(name), "series_policy": "strict"}).fit(train)
    dropped = test.metrics.columns[0]
    with pytest.raises(BadInput, match=dropped):
        det.score(replace(test, metrics=test.metrics.drop(columns=[dropped])))


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_default_policy_fills_missing_and_ignores_new_series_with_counts(name, split):
    train, test = split
    det = make_detector(name, _small(name)).fit(train)
    dropped = str(test.metrics.columns[1])
    metrics = test.metrics.drop(columns=[dropped]).assign(**{"newcomer:x": 1.0, "newcomer:y": 2.0})
    table = [r for r in test.meta["columns"] if r["name"] != dropped] + [
        {"name": n, "service": "newcomer", "metric": n[-1]} for n in ("newcomer:x", "newcomer:y")
    ]
    odd = replace(test, metrics=metrics, mask=None, meta={**test.meta, "columns": table})
    scores = det.score(odd)
    assert scores.shape == (len(test.metrics),) and np.isfinite(scores).all()
    assert det.alignment_["missing"] == 1 and det.alignment_["new"] == 2
    assert det.alignment_["missing_columns"] == [dropped] and det.alignment_["policy"] == "fill"
    det.score(test)
    assert det.alignment_["missing"] == 0 and det.alignment_["new"] == 0


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_too_short_training_is_bad_input_naming_dataset_and_length(name, data):
    det = make_detector(name, _small(name))
    one_step = data.train().slice(end=data.timestamps[1])
    with pytest.raises(BadInput, match=rf"{data.name}.*\b1 fault-free step"):
        det.fit(one_step)


def test_series_policy_is_validated_and_saved(split, tmp_path):
    with pytest.raises(BadInput, match="series_policy"):
        make_detector("zscore", {"series_policy": "guess"})
    det = make_detector("zscore", {"series_policy": "strict"}).fit(split[0])
    det.save(tmp_path / "m")
    assert Detector.load(tmp_path / "m").series_policy == "strict"


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_score_before_fit_is_bad_input(name, split):
    with pytest.raises(BadInput, match="not fitted"):
        make_detector(name).score(split[1])


# ---- classifiers ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def windows(data):
    return fault_windows(data, size=10)


@pytest.mark.parametrize("name", CLASSIFIER_NAMES)
def test_classifier_outputs_follow_classes(name, windows):
    clf = make_classifier(name, _small(name), seed=0).fit(windows.windows, windows.labels, columns=windows.columns)
    assert list(clf.classes_) == sorted(set(windows.labels))
    proba = clf.predict_proba(windows.windows)
    assert proba.shape == (len(windows.windows), len(clf.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    pred = clf.predict(windows.windows)
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(axis=1)])


@pytest.mark.parametrize("name", CLASSIFIER_NAMES)
def test_classifier_same_seed_same_output_and_round_trip(name, windows, tmp_path):
    a = make_classifier(name, _small(name), seed=5).fit(windows.windows, windows.labels)
    b = make_classifier(name, _small(name), seed=5).fit(windows.windows, windows.labels)
    np.testing.assert_array_equal(a.predict_proba(windows.windows), b.predict_proba(windows.windows))
    a.save(tmp_path / "clf")
    c = Classifier.load(tmp_path / "clf")
    assert type(c) is type(a) and c.seed == 5
    np.testing.assert_array_equal(c.classes_, a.classes_)
    np.testing.assert_array_equal(c.predict_proba(windows.windows), a.predict_proba(windows.windows))


@pytest.mark.parametrize("name", CLASSIFIER_NAMES)
def test_classifier_bad_params_and_shapes(name, windows):
    with pytest.raises(BadInput, match="bogus_knob"):
        make_classifier(name, {"bogus_knob": 1})
    clf = make_classifier(name, _small(name)).fit(windows.windows, windows.labels)
    with pytest.raises(BadInput, match="windows of 10"):
        clf.predict(windows.windows[:, :5])
    with pytest.raises(BadInput, match="labels"):
        make_classifier(name).fit(windows.windows, windows.labels[:-1])


def test_loading_a_detector_folder_as_a_classifier_is_bad_input(split, tmp_path):
    make_detector("zscore").fit(split[0]).save(tmp_path / "m")
    with pytest.raises(BadInput, match="detector"):
        Classifier.load(tmp_path / "m")


def test_seed_in_params_is_bad_input():
    with pytest.raises(BadInput, match="seed"):
        make_detector("zscore", {"seed": 3})
    with pytest.raises(BadInput, match="seed"):
        make_detector("zscore", seed=-1)
