"""Root-cause localizers: rank suspects for a labelled fault segment, apart from detection.

A localizer is given a dataset, a fault segment ``(start, end)`` (step indices, end exclusive)
and, as its "normal" period, the fault-free steps just before the segment; it returns a
:class:`~faultlab.detectors.base.RootCauseRanking` (services, and metric columns where the
method ranks them). This is the protocol of RCAEval (Pham et al., WWW 2025 companion): every
method sees the same segment and the same normal data, so AC@k compares ranking alone.

Three kinds share the interface (:class:`BaseLocalizer`):

- rankers registered with ``@LOCALIZERS.register("name")`` (``random``, ``cpu_change`` in
  ``rankers.py``; ``rcaeval:<method>`` in ``rcaeval_adapter.py``);
- every detector that is a :class:`~faultlab.detectors.base.Localizer` (``zscore``, ...):
  :class:`DetectorLocalizer` fits it on the dataset's fault-free train part and calls its
  ``localize`` on the segment. They are found when asked (:data:`LOCALIZER_INDEX`), so a new
  detector needs no second registration.

Scores are the method's own (higher = more suspicious). Root-cause scoring restricts the
ranking to ``Dataset.candidates``; a localizer may use context services' series as evidence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from pydantic import Field

from faultlab.dataset import Dataset
from faultlab.detectors.base import Detector, Localizer, RootCauseRanking, rank_segments
from faultlab.detectors.params import Params, build_params, check_seed
from faultlab.detectors.registry import DETECTORS, LOCALIZERS
from faultlab.errors import BadInput
from faultlab.registry import Registry

Ranked = list[tuple[str, float]]


class LocalizerParams(Params):
    normal_steps: int = Field(120, ge=2, description="at most this many fault-free steps before the segment are the normal period")


class BaseLocalizer(ABC):
    """What every localizer offers the harness: ``fit`` (optional) and ``localize`` per segment."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "localizer"
    repeats: ClassVar[int] = 1

    seed: int
    params: Params

    def get_params(self) -> dict[str, Any]:
        return self.params.model_dump(mode="json")

    def fit(self, train: Dataset) -> Self:
        """Learn from the fault-free ``train`` part (nothing by default)."""
        return self

    @abstractmethod
    def localize(self, data: Dataset, segments: Sequence[tuple[int, int]]) -> list[RootCauseRanking]:
        """One ranking per segment ``(start, end)`` of ``data`` (end exclusive)."""


class SegmentLocalizer(BaseLocalizer):
    """Ranks root causes of one labelled segment against the normal period before it.

    Subclasses implement :meth:`_rank`; ``fit`` is optional (rankers that compare the segment
    with the data just before it learn nothing in advance). ``repeats`` > 1 marks a randomised
    ranker whose AC@k is averaged over that many seeded draws per seed (the ``random`` floor).
    """

    Params: ClassVar[type[Params]] = LocalizerParams
    params: LocalizerParams

    def __init__(self, *, seed: int = 0, **params: Any) -> None:
        owner = f"localizer {self.name!r}"
        self.seed = check_seed(seed, owner)
        self.params = build_params(type(self).Params, params, owner)

    def localize(self, data: Dataset, segments: Sequence[tuple[int, int]]) -> list[RootCauseRanking]:
        """One ranking per segment ``(start, end)`` of ``data`` (end exclusive)."""
        return rank_segments(
            data, segments, lambda start, end: self._rank(data, normal_steps(data, start, self.params.normal_steps), start, end)
        )

    @abstractmethod
    def _rank(self, data: Dataset, normal: np.ndarray, start: int, end: int) -> tuple[Ranked, Ranked]:
        """``(service, score)`` and ``(metric column, score)`` pairs, most suspicious first.

        ``normal`` holds the step indices of the normal period (fault-free, before ``start``).
        """


def normal_steps(data: Dataset, start: int, limit: int) -> np.ndarray:
    """Indices of the last ``limit`` fault-free steps before ``start`` (the "normal" period).

    Fault-free: labelled ``anomaly == 0`` and, where the labels have it, not ``recovering``;
    earlier faults are skipped over rather than counted as normal. BadInput when there is none.
    """
    labels = data.labels.iloc[:start]
    quiet = labels["anomaly"].to_numpy() == 0
    if "recovering" in labels:
        quiet &= labels["recovering"].to_numpy() == 0
    found = np.flatnonzero(quiet)[-limit:]
    if len(found) < 2:
        raise BadInput(f"dataset {data.name!r}: fewer than 2 fault-free steps before step {start} to serve as the normal period")
    return found


