"""Shared pieces of the deep detectors' test modules: the fitted-once fixtures, the persistence checks, event recall.

Each such module trains one detector once on one synthetic dataset and shares it across its
tests; :func:`fitted_detector_fixtures` builds that fixture pair so a module states only what
differs (detector name, fast params, dataset)::

    data, fitted = fitted_detector_fixtures("attae", FAST, lambda: multiservice.make(seed=2))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from faultlab.dataset import Dataset
from faultlab.detectors import Detector, make_detector


def fitted_detector_fixtures(name: str, params: dict, make_data: Callable[[], Dataset]):
    """The ``(data, fitted)`` module-scoped fixtures, so each detector test module need not restate them.

    Assign them to the module names ``data`` and ``fitted``: pytest finds fixtures by those names.
    ``fitted`` is ``make_detector(name, params, seed=0)`` fitted on ``data.train()``.
    """

    @pytest.fixture(scope="module")
    def data() -> Dataset:
        return make_data()

    @pytest.fixture(scope="module")
    def fitted(data: Dataset):
        return make_detector(name, params, seed=0).fit(data.train())

    return data, fitted


def assert_reloads_identically(fitted: Detector, test: Dataset, path: Path) -> Detector:
    """Saved to ``path`` and loaded back, the detector gives the same scores on ``test``; returns the loaded one."""
    fitted.save(path)
    loaded = Detector.load(path)
    np.testing.assert_array_equal(loaded.score(test), fitted.score(test))
    return loaded


def assert_repeats_and_reloads(fitted: Detector, data: Dataset, name: str, params: dict, path: Path) -> Detector:
    """A second fit with the same name, params and seed 0 scores the same, and so does the saved and loaded one (returned)."""
    test = data.test()
    again = make_detector(name, params, seed=0).fit(data.train())
    np.testing.assert_array_equal(again.score(test), fitted.score(test))
    return assert_reloads_identically(fitted, test, path)


def event_recall(data: Dataset, flags: np.ndarray) -> float:
    """Share of labelled fault events of ``data`` with at least one flagged step inside them."""
    from faultlab.detectors import fault_segments

    return float(np.mean([bool(np.asarray(flags)[s.start : s.end].any()) for s in fault_segments(data)]))
