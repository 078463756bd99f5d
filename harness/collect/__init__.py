"""Collection: Prometheus series -> the dataset format (``faultlab.dataset``).

``catalog`` says which series become which columns, ``fetch`` gets them (chunked, concurrent,
retried), ``transform`` turns them into aligned rates and values, ``collector`` puts it together.
"""

from faultlab.harness.collect.catalog import CATALOG, MetricSpec, select
from faultlab.harness.collect.collector import (
    MONITORING_SERVICES,
    CollectedMetrics,
    collect_dataset,
    collect_metrics,
    no_fault_labels,
)

__all__ = [
    "CATALOG",
    "CollectedMetrics",
    "MONITORING_SERVICES",
    "MetricSpec",
    "collect_dataset",
    "collect_metrics",
    "no_fault_labels",
    "select",
]
