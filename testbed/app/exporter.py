"""The container metrics exporter (cAdvisor cannot be pulled here): ``python3 -m app.exporter``.

Runs in its own container with ``pid: host`` and the host's ``/sys/fs/cgroup`` read-only at
``/host/sys/fs/cgroup``; no Docker socket. Which container is which service comes from the map
file the harness writes at every ``compose up`` (``containermap.py``; its folder is mounted
read-only at ``/etc/faultlab/containers``), re-read every few seconds. On every scrape it reads
each container's cgroup and /proc counters (see ``cgroups.py``) and serves the README's
``container_*`` metrics on ``:9101`` with labels ``service`` and ``container``.

Environment: COMPOSE_PROJECT (faultlab), CGROUP_ROOT (/host/sys/fs/cgroup), PROC_ROOT (/proc),
CONTAINER_MAP (/etc/faultlab/containers/containers.json), PORT (9101), CONTAINER_CACHE_S (5).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from . import containermap
from .cgroups import NET_FIELDS, Layout, detect_layout, read_cgroup_stats, read_network, read_process_io
from .containermap import Container

__all__ = ["Container", "ContainerCollector", "main"]

log = logging.getLogger("container-exporter")
LABELS = ["service", "container"]
DEFAULT_MAP = "/etc/faultlab/containers/" + containermap.MAP_FILE


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
        self._last_error = ""

    def containers(self) -> list[Container]:
        """The container list, refreshed at most every ``cache_s``; the last good one on errors."""
        now = self.clock()
        if now - self._cached_at >= self.cache_s:
            try:
                self._cached = self.list_containers()
                self._cached_at = now
            except (OSError, ValueError) as exc:
                message = str(exc)
                if message != self._last_error:  # once per distinct problem, not every scrape
                    log.warning("cannot list containers (keeping the last good list): %s", message)
                    self._last_error = message
            else:
                self._last_error = ""
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
            io = read_process_io(self.proc_root, stats.pids)
            fam.fs_read.add_metric(labels, io.read_bytes)
            fam.fs_write.add_metric(labels, io.write_bytes)
            fam.fs_unreadable.add_metric(labels, io.unreadable)
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
        self.fs_unreadable = GaugeMetricFamily(
            "container_fs_unreadable_processes",
            "Processes whose /proc/<pid>/io the exporter may not read (their bytes are missing)",
            labels=LABELS,
        )
        self.net = {
            (direction, field): CounterMetricFamily(
                f"container_network_{direction}_{field}", f"Network {direction} {field} (all interfaces but lo)", labels=LABELS
            )
            for direction in ("receive", "transmit")
            for field in NET_FIELDS
        }

    def all(self) -> Iterator[Metric]:
        yield from (self.cpu, self.mem, self.rss, self.procs, self.quota, self.limit, self.fs_read, self.fs_write,
                    self.fs_unreadable)
        yield from self.net.values()


def main() -> None:
    from prometheus_client import start_http_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    project = os.environ.get("COMPOSE_PROJECT", "faultlab")
    map_path = os.environ.get("CONTAINER_MAP", DEFAULT_MAP)
    layout = detect_layout(os.environ.get("CGROUP_ROOT", "/host/sys/fs/cgroup"))
    log.info("cgroup v%d, driver %s, root %s, project %s, map %s, uid %d",
             layout.version, layout.driver, layout.root, project, map_path, os.getuid())
    collector = ContainerCollector(
        layout,
        lambda: containermap.read(map_path, project),
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
