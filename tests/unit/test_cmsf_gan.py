"""cmsf_gan (seed 004 CMSF-GAN): generated windows carry their fault type, and augment() adds them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.ensemble import RandomForestClassifier

from faultlab.detectors import fault_windows
from faultlab.detectors.cmsf_gan import CMSFGAN, augment
from faultlab.errors import BadInput
from tests import multiservice

FAST = {"max_epochs": 150, "channels": 16, "progress_after_s": 1e9}


@pytest.fixture(scope="module")
def real():
    fw = fault_windows(multiservice.make(seed=4), 10, stride=2)
    return fw.windows, fw.labels


@pytest.fixture(scope="module")
def gan(real):
    # One CPU thread: the GAN's samples are repeatable under the seed only at a fixed thread
    # count (with 2 threads one type's samples came out at chance on a 2-core host).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return CMSFGAN(seed=0, **FAST).fit(*real)
    finally:
        torch.set_num_threads(threads)


def test_generated_windows_are_labelled_as_their_type_by_a_classifier_of_real_windows(gan, real):
    windows, labels = real
    forest = RandomForestClassifier(n_estimators=100, random_state=0).fit(windows.reshape(len(windows), -1), labels)
    fake, fake_labels = gan.sample(30)
    assert fake.shape == (30 * len(gan.classes_), *windows.shape[1:])
    predicted = forest.predict(fake.reshape(len(fake), -1))
    chance = 1.0 / len(gan.classes_)
    accuracies = {t: float((predicted[fake_labels == t] == t).mean()) for t in gan.classes_}
    # every type above chance, and clearly so on average (a GAN's exact samples move with the
    # thread count of the CPU kernels, so no single type's margin is pinned)
    assert all(a > chance + 0.1 for a in accuracies.values()), accuracies
    assert np.mean(list(accuracies.values())) > chance + 0.25, accuracies


def test_samples_stay_in_the_range_of_the_real_windows_and_vary(gan, real):
    windows, _ = real
    fake, _ = gan.sample(20)
    lo, hi = windows.min(axis=(0, 1)), windows.max(axis=(0, 1))
    assert np.all(fake >= lo - 1e-6) and np.all(fake <= hi + 1e-6)
    assert fake.std(axis=0).mean() > 0  # not one window repeated


def test_sampling_repeats_under_the_seed(gan):
    a, _ = gan.sample(5, seed=3)
    b, _ = gan.sample(5, seed=3)
    np.testing.assert_array_equal(a, b)


def test_augment_keeps_the_real_windows_first_and_adds_per_class(real):
    windows, labels = real
    out, out_labels = augment(windows, labels, {"per_class": 4, "max_epochs": 2, "channels": 8}, seed=0)
    k = len(set(labels.tolist()))
    assert out.shape[0] == len(windows) + 4 * k
    np.testing.assert_array_equal(out[: len(windows)], windows)
    assert sorted(set(out_labels[len(windows):].tolist())) == sorted(set(labels.tolist()))
    same, _ = augment(windows, labels, {"per_class": 0})
    assert len(same) == len(windows)
    untouched, _ = augment(windows, labels, None)
    assert len(untouched) == len(windows)
    with pytest.raises(BadInput, match="per_class"):
        augment(windows, labels, {"per_class": "many"})


def test_bad_input_is_refused(gan, real):
    windows, labels = real
    with pytest.raises(BadInput, match="not in training"):
        gan.sample(2, ["kill"])
    with pytest.raises(BadInput, match="labels"):
        CMSFGAN().fit(windows, labels[:-1])
    with pytest.raises(BadInput, match="lambda_fm"):
        CMSFGAN(lambda_fm=-1)


def test_classifier_folds_can_be_augmented_through_the_method_params():
    from faultlab.harness.evaluation import run_evaluation
    from faultlab.harness.evaluation.table import MethodSpec

    data = multiservice.make(seed=6)
    plain = MethodSpec("random_forest", {"n_estimators": 10})
    augmented = MethodSpec("random_forest", {"n_estimators": 10, "augment": {"per_class": 5, "max_epochs": 2, "channels": 8}})
    table = run_evaluation(data, detectors=[], classifiers=[plain, augmented], metrics=["accuracy"], floors=False,
                           window_steps=10, folds=2).table
    rows = table[(table["metric"] == "accuracy") & (table["breakdown"] == "all")]
    assert set(rows["model"]) == {plain.label, augmented.label}
    assert rows["value"].notna().all()
    bad = MethodSpec("random_forest", {"augment": {"per_class": "many"}})
    with pytest.raises(BadInput, match="augment"):
        _ = run_evaluation(data, detectors=[], classifiers=[bad], metrics=["accuracy"], floors=False, window_steps=10, folds=2).table
