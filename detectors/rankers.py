"""Reference rankers: the floors for AC@k, as ``random`` and ``always_alarm`` are for detection.

- ``random``: a seeded random order of the services (AC@k is averaged over ``repeats``
  draws per seed, so the floor is close to its expected value k/|candidates|).
- ``cpu_change``: the largest relative change of a service's CPU use between the normal
  period and the segment (issue 14: a one-line heuristic that any method should beat; on a
  foreign 10-service dataset it beat zscore's AC@1). On data without CPU-use series of the
  candidate services it refuses (BadInput) rather than return the column order as a ranking.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from faultlab.dataset import Dataset
from faultlab.detectors.localizers import Ranked, SegmentLocalizer, frame_of, sort_scores
from faultlab.detectors.registry import LOCALIZERS
from faultlab.errors import BadInput

_TINY = 1e-9


@LOCALIZERS.register("random")
class RandomRanker(SegmentLocalizer):
    """Seeded random ranking of the services (the AC@k floor, averaged over draws)."""

    repeats: ClassVar[int] = 20

    def _rank(self, data: Dataset, normal: np.ndarray, start: int, end: int) -> tuple[Ranked, Ranked]:
        # One stream per (seed, segment), so a segment's draw does not depend on the others.
        rng = np.random.default_rng([self.seed, start, end])
        services = data.services
        order = rng.permutation(len(services))
        return [(services[i], float(len(services) - r)) for r, i in enumerate(order)], []


def cpu_columns(data: Dataset) -> pd.DataFrame:
    """The column table's CPU-use series: group ``cpu``, unit ``cores``, kind ``counter``.

    That excludes CPU quotas (gauges) and process counts. A dataset without units or kinds
    falls back to every column of group ``cpu``.
    """
    cols = data.columns
    cpu = cols[cols["group"] == "cpu"]
    if {"unit", "kind"} <= set(cpu.columns):
        usage = cpu[(cpu["unit"] == "cores") & (cpu["kind"] == "counter")]
        if not usage.empty:
            return usage
    return cpu


@LOCALIZERS.register("cpu_change")
class CpuChange(SegmentLocalizer):
    """Services ranked by the largest relative change of their CPU use, normal period -> segment."""

    def check(self, data: Dataset) -> None:
        """BadInput unless some candidate service has a CPU-use series (else every score would be 0)."""
        owners = set(cpu_columns(data)["service"].astype(str))
        if owners & set(data.candidates):
            return
        found = f"only for {', '.join(sorted(owners))}, none of its candidate services" if owners else "none"
        raise BadInput(f"{self.name} needs CPU-use series (group cpu, unit cores, kind counter); "
                       f"dataset {data.name!r} has {found}")

    def _rank(self, data: Dataset, normal: np.ndarray, start: int, end: int) -> tuple[Ranked, Ranked]:
        cpu = cpu_columns(data)
        names = cpu["name"].astype(str).tolist()
        before = frame_of(data, normal)[names].mean(axis=0).to_numpy()
        during = frame_of(data, slice(start, end))[names].mean(axis=0).to_numpy()
        change = np.abs(during - before) / np.maximum(np.abs(before), _TINY)
        metrics = sort_scores(names, change)
        best = pd.Series(change, index=cpu["service"].astype(str).to_numpy()).groupby(level=0).max()
        services = data.services
        scores = [float(best.get(s, 0.0)) for s in services]  # a service without CPU series: no evidence
        return sort_scores(services, scores), metrics
