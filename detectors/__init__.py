"""Detectors and classifiers: one module per method, found and registered on import.

``make_detector("zscore", {"threshold": 4}, seed=1)`` builds one from scenario parameters;
``DETECTORS`` / ``CLASSIFIERS`` list what exists (``faultlab list detectors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faultlab.detectors.base import Classifier, Detector, Localizer, RootCauseRanking
from faultlab.detectors.registry import CLASSIFIERS, DETECTORS
from faultlab.detectors.windows import FaultSegment, FaultWindows, fault_segments, fault_windows
from faultlab.errors import BadInput
from faultlab.registry import import_all

# Every module of this package is imported, so each method registers itself: adding a
# detector or classifier is one new file with ``@DETECTORS.register("name")`` above its class.
import_all(__name__, __path__)

__all__ = [
    "CLASSIFIERS",
    "DETECTORS",
    "Classifier",
    "Detector",
    "FaultSegment",
    "FaultWindows",
    "Localizer",
    "RootCauseRanking",
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
