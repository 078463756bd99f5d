"""Which Prometheus series become which dataset columns ``"<service>:<metric>"``.

One :class:`MetricSpec` per column family. A spec names a PromQL query, the dataset
metric it becomes, its group (cpu/memory/network/disk/application), its kind and unit:

* ``counter``: the query is a plain selector of raw counter series; the collector turns each
  raw series into a per-second rate client-side (reset-aware) and sums them per service.
  With ``divide_by`` the column is the ratio of two such summed rates (the mean of a
  histogram: rate of ``_sum`` over rate of ``_count``), which is a gauge-like value.
* ``gauge``: the query's values are kept as they are (summed per service when several raw
  series share one, e.g. replicas). Quantiles come from PromQL ``histogram_quantile`` and are
  gauges too.

Grouping features by resource type follows the radiography paper's divide-and-conquer
preprocessing (seed 003, SYRROCA, Sec. III.A).

Memory columns (group ``memory``, bytes), as the field reports them:

* ``memory_bytes``: the **working set**, as Kubernetes/cAdvisor report it
  (``container_memory_working_set_bytes``: cgroup usage minus inactive file cache, floored at 0).
  The default memory series: what detectors read and what the memory faults' effect check
  (``faultlab.injectors.counters``) measures, so ground truth and dataset agree.
* ``rss_bytes``: anonymous memory (the processes' heaps and stacks).
* ``cache_bytes``: page cache charged to the container (files read or written).
* ``memory_usage_bytes``: the raw cgroup usage, page cache included; it drifts up with any I/O
  although the kernel can drop that cache at will, which is why it is not the default.

The testbed's metric names are fixed in ``testbed/README.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from faultlab.dataset import METRIC_GROUPS
from faultlab.errors import BadInput

Kind = Literal["counter", "gauge"]

#: ``{window}`` in a query is replaced by the rate window (a PromQL duration such as ``20s``).
WINDOW = "{window}"


@dataclass(frozen=True)
class MetricSpec:
    """One family of dataset columns and the PromQL that feeds it."""

    metric: str  # dataset metric name; with split_label, a format string with one "{}"
    query: str  # PromQL; a raw selector for counters
    group: str  # one of faultlab.dataset.METRIC_GROUPS
    kind: Kind
    unit: str
    service: str | None = None  # fixed service name; None: read the ``service`` label
    split_label: str | None = None  # one column per value of this label (e.g. dependency)
    divide_by: str | None = None  # counters only: column = rate(query) / rate(divide_by)

    def __post_init__(self) -> None:
        if self.group not in METRIC_GROUPS:
            raise BadInput(f"metric {self.metric!r}: group {self.group!r} is not one of {METRIC_GROUPS}")
        if self.kind not in ("counter", "gauge"):
            raise BadInput(f"metric {self.metric!r}: kind {self.kind!r} is not counter or gauge")
        if self.divide_by is not None and self.kind != "counter":
            raise BadInput(f"metric {self.metric!r}: divide_by needs kind 'counter'")
        if (self.split_label is None) != ("{}" not in self.metric):
            raise BadInput(f"metric {self.metric!r}: a '{{}}' placeholder goes with split_label and only with it")

    @property
    def column_kind(self) -> Kind:
        """The kind recorded in the dataset: a ratio of rates is a gauge-like value."""
        return "gauge" if self.divide_by is not None else self.kind

    def metric_name(self, labels: dict[str, str]) -> str:
        """The dataset metric name for one raw series' labels."""
        if self.split_label is None:
            return self.metric
        return self.metric.format(labels.get(self.split_label, ""))

    def queries(self, window_s: float) -> list[str]:
        """Every PromQL query this spec needs, with the rate window filled in."""
        window = f"{max(int(round(window_s)), 1)}s"
        out = [self.query.replace(WINDOW, window)]
        if self.divide_by is not None:
            out.append(self.divide_by.replace(WINDOW, window))
        return out


def _quantile(q: float, histogram: str, by: str = "service") -> str:
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({histogram}_bucket[{WINDOW}])))"


def _container_specs() -> list[MetricSpec]:
    specs = [
        MetricSpec("cpu_cores", "container_cpu_usage_seconds_total", "cpu", "counter", "cores"),
        MetricSpec("cpu_quota_cores", "container_spec_cpu_quota_cores", "cpu", "gauge", "cores"),
        # the working set (see the module docstring): the default memory series
        MetricSpec("memory_bytes", "container_memory_working_set_bytes", "memory", "gauge", "bytes"),
        MetricSpec("rss_bytes", "container_memory_rss_bytes", "memory", "gauge", "bytes"),
        MetricSpec("cache_bytes", "container_memory_cache_bytes", "memory", "gauge", "bytes"),
        MetricSpec("memory_usage_bytes", "container_memory_usage_bytes", "memory", "gauge", "bytes"),
        MetricSpec("memory_limit_bytes", "container_spec_memory_limit_bytes", "memory", "gauge", "bytes"),
        MetricSpec("processes", "container_processes", "cpu", "gauge", "processes"),
        MetricSpec("disk_read_bytes_per_s", "container_fs_read_bytes_total", "disk", "counter", "bytes/s"),
        MetricSpec("disk_write_bytes_per_s", "container_fs_write_bytes_total", "disk", "counter", "bytes/s"),
    ]
    for direction, short in (("receive", "rx"), ("transmit", "tx")):
        for what in ("bytes", "packets", "dropped", "errors"):
            unit = "bytes/s" if what == "bytes" else "packets/s"
            specs.append(
                MetricSpec(
                    f"{short}_{what}_per_s",
                    f"container_network_{direction}_{what}_total",
                    "network",
                    "counter",
                    unit,
                )
            )
    # packet loss shows here, not in the interface counters: TCP resends what was dropped
    specs.append(MetricSpec("tcp_retrans_per_s", "container_network_tcp_retransmitted_segments_total", "network",
                            "counter", "segments/s"))
    return specs


