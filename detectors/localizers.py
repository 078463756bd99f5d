"""Root-cause localizers: rank suspects for a labelled fault segment, apart from detection.

A localizer is given a dataset, a fault segment ``(start, end)`` (step indices, end exclusive)
and, as its "normal" period, the fault-free steps just before the segment; it returns a
:class:`~faultlab.detectors.base.RootCauseRanking` (services, and metric columns where the
method ranks them). This is the protocol of RCAEval (Pham et al., WWW 2025 companion): every
method sees the same segment and the same normal data, so AC@k compares ranking alone.

Two kinds, one interface (``fit`` on the train part, ``localize`` per segment, ``repeats``):

- :class:`SegmentLocalizer` subclasses registered with ``@LOCALIZERS.register("name")``
  (``random``, ``cpu_change`` in ``rankers.py``; ``call_graph`` in ``call_graph.py``;
  ``rcaeval:<method>`` in ``rcaeval_adapter.py``);
- every detector that is a :class:`~faultlab.detectors.base.Localizer` (``zscore``, ...), by its
  own name: :class:`DetectorAsLocalizer` fits it on the dataset's fault-free train part and
  calls its ``localize`` on the segment. They are found when asked (:func:`localizer_classes`,
  :func:`localizer_class`), so a new detector needs no second registration.

Scores are the method's own (higher = more suspicious). Root-cause scoring restricts the
ranking to ``Dataset.candidates``; a localizer may use context services' series as evidence.
A localizer that lacks the series it needs says so (BadInput naming it, the dataset and what is
missing) instead of ranking on no evidence.

The harness also asks the user's question, "from the alarm" (``harness/evaluation/segment_scores.py``):
a detector-localizer starts at its own first alarm inside a fault, a segment localizer at the first
alarm of its ``trigger`` detector (default :data:`TRIGGER`), and analyses ``analysis_steps`` steps
from there (default :data:`ANALYSIS_STEPS`), on data cut after them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from faultlab.dataset import Dataset
from faultlab.detectors.base import Detector, Localizer, RootCauseRanking, rank_segments
from faultlab.detectors.params import Params, build_params, check_seed
from faultlab.detectors.registry import DETECTORS, LOCALIZERS
from faultlab.errors import BadInput

Ranked = list[tuple[str, float]]


#: Steps a localizer analyses from an alarm on, the alarm's included (from-alarm protocol; fewer when the fault ends sooner)
ANALYSIS_STEPS = 10
#: The detector whose alarms start a segment localizer's from-alarm localization, unless ``trigger`` names another
TRIGGER = "zscore"


class LocalizerParams(Params):
    normal_steps: int = Field(120, ge=2, description="at most this many fault-free steps before the segment are the normal period")
    trigger: str = Field(TRIGGER, description="detector whose first alarm inside a fault starts the from-alarm localization")
    analysis_steps: int = Field(ANALYSIS_STEPS, ge=1, description="from-alarm: steps analysed from the alarm on (it included)")

    @field_validator("trigger")
    @classmethod
    def _known_detector(cls, name: str) -> str:
        if name not in DETECTORS:
            raise ValueError(f"names no detector; valid: {', '.join(DETECTORS.names())}")
        return name


class SegmentLocalizer(ABC):
    """Ranks root causes of each labelled segment against the normal period before it.

    The base of every registered localizer: subclasses implement :meth:`_rank` and may
    override :meth:`check` (what the method needs of the data) and :meth:`fit` (rankers that
    compare the segment with the data just before it learn nothing in advance). ``repeats`` > 1
    marks a randomised ranker whose AC@k is averaged over that many seeded draws per seed (the
    ``random`` floor).
    """

    name: ClassVar[str] = ""  # set by LOCALIZERS.register
    repeats: ClassVar[int] = 1
    Params: ClassVar[type[Params]] = LocalizerParams
    params: LocalizerParams

    def __init__(self, *, seed: int = 0, **params: Any) -> None:
        owner = f"localizer {self.name!r}"
        self.seed = check_seed(seed, owner)
        self.params = build_params(type(self).Params, params, owner)

    def get_params(self) -> dict[str, Any]:
        return self.params.model_dump(mode="json")

    def fit(self, train: Dataset) -> Self:
        """Learn from the fault-free ``train`` part (nothing by default)."""
        return self

    def check(self, data: Dataset) -> None:  # noqa: B027 -- optional hook, a no-op by default
        """BadInput naming what this method needs when ``data`` lacks it (it needs nothing special by default)."""

    def localize(self, data: Dataset, segments: Sequence[tuple[int, int]]) -> list[RootCauseRanking]:
        """One ranking per segment ``(start, end)`` of ``data`` (end exclusive)."""
        self.check(data)
        return rank_segments(
            data, segments, lambda start, end: self._rank(data, normal_steps(data, start, self.params.normal_steps), start, end)
        )

    @abstractmethod
    def _rank(self, data: Dataset, normal: np.ndarray, start: int, end: int) -> tuple[Ranked, Ranked]:
        """``(service, score)`` and ``(metric column, score)`` pairs, most suspicious first.

        ``normal`` holds the step indices of the normal period (fault-free, before ``start``).
        """


class DetectorAsLocalizer:
    """A detector that can localize, used as a localizer: fitted on the train part, its ``localize`` per segment.

    ``DetectorAsLocalizer("zscore", seed=1, threshold=4)`` takes the detector's own name,
    parameters and seed; it offers what a :class:`SegmentLocalizer` offers the harness.
    """

    repeats: ClassVar[int] = 1

    def __init__(self, detector: str, *, seed: int = 0, **params: Any) -> None:
        self.name = detector
        self.seed = check_seed(seed, f"localizer {detector!r}")
        kind = DETECTORS.get(detector)
        if not _localizes(kind):
            raise BadInput(f"detector {detector!r} cannot rank root causes; localizers: {', '.join(localizer_classes())}")
        self.detector: Detector = kind(seed=seed, **params)
        self.params = self.detector.params

    def get_params(self) -> dict[str, Any]:
        return self.detector.get_params()

    def fit(self, train: Dataset) -> Self:
        self.detector.fit(train)
        return self

    def localize(self, data: Dataset, segments: Sequence[tuple[int, int]]) -> list[RootCauseRanking]:
        assert isinstance(self.detector, Localizer)
        return self.detector.localize(data, list(segments))


AnyLocalizer = SegmentLocalizer | DetectorAsLocalizer


def _localizes(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Localizer)


def localizer_classes() -> dict[str, type]:
    """Every localizer's name -> its class, sorted by name: the ``LOCALIZERS`` classes, and for each
    detector that can localize its detector class (run through :class:`DetectorAsLocalizer`).

    Gathered at call time, so detectors registered after this module are included; a
    registered localizer wins a name clash. ``faultlab list localizers`` shows these.
    """
    found = {name: kind for name, kind in DETECTORS.items() if _localizes(kind)}
    found.update(LOCALIZERS.items())
    return dict(sorted(found.items()))


def localizer_class(name: str) -> type:
    """The class behind localizer ``name`` (see :func:`localizer_classes`); BadInput lists the valid names."""
    classes = localizer_classes()
    if name not in classes:
        raise BadInput(f"unknown localizer {name!r}; valid: {', '.join(classes) or '(none)'}")
    return classes[name]


def localizer_summary(name: str, kind: type) -> str:
    """One line on a localizer (``faultlab list localizers``): its docstring's first line, and
    for a detector, that it runs as a localizer."""
    lines = (kind.__doc__ or "").strip().splitlines()
    first = lines[0].strip() if lines else ""
    return first if name in LOCALIZERS else f"Detector {name!r} as a localizer (fitted on the train part): {first}"


def make_localizer(name: str, params: Mapping[str, Any] | None = None, seed: int = 0) -> AnyLocalizer:
    """A new localizer by name; BadInput names an unknown localizer or parameter."""
    params = dict(params or {})
    if "seed" in params:
        raise BadInput(f"{name}: 'seed' is set by the run's seeds, not as a parameter")
    kind = localizer_class(name)
    return kind(seed=seed, **params) if name in LOCALIZERS else DetectorAsLocalizer(name, seed=seed, **params)


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


def frame_of(data: Dataset, rows: np.ndarray | slice) -> pd.DataFrame:
    """The metric values at ``rows`` as float64 (NaN -> 0; datasets are already gap-filled)."""
    return data.metrics.iloc[rows].astype(np.float64).fillna(0.0)
