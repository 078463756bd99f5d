"""Isolation Forest (Liu, Ting & Zhou, ICDM 2008) on scaled, optionally windowed metrics.

Anomalies are few and different, so random axis-parallel splits isolate them in fewer steps;
the score is scikit-learn's ``-score_samples`` (higher = more anomalous). With ``window > 1``
each sample is the flattened last ``window`` steps, and its score goes to the window's last
step (first ``window-1`` steps padded, see :func:`faultlab.detectors.preprocess.window_scores_to_steps`).

Scale floors do not apply here: the forest splits each feature uniformly between its training
minimum and maximum, so it is invariant to any per-series scaling, and a series constant in
training offers no split at all. Leaving a constant is therefore invisible to this detector
(by construction, not by accident); ``zscore`` scores it with its level floor.

Saving stores the (small) training matrix instead of pickling the forest; loading refits with
the same seed, which rebuilds the identical forest on the same scikit-learn version.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field
from sklearn.ensemble import IsolationForest as _SkIsolationForest

from faultlab.dataset import Dataset
from faultlab.detectors.base import Detector
from faultlab.detectors.params import Params
from faultlab.detectors.preprocess import Scaler, fit_scaler, window_scores_to_steps, windows_or_fail
from faultlab.detectors.registry import DETECTORS


class IForestParams(Params):
    n_estimators: int = Field(100, ge=1, le=5000)
    max_samples: int | None = Field(256, ge=2, description="samples per tree; None = scikit-learn's 'auto'")
    window: int = Field(1, ge=1, le=500, description="steps per sample (flattened)")
    scaler: Literal["minmax", "robust"] = "robust"
    contamination: float | None = Field(None, gt=0, lt=0.5, description="expected anomalous share of training steps")
    threshold_quantile: float = Field(0.99, gt=0, le=1, description="used when contamination is not set")


@DETECTORS.register("iforest")
class IForest(Detector):
    """scikit-learn ``IsolationForest`` with a seeded ``random_state`` and a training-quantile threshold."""

    Params = IForestParams
    params: IForestParams

    min_train_steps = 20  # isolation depths over fewer samples say little

    scaler_: Scaler
    forest_: _SkIsolationForest
    train_values_: np.ndarray

    def _fit(self, train: Dataset) -> None:
        self._fit_values(self.matrix(train))

    def _fit_values(self, values: np.ndarray) -> None:
        self.train_values_ = values.astype(np.float64)
        self.scaler_ = fit_scaler(self.params.scaler, values)
        samples = self._samples(values)
        max_samples: int | str = "auto" if self.params.max_samples is None else min(self.params.max_samples, len(samples))
        self.forest_ = _SkIsolationForest(
            n_estimators=self.params.n_estimators,
            max_samples=max_samples,
            random_state=self.seed,
            n_jobs=1,
        ).fit(samples)

    def _samples(self, values: np.ndarray) -> np.ndarray:
        scaled = self.scaler_.transform(values)
        windows = windows_or_fail(scaled, self.params.window, f"detector {self.name!r}")
        return windows.reshape(windows.shape[0], -1)

    def _score(self, data: Dataset) -> np.ndarray:
        values = self.matrix(data)
        window_scores = -self.forest_.score_samples(self._samples(values))
        return window_scores_to_steps(window_scores, self.params.window, len(values))

    def _state(self) -> dict[str, Any]:
        return {"train_values_": self.train_values_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self._fit_values(np.asarray(state["train_values_"], dtype=np.float64))
