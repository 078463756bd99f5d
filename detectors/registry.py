"""The detector, classifier and localizer registries (kept apart from ``__init__`` to avoid import cycles).

Each method module does ``@DETECTORS.register("name")`` above its class; ``detectors/__init__``
imports every module so that importing ``detectors`` fills both registries.
"""

from __future__ import annotations

from typing import Any

from faultlab.registry import Registry

DETECTORS: Registry[Any] = Registry("detector")
CLASSIFIERS: Registry[Any] = Registry("classifier")
#: Root-cause rankers for labelled fault segments (``detectors/localizers.py``); detectors that are
#: Localizers count as localizers too, under their own names (``faultlab.detectors.localizers.localizer_classes``).
LOCALIZERS: Registry[Any] = Registry("localizer")
