"""The stack from nothing: every service serves load, every container is measured, no target down."""

from __future__ import annotations

import time

import pytest

from faultlab.testbed.lifecycle import ALL_SERVICES, APP_SERVICES, DATABASES, prometheus_targets_down
from faultlab.testbed.smoke import by_service, prom_query

pytestmark = pytest.mark.integration

LOAD_S = 60


@pytest.fixture(scope="module")
def after_load(testbed, testbed_config):
    """Let Locust drive the shop for a minute before looking at Prometheus."""
    time.sleep(LOAD_S)
    return testbed_config


def test_every_service_has_requests(after_load):
    rates = by_service(prom_query(after_load.prometheus_url, f"sum by (service) (rate(http_requests_total[{LOAD_S}s]))"))
    for service in APP_SERVICES:
        assert rates.get(service, 0) > 0, f"{service} has no request rate: {rates}"


def test_every_container_has_cpu_and_memory(after_load):
    url = after_load.prometheus_url
    cpu = by_service(prom_query(url, "sum by (service) (rate(container_cpu_usage_seconds_total[30s]))"))
    mem = by_service(prom_query(url, "sum by (service) (container_memory_working_set_bytes)"))  # dataset memory_bytes
    for service in ALL_SERVICES:
        assert service in cpu, f"no CPU series for {service}"
        assert mem.get(service, 0) > 0, f"no working-set series for {service}"
    for service in APP_SERVICES + DATABASES:
        assert cpu[service] > 0, f"{service} used no CPU under load"


def test_no_scrape_target_down(after_load):
    assert prometheus_targets_down(after_load) == []


def test_dependency_calls_follow_the_graph(after_load):
    """Outbound call counters reproduce the topology's edges (the graph is readable from metrics)."""
    from faultlab.testbed.topology import service_graph

    graph = service_graph()
    result = prom_query(after_load.prometheus_url, f"sum by (service, dependency) (rate(dependency_requests_total[{LOAD_S}s]))")
    seen = {(r["metric"]["service"], r["metric"]["dependency"]) for r in result if float(r["value"][1]) > 0}
    expected = {(e["source"], e["target"]) for e in graph.edges}
    assert seen == expected


def test_load_generator_is_scraped(after_load):
    result = prom_query(after_load.prometheus_url, "locust_requests_per_second")
    assert result and sum(float(r["value"][1]) for r in result) > 0
