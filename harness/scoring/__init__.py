"""Scoring: pure numpy metrics, each registered by name in :data:`METRICS`.

Importing this package registers every metric; ``METRICS.get("vus_pr")`` returns a
:class:`Metric` whose ``kind`` says how to call it (see :data:`KIND_SIGNATURES`).
"""

from faultlab.harness.scoring.base import KIND_SIGNATURES, METRICS, Metric, MetricKind, f_beta, select_metrics
from faultlab.harness.scoring.classification import (
    accuracy,
    confusion_matrix,
    macro_f1,
    per_class_precision_recall,
)
from faultlab.harness.scoring.detection import (
    alarm_rate,
    pa_f1,
    pa_precision,
    pa_recall,
    point_adjust,
    point_f1,
    point_precision,
    point_recall,
    range_f1,
    range_precision,
    range_recall,
)
from faultlab.harness.scoring.events import (
    detected_event_fraction,
    detection_delays_s,
    false_alarms_per_hour,
    mean_detection_delay_s,
    segment_events,
    segment_runs,
)
from faultlab.harness.scoring.grouping import (
    SeedSummary,
    aggregate_seeds,
    aggregate_table,
    breakdown,
    breakdown_by,
    breakdown_items,
    group_masks,
)
from faultlab.harness.scoring.ranking import OracleF1, best_f1, best_f1_threshold, pr_auc, roc_auc
from faultlab.harness.scoring.rootcause import ac_at_k, avg_at_k
from faultlab.harness.scoring.vus import VusResult, VusWindow, derive_window, vus_per_window, vus_pr, vus_roc

__all__ = [
    "KIND_SIGNATURES",
    "METRICS",
    "Metric",
    "MetricKind",
    "OracleF1",
    "SeedSummary",
    "VusResult",
    "VusWindow",
    "ac_at_k",
    "alarm_rate",
    "accuracy",
    "aggregate_seeds",
    "aggregate_table",
    "avg_at_k",
    "best_f1",
    "best_f1_threshold",
    "breakdown",
    "breakdown_by",
    "breakdown_items",
    "confusion_matrix",
    "derive_window",
    "detected_event_fraction",
    "detection_delays_s",
    "f_beta",
    "false_alarms_per_hour",
    "group_masks",
    "macro_f1",
    "mean_detection_delay_s",
    "pa_f1",
    "pa_precision",
    "pa_recall",
    "per_class_precision_recall",
    "point_adjust",
    "point_f1",
    "point_precision",
    "point_recall",
    "pr_auc",
    "range_f1",
    "range_precision",
    "range_recall",
    "roc_auc",
    "segment_events",
    "segment_runs",
    "select_metrics",
    "vus_per_window",
    "vus_pr",
    "vus_roc",
]
