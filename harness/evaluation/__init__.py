"""Evaluation: detectors x datasets x seeds x metrics -> one tidy table (see :mod:`.grid`)."""

from faultlab.harness.evaluation.grid import run_evaluation
from faultlab.harness.evaluation.table import (
    ADJUSTED,
    ALL,
    COLUMNS,
    EVENT_SPLIT,
    FREE,
    ORACLE,
    OWN,
    REASON,
    SEGMENTS,
    SEGMENTS_METRIC,
    TRAIN_ALARM_RATE,
    Evaluation,
    MethodSpec,
    ScoreTimeline,
    ScoringOptions,
    as_specs,
    higher_is_better,
)

__all__ = [
    "ADJUSTED", "ALL", "COLUMNS", "EVENT_SPLIT", "FREE", "ORACLE", "OWN", "REASON", "SEGMENTS", "SEGMENTS_METRIC",
    "TRAIN_ALARM_RATE", "Evaluation", "MethodSpec", "ScoreTimeline", "ScoringOptions", "as_specs", "higher_is_better", "run_evaluation",
]
