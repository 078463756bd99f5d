"""Evaluation: detectors x datasets x seeds x metrics -> one tidy table (see :mod:`.grid`)."""

from faultlab.harness.evaluation.grid import evaluate, run_evaluation
from faultlab.harness.evaluation.table import (
    ADJUSTED,
    ALL,
    COLUMNS,
    EVENT_SPLIT,
    FREE,
    ORACLE,
    OWN,
    SEGMENTS,
    SEGMENTS_METRIC,
    Evaluation,
    MethodSpec,
    ScoreTimeline,
    as_specs,
    higher_is_better,
)

__all__ = [
    "ADJUSTED", "ALL", "COLUMNS", "EVENT_SPLIT", "FREE", "ORACLE", "OWN", "SEGMENTS", "SEGMENTS_METRIC",
    "Evaluation", "MethodSpec", "ScoreTimeline", "as_specs", "evaluate", "higher_is_better", "run_evaluation",
]
