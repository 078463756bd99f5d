"""Reference floors: the detectors every leaderboard shows next to the real ones.

NAB publishes a "null" and a "random" detector beside its methods for the same reason: a score
means little until one knows what a strategy without any insight gets on the same labels.

- ``always_alarm`` alarms on every step (constant score 1, threshold 0). Its own-threshold F1 is
  ``2p / (1 + p)`` for an anomalous share ``p``: the F1 no detector should fall below.
- ``random`` gives seeded uniform scores in [0, 1), independent of the data, with the usual
  quantile threshold of its training scores. Its threshold-free scores (ROC-AUC about 0.5,
  PR-AUC and VUS-PR about the anomalous share) are the floor of every ranking metric.

Both ignore the metrics, so they fit and score in microseconds.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from faultlab.dataset import Dataset
from faultlab.detectors.base import Detector
from faultlab.detectors.params import Params
from faultlab.detectors.registry import DETECTORS

#: Names of the reference floors (registered detectors); evaluation adds them unless told not to.
FLOORS = ("always_alarm", "random")


def is_floor(model: str) -> bool:
    """True for a floor's name or table label (``random`` or ``random(threshold_quantile=0.9)``)."""
    return model.split("(", 1)[0] in FLOORS


def scored_detectors() -> list[str]:
    """Every registered detector but the floors: what ``bench``, ``check`` and ``compare`` score
    by default (evaluation adds the floors itself unless told not to)."""
    return [n for n in DETECTORS.names() if not is_floor(n)]


@DETECTORS.register("always_alarm")
class AlwaysAlarm(Detector):
    """Alarm on every step: the floor of threshold-based metrics (F1, recall, detection delay)."""

    family: ClassVar[str] = "floor"
    #: metrics that mean nothing for a detector that never stops alarming (n/a on the board, with this reason)
    undefined_metrics: ClassVar[dict[str, str]] = {
        "false_alarms_per_h": "always_alarm raises one alarm that never ends, so it has no false-alarm events to count",
        "mean_delay_s": "always_alarm is already alarming when a fault starts, so a detection delay means nothing for it",
    }

    def _fit(self, train: Dataset) -> None:
        pass

    def _score(self, data: Dataset) -> np.ndarray:
        return np.ones(len(data.metrics), dtype=np.float64)

    def _fit_threshold(self, train_scores: np.ndarray) -> float:
        return 0.0


class RandomParams(Params):
    threshold_quantile: float = Field(0.99, gt=0, lt=1, description="training quantile used as threshold_")


@DETECTORS.register("random")
class RandomScores(Detector):
    """Seeded uniform scores that ignore the data: the floor of threshold-free metrics.

    The generator is seeded from the seed and the first timestamp of the data scored, so the
    same seed gives the same scores and the training and test parts get different draws.
    """

    family: ClassVar[str] = "floor"

    Params = RandomParams
    params: RandomParams

    def _fit(self, train: Dataset) -> None:
        pass

    def _score(self, data: Dataset) -> np.ndarray:
        index = data.timestamps
        start = int(index[0].value % (2**32)) if len(index) else 0
        rng = np.random.default_rng([self.seed, start])
        return rng.random(len(index))
