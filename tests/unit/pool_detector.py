"""A detector that starts a process pool while it fits (as RCAEval's RUN and TSB-AD's KShapeAD do);
imported by tests/unit/test_worker_children.py as a user's own module would be."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np

from faultlab.dataset import Dataset
from faultlab.detectors.base import Detector
from faultlab.detectors.params import Params
from faultlab.detectors.registry import DETECTORS


def _square(x: float) -> float:
    return x * x


@DETECTORS.register("test_uses_a_pool")
class UsesAPool(Detector):
    Params = Params
    min_train_steps = 10

    def _fit(self, train: Dataset) -> None:
        with mp.get_context("fork").Pool(2) as pool:
            self.scale_ = float(sum(pool.map(_square, [1.0, 2.0])))  # 5.0

    def _score(self, data: Dataset) -> np.ndarray:
        return np.abs(self.matrix(data)).mean(axis=1) * self.scale_
