"""Random forest (Breiman 2001) fault-type classifier on per-metric window statistics.

Each window becomes, per metric, its mean, standard deviation, minimum, maximum and slope
(last minus first value): cheap features that separate a CPU hog (level shift in
``cpu_cores``) from a memory leak (steady slope in ``memory_bytes``) without any scaling.

Saving stores the training features and labels; loading refits with the same seed, which
rebuilds the identical forest on the same scikit-learn version (no pickle).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field
from sklearn.ensemble import RandomForestClassifier as _SkRandomForest

from faultlab.detectors.base import Classifier
from faultlab.detectors.params import Params
from faultlab.detectors.registry import CLASSIFIERS


def window_statistics(windows: np.ndarray) -> np.ndarray:
    """``N x (5 * F)`` features: mean, std, min, max, last-first per metric (in that order)."""
    windows = np.asarray(windows, dtype=np.float64)
    return np.concatenate(
        [
            windows.mean(axis=1),
            windows.std(axis=1),
            windows.min(axis=1),
            windows.max(axis=1),
            windows[:, -1, :] - windows[:, 0, :],
        ],
        axis=1,
    )


class RandomForestParams(Params):
    n_estimators: int = Field(200, ge=1, le=5000)
    max_depth: int | None = Field(None, ge=1)
    min_samples_leaf: int = Field(1, ge=1)
    class_weight: Literal["balanced"] | None = "balanced"


@CLASSIFIERS.register("random_forest")
class RandomForest(Classifier):
    """scikit-learn ``RandomForestClassifier`` on :func:`window_statistics`, seeded."""

    Params = RandomForestParams
    params: RandomForestParams

    forest_: _SkRandomForest
    train_features_: np.ndarray
    train_labels_: np.ndarray

    def _fit(self, windows: np.ndarray, labels: np.ndarray) -> None:
        self._fit_features(window_statistics(windows), labels)

    def _fit_features(self, features: np.ndarray, labels: np.ndarray) -> None:
        self.train_features_ = features
        self.train_labels_ = labels.astype(str)
        self.forest_ = _SkRandomForest(
            n_estimators=self.params.n_estimators,
            max_depth=self.params.max_depth,
            min_samples_leaf=self.params.min_samples_leaf,
            class_weight=self.params.class_weight,
            random_state=self.seed,
            n_jobs=1,
        ).fit(features, self.train_labels_)

    def _predict_proba(self, windows: np.ndarray) -> np.ndarray:
        proba = self.forest_.predict_proba(window_statistics(windows))
        # scikit-learn orders columns by its own classes_; map them onto ours.
        out = np.zeros((len(windows), len(self.classes_)))
        index = {c: i for i, c in enumerate(self.classes_)}
        for j, cls in enumerate(self.forest_.classes_):
            out[:, index[str(cls)]] = proba[:, j]
        return out

    def _state(self) -> dict[str, Any]:
        return {"train_features_": self.train_features_, "train_labels_": self.train_labels_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self._fit_features(np.asarray(state["train_features_"]), np.asarray(state["train_labels_"]).astype(str))
