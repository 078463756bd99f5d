"""Fitted models for ``faultlab watch``: saved with their stream settings, by a run or by ``bench --save-models``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from faultlab.detectors import make_detector
from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.evaluation.bench import plan_bench
from faultlab.harness.evaluation.table import MethodSpec, as_specs
from faultlab.harness.evaluation.tasks import Task, plan_tasks, run_task
from faultlab.harness.live.models import STREAM_FILE, load_model, model_dir_name, save_model


@pytest.fixture(scope="module")
def small():
    return generate(seed=2, train_steps=150, faults_per_type=1, fault_steps=(10, 20), gap_steps=(10, 20))


def test_a_saved_model_loads_with_its_stream_settings(small, tmp_path):
    detector = make_detector("zscore", {"threshold": 4}, seed=0).fit(small.train())
    save_model(detector, tmp_path / "m", step_s=2.0, label="zscore(threshold=4)", dataset=small.name)
    loaded, info = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.score(small.test()), detector.score(small.test()))
    assert info["scrape_interval_s"] == 2.0 and info["label"] == "zscore(threshold=4)"
    assert info["history_steps"] == detector.history_steps and info["groups"]
    with pytest.raises(BadInput, match="no such model folder"):
        load_model(tmp_path / "nothing")


def test_model_folders_are_named_from_labels():
    assert model_dir_name('lstm_ae(hidden_units=8, window=5)') == "lstm_ae_hidden_units_8_window_5"
    assert model_dir_name("pyod:ECOD") == "pyod_ECOD"


def test_save_models_marks_the_first_seed_of_each_detector_only(small, tmp_path):
    tasks = plan_tasks([small], as_specs(["zscore", "random"], [0, 1]), as_specs(["random_forest"], [0]),
                       save_models=tmp_path)
    saved = [(t.kind, t.spec.name, t.seed) for t in tasks if t.save_model]
    assert saved == [("detector", "zscore", 0)]  # not the second seed, not the floor, not the classifier
    assert tasks[0].save_model == str(tmp_path / small.name / "zscore")


def test_a_task_with_save_model_writes_the_model_it_evaluated(small, tmp_path):
    task = Task("detector", MethodSpec("zscore", {"threshold": 4}), small.name, 0, True, str(tmp_path / "z"))
    evaluation = run_task(small, task, ["f1"], {})
    loaded, info = load_model(tmp_path / "z")
    again = make_detector("zscore", {"threshold": 4}, seed=0).fit(small.train())
    np.testing.assert_array_equal(loaded.score(small.test()), again.score(small.test()))
    assert info["dataset"] == small.name and not evaluation.table.empty


def test_resume_reruns_a_finished_task_whose_model_is_missing(small, tmp_path):
    plan = plan_bench([small], ["zscore"], (), (), [0], ["f1"], floors=False, out=tmp_path / "b", save_models=tmp_path / "m")
    [planned] = plan.tasks
    assert planned.task.save_model and not planned.done


def test_bench_save_models_from_the_command_line(tmp_path):
    code = main(["bench", "--dataset", "synthetic", "--detectors", "zscore", "--classifiers", "none", "--no-floors",
                 "--metrics", "f1", "--out", str(tmp_path / "out"), "--save-models", str(tmp_path / "models")])
    assert code == 0
    folder = tmp_path / "models" / "synthetic" / "zscore"
    assert (folder / "model.json").is_file() and json.loads((folder / STREAM_FILE).read_text())["scrape_interval_s"] == 5.0
