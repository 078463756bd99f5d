"""Detectors and classifiers: one module per method, registered by name on import.

``make_detector("zscore", {"threshold": 4}, seed=1)`` builds one from scenario parameters;
``DETECTORS`` / ``CLASSIFIERS`` list what exists (``faultlab list detectors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from detectors import iforest, random_forest, static_threshold, zscore  # noqa: F401  (registration)
from detectors.base import Classifier, Detector, Localizer, RootCauseRanking, can_localize
from detectors.registry import CLASSIFIERS, DETECTORS
from detectors.windows import FaultSegment, FaultWindows, fault_segments, fault_windows
from harness.errors import BadInput

__all__ = [
    "CLASSIFIERS",
    "DETECTORS",
    "Classifier",
    "Detector",
    "FaultSegment",
    "FaultWindows",
    "Localizer",
    "RootCauseRanking",
    "can_localize",
    "fault_segments",
    "fault_windows",
    "make_classifier",
    "make_detector",
]


def make_detector(name: str, params: Mapping[str, Any] | None = None, seed: int = 0) -> Detector:
    """A new, unfitted detector; BadInput names an unknown detector or parameter."""
    return DETECTORS.get(name)(seed=seed, **_without_seed(name, params))


def make_classifier(name: str, params: Mapping[str, Any] | None = None, seed: int = 0) -> Classifier:
    """A new, unfitted classifier; BadInput names an unknown classifier or parameter."""
    return CLASSIFIERS.get(name)(seed=seed, **_without_seed(name, params))


def _without_seed(name: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    params = dict(params or {})
    if "seed" in params:
        raise BadInput(f"{name}: 'seed' is set by the run's seeds, not as a parameter")
    return params
