"""Named datasets and ``resolve_dataset``: a name, a dataset folder or a run folder."""

from __future__ import annotations

import pandas as pd
import pytest

from faultlab.errors import BadInput
from faultlab.harness.datasets.index import DATASETS, RECORDED_DIR, resolve_dataset
from faultlab.harness.datasets.synthetic import generate


def test_synthetic_datasets_are_registered_by_name():
    assert {"synthetic", "synthetic-large"} <= set(DATASETS.names())
    small, large = resolve_dataset("synthetic"), resolve_dataset("synthetic-large")
    assert small.name == "synthetic" and large.name == "synthetic-large"
    assert len(large.metrics) > 3 * len(small.metrics)
    assert len(large.meta["faults"]) == 60


def test_every_shipped_recording_is_registered_and_every_registered_recording_ships():
    shipped = {p.name for p in RECORDED_DIR.iterdir() if (p / "meta.json").exists()}
    recorded = set(DATASETS.names()) - {"synthetic", "synthetic-large"}
    assert shipped == recorded
    for name in sorted(recorded):
        assert (RECORDED_DIR / name / "provenance" / "ground_truth.jsonl").exists(), name


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    data = generate(seed=2, faults_per_type=1)
    data.save(root / "2026-01-05T000000Z-demo" / "dataset")
    data.save(root / "plain")
    return root, data


def test_resolve_a_dataset_folder(saved):
    root, data = saved
    loaded = resolve_dataset(root / "plain")
    pd.testing.assert_frame_equal(loaded.metrics, data.metrics, check_index_type=False, check_freq=False)


def test_resolve_a_run_folder(saved):
    root, data = saved
    loaded = resolve_dataset(str(root / "2026-01-05T000000Z-demo"))
    assert loaded.path == root / "2026-01-05T000000Z-demo" / "dataset"
    assert loaded.meta["faults"] == data.meta["faults"]


def test_unknown_name_is_bad_input_naming_it():
    with pytest.raises(BadInput, match="no-such-dataset") as err:
        resolve_dataset("no-such-dataset")
    assert "synthetic" in str(err.value)  # lists what would have worked


def test_existing_folder_that_is_not_a_dataset_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="neither a dataset folder nor a run folder"):
        resolve_dataset(tmp_path)


def test_recorded_quickstart_is_a_real_run_whose_labels_follow_its_journal():
    """The shipped recording: labels re-derived from its own ground truth match, 11 faults, a graph."""
    from faultlab.harness.datasets.index import RECORDED_DIR
    from faultlab.harness.datasets.labels import labels_from_ground_truth, read_ground_truth

    data = resolve_dataset("quickstart-recorded")
    records = read_ground_truth(RECORDED_DIR / "quickstart-recorded" / "provenance" / "ground_truth.jsonl")
    again = labels_from_ground_truth(records, data.labels.index)
    pd.testing.assert_frame_equal(again, data.labels, check_dtype=False)
    assert data.labels.loc[data.labels["anomaly"] == 1, "fault_id"].nunique() == 11
    assert data.train().y.sum() == 0 and len(data.test().metrics) > len(data.train().metrics)
    assert {"gateway", "postgres", "redis"} <= set(data.graph.names)
    assert data.mask is not None and data.mask.shape == data.metrics.shape
