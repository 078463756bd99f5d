"""PyOD detectors through the Detector interface: fit, score, seed, save/load, parameters."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pyod  # noqa: F401  the pyod extra, which scripts/setup.sh installs: missing is a broken set-up, not a skip
import pytest

from faultlab.detectors import (
    DETECTORS,
    Detector,
    make_detector,
    pyod_adapter,
)
from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.datasets.synthetic import generate

THREE = ["pyod:ECOD", "pyod:LOF", "pyod:IForest"]


@pytest.fixture(scope="module")
def split():
    data = generate(seed=5, train_steps=250, faults_per_type=1, fault_steps=(20, 30), gap_steps=(20, 30))
    return data.train(), data.test()


def test_every_supported_class_is_registered():
    assert {f"pyod:{name}" for name in pyod_adapter.SUPPORTED} <= set(DETECTORS.names())


@pytest.mark.parametrize("name", THREE)
def test_scores_separate_faults_and_repeat_under_the_seed(name, split):
    train, test = split
    det = make_detector(name, seed=3).fit(train)
    scores = det.score(test)
    assert scores.shape == (len(test.metrics),) and np.isfinite(scores).all()
    # the faults should score higher than the normal steps on average (a working detector)
    assert scores[test.y == 1].mean() > scores[test.y == 0].mean()
    np.testing.assert_array_equal(make_detector(name, seed=3).fit(train).score(test), scores)


def test_the_seed_reaches_pyod(split):
    train, test = split
    a = make_detector("pyod:IForest", {"n_estimators": 20}, seed=0).fit(train).score(test)
    b = make_detector("pyod:IForest", {"n_estimators": 20}, seed=1).fit(train).score(test)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("name", THREE)
def test_save_load_without_pickle(name, split, tmp_path):
    train, test = split
    det = make_detector(name, {"window": 3}, seed=2).fit(train)
    det.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["arrays.npz", "model.json"]
    assert json.loads((tmp_path / "m" / "model.json").read_text())["params"]["window"] == 3
    again = Detector.load(tmp_path / "m")
    assert again.name == name and again.threshold_ == det.threshold_
    np.testing.assert_array_equal(again.score(test), det.score(test))


def test_pyod_parameters_are_typed_and_bounded():
    assert make_detector("pyod:LOF", {"n_neighbors": 7}).get_params()["n_neighbors"] == 7
    with pytest.raises(BadInput, match="parameter 'n_neighbors'"):
        make_detector("pyod:LOF", {"n_neighbors": 0})
    with pytest.raises(BadInput, match="unknown parameter 'n_bins'"):
        make_detector("pyod:ECOD", {"n_bins": 3})
    with pytest.raises(BadInput, match="parameter 'method'"):
        make_detector("pyod:KNN", {"method": "smallest"})


def test_too_few_samples_for_the_neighbours_is_bad_input(split):
    train, _ = split
    from dataclasses import replace

    tiny = replace(train, metrics=train.metrics.iloc[:10], labels=train.labels.iloc[:10], mask=None)
    with pytest.raises(BadInput, match="n_neighbors=20 needs more than 10 training samples"):
        make_detector("pyod:LOF").fit(tiny)


def test_missing_pyod_is_a_clear_message(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyod" else real(name, *a))
    with pytest.raises(BadInput, match=r"detector 'pyod:ECOD' needs PyOD, which is not installed: pip install 'faultlab\[pyod\]'"):
        make_detector("pyod:ECOD")


def test_listed_by_the_cli(capsys):
    assert main(["list", "detectors"]) == 0
    out = capsys.readouterr().out
    assert "pyod:ECOD" in out and "pyod:AutoEncoder" in out


def test_autoencoder_trains_on_fewer_steps_than_a_batch(split):
    train, test = split
    from dataclasses import replace

    short = replace(train, metrics=train.metrics.iloc[:20], labels=train.labels.iloc[:20], mask=None)
    det = make_detector("pyod:AutoEncoder", {"epoch_num": 2, "hidden_neuron_list": [8], "device": "cpu"}, seed=0).fit(short)
    assert det.get_params()["batch_size"] == 32  # the parameter as given; PyOD gets min(32, samples)
    assert np.isfinite(det.score(test)).all()
