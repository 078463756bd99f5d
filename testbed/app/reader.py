"""The container reader: ``python3 -m app.reader``, the privileged half of the container metrics.

Why two containers (testbed/README.md, "Users and capabilities"): reading other users'
``/proc/<pid>/io`` (postgres', redis') takes root with ``SYS_PTRACE`` and ``DAC_READ_SEARCH`` in
the host's pid namespace, which is a way onto the host. So the process that holds those rights
has **no network at all** (``network_mode: none``, only ``lo``) and answers only on a Unix socket
in a volume it shares with the unprivileged HTTP exporter (``exporter.py``). At each scrape the
exporter connects; the reader reads every container's counters right then (``cgroups.py``) and
writes the Prometheus text exposition back, so the values keep scrape-time semantics.

Which container is which service comes from the map file the harness writes at every
``compose up`` (``containermap.py``; its folder is mounted read-only at
``/etc/faultlab/containers``), re-read every few seconds; no Docker socket.

Environment: COMPOSE_PROJECT (faultlab), CGROUP_ROOT (/host/sys/fs/cgroup), PROC_ROOT (/proc),
CONTAINER_MAP (/etc/faultlab/containers/containers.json), READER_SOCKET
(/run/faultlab/metrics.sock), SOCKET_MODE (660: owner and the reader's group, which compose sets
to the exporter's gid 10001), CONTAINER_CACHE_S (5), SEND_TIMEOUT_S (5).
"""

from __future__ import annotations

import logging
import os
import signal
import socketserver
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from . import containermap
from .cgroups import NET_FIELDS, Layout, detect_layout, read_cgroup_stats, read_network, read_process_io, read_tcp
from .containermap import Container

__all__ = ["Container", "ContainerCollector", "ReaderServer", "main"]

log = logging.getLogger("container-reader")
LABELS = ["service", "container"]
DEFAULT_MAP = "/etc/faultlab/containers/" + containermap.MAP_FILE
DEFAULT_SOCKET = "/run/faultlab/metrics.sock"


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
            fam.working_set.add_metric(labels, stats.memory.working_set_bytes)
            fam.usage.add_metric(labels, stats.memory.usage_bytes)
            fam.rss.add_metric(labels, stats.memory.rss_bytes)
            fam.cache.add_metric(labels, stats.memory.cache_bytes)
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
            tcp = read_tcp(self.proc_root, stats.pids)
            if tcp and "RetransSegs" in tcp:
                fam.tcp_retrans.add_metric(labels, tcp["RetransSegs"])
        yield from fam.all()


class _Families:
    """One scrape's metric families (names and help per testbed/README.md)."""

    def __init__(self) -> None:
        self.cpu = CounterMetricFamily("container_cpu_usage_seconds", "CPU time used (all cores), seconds", labels=LABELS)
        self.working_set = GaugeMetricFamily(
            "container_memory_working_set_bytes",
            "Working set as cAdvisor/Kubernetes report it: usage minus inactive file cache, floored at 0",
            labels=LABELS,
        )
        self.usage = GaugeMetricFamily("container_memory_usage_bytes", "Memory charged to the cgroup, incl. page cache",
                                       labels=LABELS)
        self.rss = GaugeMetricFamily("container_memory_rss_bytes", "Anonymous (RSS) memory", labels=LABELS)
        self.cache = GaugeMetricFamily("container_memory_cache_bytes", "Page cache charged to the cgroup", labels=LABELS)
        self.procs = GaugeMetricFamily("container_processes", "Processes in the container", labels=LABELS)
        self.quota = GaugeMetricFamily("container_spec_cpu_quota_cores", "CPU quota in cores (0 = none)", labels=LABELS)
        self.limit = GaugeMetricFamily("container_spec_memory_limit_bytes", "Memory limit (0 = none)", labels=LABELS)
        self.fs_read = CounterMetricFamily("container_fs_read_bytes", "Bytes read from storage by its processes",
                                           labels=LABELS)
        self.fs_write = CounterMetricFamily("container_fs_write_bytes", "Bytes written to storage by its processes",
                                            labels=LABELS)
        self.fs_unreadable = GaugeMetricFamily(
            "container_fs_unreadable_processes",
            "Processes whose /proc/<pid>/io the reader may not read (their bytes are missing)",
            labels=LABELS,
        )
        self.net = {
            (direction, field): CounterMetricFamily(
                f"container_network_{direction}_{field}", f"Network {direction} {field} (all interfaces but lo)", labels=LABELS
            )
            for direction in ("receive", "transmit")
            for field in NET_FIELDS
        }

        self.tcp_retrans = CounterMetricFamily(
            "container_network_tcp_retransmitted_segments",
            "TCP segments retransmitted in the container's network namespace (net/snmp RetransSegs)",
            labels=LABELS,
        )

    def all(self) -> Iterator[Metric]:
        yield from (self.cpu, self.working_set, self.usage, self.rss, self.cache, self.procs, self.quota, self.limit,
                    self.fs_read, self.fs_write, self.fs_unreadable)
        yield from self.net.values()
        yield self.tcp_retrans


def exposition(collector: Collector) -> Callable[[], bytes]:
    """A function that renders ``collector`` in the Prometheus text format (no process/GC series)."""
    registry = CollectorRegistry()
    registry.register(collector)
    return lambda: generate_latest(registry)


class ReaderServer(socketserver.UnixStreamServer):
    """Answers every connection with one freshly rendered exposition, then closes it.

    One connection at a time: a scrape is a few milliseconds of file reads, and a client that
    stops reading is cut off after ``send_timeout_s`` rather than holding the reader.
    """

    def __init__(self, path: str | Path, render: Callable[[], bytes], mode: int = 0o660,
                 send_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self.render = render
        self.send_timeout_s = send_timeout_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)  # a previous reader's socket (a restart keeps the volume)
        super().__init__(str(self.path), _Handler)
        os.chmod(self.path, mode)  # the exporter (another uid) must be allowed to connect

    def server_close(self) -> None:
        super().server_close()
        self.path.unlink(missing_ok=True)


class _Handler(socketserver.BaseRequestHandler):
    server: ReaderServer

    def handle(self) -> None:
        self.request.settimeout(self.server.send_timeout_s)
        try:
            body = self.server.render()
        except Exception:  # a bug in one scrape must not end the reader: log it, answer nothing
            log.exception("rendering the container metrics failed")
            return
        try:
            self.request.sendall(body)
        except OSError as exc:  # the exporter gave up (its own time-out) or went away
            log.warning("could not send the metrics to the exporter: %s", exc)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    project = os.environ.get("COMPOSE_PROJECT", "faultlab")
    map_path = os.environ.get("CONTAINER_MAP", DEFAULT_MAP)
    socket_path = os.environ.get("READER_SOCKET", DEFAULT_SOCKET)
    layout = detect_layout(os.environ.get("CGROUP_ROOT", "/host/sys/fs/cgroup"))
    collector = ContainerCollector(
        layout,
        lambda: containermap.read(map_path, project),
        proc_root=os.environ.get("PROC_ROOT", "/proc"),
        cache_s=float(os.environ.get("CONTAINER_CACHE_S", "5")),
    )
    server = ReaderServer(socket_path, exposition(collector), mode=int(os.environ.get("SOCKET_MODE", "660"), 8),
                          send_timeout_s=float(os.environ.get("SEND_TIMEOUT_S", "5")))
    log.info("cgroup v%d, driver %s, root %s, project %s, map %s, uid %d gid %d, serving %s",
             layout.version, layout.driver, layout.root, project, map_path, os.getuid(), os.getgid(), socket_path)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # 'docker stop': remove the socket on the way out
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
