"""The README's "write your own detector" template is a working detector: fit, score, save, gate."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from faultlab.detectors import DETECTORS, Detector
from faultlab.harness.datasets.synthetic import SyntheticSpec, generate
from tests.repofiles import import_file

PARAMS = {"window": 6, "hidden": 6, "max_epochs": 4, "device": "cpu"}


@pytest.fixture(scope="module")
def template():
    """Import the template file as a user's new module would be (it registers itself)."""
    if "template_graph_ae" not in DETECTORS:
        import_file("docs/detector_template.py", "faultlab_detector_template")
    return DETECTORS.get("template_graph_ae")


@pytest.fixture(scope="module")
def data():
    return generate(SyntheticSpec(name="template-data", train_steps=400, faults_per_type=2, seed=3))


def test_the_template_registers_fits_scores_and_beats_chance(template, data):
    det = template(seed=0, **PARAMS).fit(data.train())
    scores = det.score(data.test())
    assert scores.shape == (len(data.test().metrics),) and np.isfinite(scores).all()
    assert roc_auc_score(data.test().y, scores) > 0.6
    rankings = det.localize(data.test(), [(10, 20)])
    assert rankings[0].services and rankings[0].metrics


def test_the_template_saves_and_loads_to_identical_scores(template, data, tmp_path):
    det = template(seed=1, **PARAMS).fit(data.train())
    loaded = Detector.load(det.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.score(data.test()), det.score(data.test()))
    np.testing.assert_array_equal(template(seed=1, **PARAMS).fit(data.train()).score(data.test()),
                                  det.score(data.test()))  # seeded: the same again


def test_the_template_is_gated_by_check(template, data, tmp_path, monkeypatch):
    """Record a baseline on purpose, then the same code passes its own gate (README, step 2-3)."""
    from faultlab.harness.datasets import index as dataset_index
    from faultlab.harness.gate.check import run_check

    monkeypatch.setitem(dataset_index.DATASETS._items, "template-data", lambda: data)
    baseline = tmp_path / "template.json"
    spec = {"name": "template_graph_ae", "params": PARAMS, "seeds": [0]}
    run_check(baseline, "template-data", update=True, detectors=[spec], classifiers=[])
    assert baseline.exists()
    assert run_check(baseline).passed