def services_from_metrics(data: Dataset, metrics: Ranked, rng: np.random.Generator | None = None) -> Ranked:
    """Services ranked by their best-ranked metric column; services with none come last.

    The left-over services follow in a seeded random order (column order would favour
    whichever service happens to come first in the file). A service's score is its best
    metric's score.
    """
    owner = data.service_of()
    best: dict[str, float] = {}
    for column, score in metrics:
        service = owner.get(column)
        if service is not None and service not in best:
            best[service] = float(score)
    rest = [s for s in data.services if s not in best]
    if rng is not None:
        rest = [rest[i] for i in rng.permutation(len(rest))]
    floor = min(best.values(), default=0.0)
    low = floor - 1.0 if np.isfinite(floor) else floor
    return list(best.items()) + [(s, low) for s in rest]


def sort_scores(names: Iterable[str], scores: Iterable[float]) -> Ranked:
    """``(name, score)`` pairs, highest first; NaN lowest; ties keep the given order."""
    pairs = [(str(n), float(s)) for n, s in zip(names, scores)]
    return sorted(pairs, key=lambda kv: -kv[1] if np.isfinite(kv[1]) else np.inf)


# ---- detectors as localizers -------------------------------------------------------------
class DetectorLocalizer(BaseLocalizer):
    """A Localizer detector used as a localizer: fitted on the train part, its ``localize`` per segment."""

    detector_name: ClassVar[str] = ""

    def __init__(self, *, seed: int = 0, **params: Any) -> None:
        self.seed = check_seed(seed, f"localizer {self.name!r}")
        self.detector: Detector = DETECTORS.get(self.detector_name)(seed=seed, **params)
        self.params = self.detector.params

    def get_params(self) -> dict[str, Any]:
        return self.detector.get_params()

    def fit(self, train: Dataset) -> Self:
        self.detector.fit(train)
        return self

    def localize(self, data: Dataset, segments: Sequence[tuple[int, int]]) -> list[RootCauseRanking]:
        assert isinstance(self.detector, Localizer)
        return self.detector.localize(data, list(segments))


@cache
def _wrapper(name: str, detector: type) -> type[DetectorLocalizer]:
    """The localizer class of a Localizer detector (one per name, made on first use)."""
    summary = (detector.__doc__ or "").strip().splitlines()
    doc = f"Detector {name!r} as a localizer (fitted on the train part): {summary[0] if summary else ''}"
    return type(f"{detector.__name__}Localizer", (DetectorLocalizer,),
                {"__doc__": doc, "detector_name": name, "name": name, "Params": detector.Params})


class LocalizerIndex(Registry[type[BaseLocalizer]]):
    """Every localizer by name: the LOCALIZERS registry plus each detector that is a Localizer.

    A read-only :class:`~faultlab.registry.Registry` whose entries are gathered at call time, so
    detectors registered after this module (any file of ``detectors/``) are included.
    Registered localizers win a name clash. ``faultlab list localizers`` shows it.
    """

    def __init__(self) -> None:  # no own entries: register localizers in LOCALIZERS
        self.kind = "localizer"

    @property
    def _items(self) -> dict[str, type[BaseLocalizer]]:  # type: ignore[override]
        found = {name: _wrapper(name, cls) for name, cls in DETECTORS.items()
                 if isinstance(cls, type) and issubclass(cls, Localizer)}
        return {**found, **dict(LOCALIZERS.items())}


LOCALIZER_INDEX = LocalizerIndex()


def make_localizer(name: str, params: Mapping[str, Any] | None = None, seed: int = 0) -> SegmentLocalizer:
    """A new localizer by name; BadInput names an unknown localizer or parameter."""
    params = dict(params or {})
    if "seed" in params:
        raise BadInput(f"{name}: 'seed' is set by the run's seeds, not as a parameter")
    return LOCALIZER_INDEX.get(name)(seed=seed, **params)


def frame_of(data: Dataset, rows: np.ndarray | slice) -> pd.DataFrame:
    """The metric values at ``rows`` as float64 (NaN -> 0; datasets are already gap-filled)."""
    return data.metrics.iloc[rows].astype(np.float64).fillna(0.0)
