"""The metric catalogue: group selection, validation, query templates."""

from __future__ import annotations

import pytest

from faultlab.dataset import METRIC_GROUPS
from faultlab.errors import BadInput
from faultlab.harness.collect.catalog import CATALOG, MetricSpec, select


def test_every_group_has_specs_and_every_spec_a_known_group():
    groups = {spec.group for spec in CATALOG}
    assert groups == set(METRIC_GROUPS)


def test_select_keeps_only_the_chosen_groups_in_catalogue_order():
    chosen = select(["network", "disk"])
    assert chosen and {s.group for s in chosen} == {"network", "disk"}
    positions = [CATALOG.index(s) for s in chosen]
    assert positions == sorted(positions)
    assert select(None) == list(CATALOG)
    assert select([]) == []


def test_select_rejects_unknown_group_by_name():
    with pytest.raises(BadInput, match="gpu"):
        select(["cpu", "gpu"])


def test_catalogue_covers_the_testbed_contract():
    by_query = {(s.service, s.metric): s for s in CATALOG}
    cpu = by_query[(None, "cpu_cores")]
    assert (cpu.query, cpu.kind, cpu.group, cpu.unit) == ("container_cpu_usage_seconds_total", "counter", "cpu", "cores")
    assert by_query[(None, "memory_bytes")].kind == "gauge"
    # memory_bytes is the working set (as Kubernetes/cAdvisor report it); the raw usage and the
    # page cache are columns of their own
    memory = {m: by_query[(None, m)] for m in ("memory_bytes", "rss_bytes", "cache_bytes", "memory_usage_bytes")}
    assert {m: s.query for m, s in memory.items()} == {
        "memory_bytes": "container_memory_working_set_bytes",
        "rss_bytes": "container_memory_rss_bytes",
        "cache_bytes": "container_memory_cache_bytes",
        "memory_usage_bytes": "container_memory_usage_bytes",
    }
    assert all((s.group, s.kind, s.unit) == ("memory", "gauge", "bytes") for s in memory.values())
    assert by_query[(None, "rx_dropped_per_s")].query == "container_network_receive_dropped_total"
    retrans = by_query[(None, "tcp_retrans_per_s")]  # where packet loss shows (not in the NIC's drops)
    assert (retrans.query, retrans.kind, retrans.group) == (
        "container_network_tcp_retransmitted_segments_total", "counter", "network")
    assert by_query[(None, "disk_write_bytes_per_s")].query == "container_fs_write_bytes_total"
    assert by_query[(None, "error_rate")].query == "http_request_errors_total"
    assert by_query[("locust", "users")].query == "locust_users"
    assert by_query[("host", "cpu_busy_cores")].query == 'node_cpu_seconds_total{mode!="idle"}'
    p95 = by_query[(None, "latency_p95_s")]
    assert p95.kind == "gauge"
    assert p95.queries(20) == [
        "histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket[20s])))"
    ]
    mean = by_query[(None, "latency_mean_s")]
    assert mean.queries(20) == ["http_request_duration_seconds_sum", "http_request_duration_seconds_count"]
    assert mean.column_kind == "gauge"


def test_column_names_are_unique_per_service():
    names = [(s.service, s.metric) for s in CATALOG]
    assert len(names) == len(set(names))


def test_split_metric_name_uses_the_label():
    spec = next(s for s in CATALOG if s.split_label == "dependency" and s.divide_by is None)
    assert spec.metric_name({"dependency": "redis", "service": "cart"}) == "calls_to_redis_per_s"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"group": "gpu"}, "group"),
        ({"kind": "histogram"}, "kind"),
        ({"kind": "gauge", "divide_by": "x_count"}, "divide_by"),
        ({"split_label": "dependency"}, "placeholder"),
    ],
)
def test_invalid_spec_is_bad_input(kwargs, field):
    base = {"metric": "m", "query": "q", "group": "cpu", "kind": "counter", "unit": "u"}
    with pytest.raises(BadInput, match=field):
        MetricSpec(**{**base, **kwargs})
