"""The container metrics exporter (cAdvisor cannot be pulled here): ``python3 -m app.exporter``.

Runs in its own container with ``pid: host``, the host's ``/sys/fs/cgroup`` read-only at
``/host/sys/fs/cgroup`` and the Docker socket read-only. Lists the running containers of the
compose project over the Engine API (cached a few seconds), reads each one's cgroup and /proc
counters on every scrape (see ``cgroups.py``) and serves the README's ``container_*`` metrics
on ``:9101`` with labels ``service`` and ``container``.

Environment: COMPOSE_PROJECT (faultlab), CGROUP_ROOT (/host/sys/fs/cgroup), PROC_ROOT (/proc),
DOCKER_SOCKET (/var/run/docker.sock), PORT (9101), CONTAINER_CACHE_S (5).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from .cgroups import NET_FIELDS, Layout, detect_layout, read_cgroup_stats, read_network, read_process_io

log = logging.getLogger("container-exporter")
LABELS = ["service", "container"]


@dataclass(frozen=True)
class Container:
    id: str
    name: str  # e.g. "faultlab-gateway-1"
    service: str  # compose service name, e.g. "gateway"


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over the Docker daemon's unix socket (no extra dependency)."""

    def __init__(self, socket_path: str, timeout_s: float = 5.0) -> None:
        super().__init__("localhost", timeout=timeout_s)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def list_project_containers(socket_path: str, project: str) -> list[Container]:
    """Running containers labelled ``com.docker.compose.project=<project>`` (Engine API)."""
    filters = json.dumps({"label": [f"com.docker.compose.project={project}"], "status": ["running"]})
    conn = _UnixHTTPConnection(socket_path)
    try:
        conn.request("GET", "/containers/json?filters=" + urllib.parse.quote(filters))
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise OSError(f"Docker API {socket_path}: HTTP {resp.status}: {body[:200]!r}")
    finally:
        conn.close()
    return parse_container_list(json.loads(body))


def parse_container_list(items: list[dict]) -> list[Container]:
    """Engine API ``/containers/json`` objects -> :class:`Container` (sorted by name)."""
    out = []
    for item in items:
        labels = item.get("Labels") or {}
        names = item.get("Names") or [item["Id"][:12]]
        out.append(
            Container(
                id=item["Id"],
                name=names[0].lstrip("/"),
                service=labels.get("com.docker.compose.service", names[0].lstrip("/")),
            )
        )
    return sorted(out, key=lambda c: c.name)


class ContainerCollector(Collector):
    """A prometheus_client collector that reads every container's counters at scrape time."""

    def __init__(
        self,
        layout: Layout,
        list_containers: Callable[[], list[Container]],
        proc_root: str | Path = "/proc",
        cache_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.layout = layout
        self.list_containers = list_containers
        self.proc_root = Path(proc_root)
        self.cache_s = cache_s
        self.clock = clock
        self._cached: list[Container] = []
        self._cached_at = float("-inf")

    def containers(self) -> list[Container]:
        """The container list, refreshed at most every ``cache_s``; the last good one on errors."""
        now = self.clock()
        if now - self._cached_at >= self.cache_s:
            try:
                self._cached = self.list_containers()
                self._cached_at = now
            except (OSError, ValueError) as exc:
                log.warning("cannot list containers: %s", exc)
        return self._cached

    def collect(self) -> Iterator[Metric]:
        fam = _Families()
        for c in self.containers():
            stats = read_cgroup_stats(self.layout, c.id)
            if stats is None:  # stopped since the list was cached
                continue
            labels = [c.service, c.name]
            fam.cpu.add_metric(labels, stats.cpu_usage_s)
            fam.mem.add_metric(labels, stats.memory_usage_bytes)
            fam.rss.add_metric(labels, stats.memory_rss_bytes)
            fam.procs.add_metric(labels, len(stats.pids))
            fam.quota.add_metric(labels, stats.cpu_quota_cores)
            fam.limit.add_metric(labels, stats.memory_limit_bytes)
            read_b, write_b = read_process_io(self.proc_root, stats.pids)
            fam.fs_read.add_metric(labels, read_b)
            fam.fs_write.add_metric(labels, write_b)
            net = read_network(self.proc_root, stats.pids)
            if net is not None:
                for field in NET_FIELDS:
                    fam.net[("receive", field)].add_metric(labels, net.receive[field])
                    fam.net[("transmit", field)].add_metric(labels, net.transmit[field])
        yield from fam.all()


class _Families:
    """One scrape's metric families (names and help per testbed/README.md)."""

    def __init__(self) -> None:
        self.cpu = CounterMetricFamily("container_cpu_usage_seconds", "CPU time used (all cores), seconds", labels=LABELS)
        self.mem = GaugeMetricFamily("container_memory_usage_bytes", "Memory charged to the cgroup, incl. page cache", labels=LABELS)
        self.rss = GaugeMetricFamily("container_memory_rss_bytes", "Anonymous (RSS) memory", labels=LABELS)
        self.procs = GaugeMetricFamily("container_processes", "Processes in the container", labels=LABELS)
        self.quota = GaugeMetricFamily("container_spec_cpu_quota_cores", "CPU quota in cores (0 = none)", labels=LABELS)
        self.limit = GaugeMetricFamily("container_spec_memory_limit_bytes", "Memory limit (0 = none)", labels=LABELS)
        self.fs_read = CounterMetricFamily("container_fs_read_bytes", "Bytes read from storage by its processes", labels=LABELS)
        self.fs_write = CounterMetricFamily("container_fs_write_bytes", "Bytes written to storage by its processes", labels=LABELS)
        self.net = {
            (direction, field): CounterMetricFamily(
                f"container_network_{direction}_{field}", f"Network {direction} {field} (all interfaces but lo)", labels=LABELS
            )
            for direction in ("receive", "transmit")
            for field in NET_FIELDS
        }

    def all(self) -> Iterator[Metric]:
        yield from (self.cpu, self.mem, self.rss, self.procs, self.quota, self.limit, self.fs_read, self.fs_write)
        yield from self.net.values()


def main() -> None:
    from prometheus_client import start_http_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    project = os.environ.get("COMPOSE_PROJECT", "faultlab")
    socket_path = os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock")
    layout = detect_layout(os.environ.get("CGROUP_ROOT", "/host/sys/fs/cgroup"))
    log.info("cgroup v%d, driver %s, root %s, project %s", layout.version, layout.driver, layout.root, project)
    collector = ContainerCollector(
        layout,
        lambda: list_project_containers(socket_path, project),
        proc_root=os.environ.get("PROC_ROOT", "/proc"),
        cache_s=float(os.environ.get("CONTAINER_CACHE_S", "5")),
    )
    registry = CollectorRegistry()  # only container metrics: no process/GC collectors
    registry.register(collector)
    start_http_server(int(os.environ.get("PORT", "9101")), registry=registry)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