def _application_specs() -> list[MetricSpec]:
    latency = "http_request_duration_seconds"
    dep_latency = "dependency_request_duration_seconds"
    return [
        MetricSpec("request_rate", "http_requests_total", "application", "counter", "requests/s"),
        MetricSpec("error_rate", "http_request_errors_total", "application", "counter", "requests/s"),
        MetricSpec("in_flight", "http_requests_in_flight", "application", "gauge", "requests"),
        MetricSpec(
            "latency_mean_s", f"{latency}_sum", "application", "counter", "s", divide_by=f"{latency}_count"
        ),
        MetricSpec("latency_p50_s", _quantile(0.5, latency), "application", "gauge", "s"),
        MetricSpec("latency_p95_s", _quantile(0.95, latency), "application", "gauge", "s"),
        MetricSpec("latency_p99_s", _quantile(0.99, latency), "application", "gauge", "s"),
        MetricSpec(
            "calls_to_{}_per_s",
            "dependency_requests_total",
            "application",
            "counter",
            "requests/s",
            split_label="dependency",
        ),
        MetricSpec(
            "calls_to_{}_latency_mean_s",
            f"{dep_latency}_sum",
            "application",
            "counter",
            "s",
            split_label="dependency",
            divide_by=f"{dep_latency}_count",
        ),
    ]


def _locust_specs() -> list[MetricSpec]:
    """Client-side view from the load generator, under service ``locust``."""
    specs = [
        MetricSpec("users", "locust_users", "application", "gauge", "users", service="locust"),
        MetricSpec("request_rate", "locust_requests_total", "application", "counter", "requests/s", service="locust"),
        MetricSpec("error_rate", "locust_failures_total", "application", "counter", "requests/s", service="locust"),
    ]
    for q in ("0.5", "0.95", "0.99"):
        pct = q.split(".")[1].ljust(2, "0")
        specs.append(
            MetricSpec(
                f"response_time_p{pct}_s",
                f'locust_response_time_seconds{{quantile="{q}"}}',
                "application",
                "gauge",
                "s",
                service="locust",
            )
        )
    return specs


def _host_specs() -> list[MetricSpec]:
    """Node-exporter basics for the machine everything shares, under service ``host``."""
    no_lo = 'device!="lo"'
    return [
        MetricSpec("cpu_busy_cores", 'node_cpu_seconds_total{mode!="idle"}', "cpu", "counter", "cores", service="host"),
        MetricSpec("load1", "node_load1", "cpu", "gauge", "processes", service="host"),
        MetricSpec(
            "memory_used_bytes",
            "node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes",
            "memory",
            "gauge",
            "bytes",
            service="host",
        ),
        MetricSpec(
            "rx_bytes_per_s", f"node_network_receive_bytes_total{{{no_lo}}}", "network", "counter", "bytes/s", service="host"
        ),
        MetricSpec(
            "tx_bytes_per_s", f"node_network_transmit_bytes_total{{{no_lo}}}", "network", "counter", "bytes/s", service="host"
        ),
        MetricSpec("disk_read_bytes_per_s", "node_disk_read_bytes_total", "disk", "counter", "bytes/s", service="host"),
        MetricSpec("disk_write_bytes_per_s", "node_disk_written_bytes_total", "disk", "counter", "bytes/s", service="host"),
    ]


#: The default catalogue for the testbed (see ``testbed/README.md``).
CATALOG: tuple[MetricSpec, ...] = (
    *_container_specs(),
    *_application_specs(),
    *_locust_specs(),
    *_host_specs(),
)


def select(groups: Iterable[str] | None = None, catalog: Sequence[MetricSpec] = CATALOG) -> list[MetricSpec]:
    """The specs of the chosen groups (all groups when ``groups`` is None), in catalogue order."""
    if groups is None:
        return list(catalog)
    wanted = list(groups)
    unknown = [g for g in wanted if g not in METRIC_GROUPS]
    if unknown:
        raise BadInput(f"metric group(s) {unknown} unknown; choose from {list(METRIC_GROUPS)}")
    return [spec for spec in catalog if spec.group in wanted]
