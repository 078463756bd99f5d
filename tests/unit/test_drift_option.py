"""The one drift-handling option every detector takes (``drift``, ``drift_median_s``): gauges minus
their trailing median, fitted on training data only, causal at scoring time, saved with the model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.detectors import DETECTORS, Detector, make_detector
from faultlab.errors import BadInput
from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.evaluation.bench import parse_params, with_params
from faultlab.harness.evaluation.table import MethodSpec

DRIFT = {"drift": "trailing_median", "drift_median_s": 300.0}


@pytest.fixture(scope="module")
def data():
    return generate(seed=3, train_steps=300, faults_per_type=1, fault_steps=(20, 30), gap_steps=(20, 30))


@pytest.mark.parametrize("name", DETECTORS.names())
def test_every_detector_takes_the_option_and_names_it_in_its_label(name):
    det = make_detector(name, {"drift": "trailing_median"})
    assert det.get_params()["drift"] == "trailing_median" and "drift" not in make_detector(name).get_params()
    with pytest.raises(BadInput, match="'drift'"):
        make_detector(name, {"drift": "mean"})
    with pytest.raises(BadInput, match="drift_median_s"):
        make_detector(name, {"drift": "trailing_median", "drift_median_s": 0})


def test_the_command_line_sets_it_on_any_method():
    params = parse_params(["lstm_ae.drift=trailing_median", "zscore.drift=trailing_median", "zscore.drift_median_s=300"])
    (lstm, zscore) = with_params([MethodSpec("lstm_ae"), MethodSpec("zscore")], params)
    assert lstm.label == 'lstm_ae(drift="trailing_median")'
    det = make_detector(zscore.name, zscore.params)
    assert det.drift_median_s == 300.0 and det.params.drift_window_s == 600.0  # zscore's own baseline is its own


@pytest.mark.parametrize("name", ["zscore", "iforest", "static_threshold"])
def test_fitted_on_training_data_causal_and_saved(name, data, tmp_path):
    train, test = data.train(), data.test()
    det = make_detector(name, DRIFT, seed=0).fit(train)
    assert det.drift_ is not None and det.drift_.steps == 60  # 300 s at 5 s
    np.testing.assert_array_equal(det.drift_.columns, det.gauges_)
    np.testing.assert_allclose(det.drift_.start, np.median(det.matrix(train)[:, det.gauges_], axis=0))
    scores = det.score(test)
    assert not np.allclose(scores, make_detector(name, seed=0).fit(train).score(test))
    cut = 200
    prefix = replace(test, metrics=test.metrics.iloc[:cut], labels=test.labels.iloc[:cut])
    np.testing.assert_allclose(det.score(prefix), scores[:cut])  # no step reads a later one
    for t in (10, 120, 199):
        upto = replace(test, metrics=test.metrics.iloc[: t + 1], labels=test.labels.iloc[: t + 1])
        assert det.score_latest(upto) == pytest.approx(scores[t], rel=1e-9)  # live scoring keeps the window
    det.save(tmp_path / "m")
    again = Detector.load(tmp_path / "m")
    assert again.get_params()["drift"] == "trailing_median"
    np.testing.assert_array_equal(again.score(test), scores)


def _levels(shift_at: int, n: int = 600, train: int = 200) -> Dataset:
    """A memory gauge and a request-rate counter under noise; the gauge moves up for good at ``shift_at``."""
    rng = np.random.default_rng(0)
    index = pd.date_range("2026-01-01", periods=n, freq="5s", tz="UTC", name="timestamp")
    memory = 100.0 + rng.normal(0, 1, n)
    memory[shift_at:] += 30.0
    rate = 10.0 + rng.normal(0, 1, n)
    table = [{"name": "s:memory_bytes", "service": "s", "metric": "memory_bytes", "group": "memory", "kind": "gauge"},
             {"name": "s:requests_per_s", "service": "s", "metric": "requests_per_s", "group": "application", "kind": "counter"}]
    labels = pd.DataFrame({"anomaly": 0, "fault_type": "", "root_cause": "", "fault_id": ""}, index=index)
    meta = {"name": "levels", "scrape_interval_s": 5.0, "train_end": str(index[train]), "columns": table}
    return Dataset(pd.DataFrame({"s:memory_bytes": memory, "s:requests_per_s": rate}, index=index), labels,
                   ServiceGraph([], []), meta)


def test_a_lasting_gauge_level_is_absorbed_a_new_one_is_seen():
    """zscore without its own baseline: with the option a level kept past half the window stops alarming."""
    data = _levels(shift_at=300)
    own = {"drift_window_s": None, "threshold_mode": "sigma", "aggregate": "max", "level_floor": 0.0}
    test = data.test()
    plain = make_detector("zscore", own).fit(data.train()).predict(test)
    drifting = make_detector("zscore", {**own, **DRIFT}).fit(data.train()).predict(test)
    new, lasting = slice(100, 120), slice(100 + 40, None)  # test steps: the shift is at test step 100; window 60 steps
    assert plain[new].all() and drifting[new].all()  # while it is new, both see it
    assert plain[lasting].mean() == 1.0  # the old normal alarms forever
    assert drifting[lasting].mean() < 0.05  # the new level is the new normal
