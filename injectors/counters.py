"""Host-side sampling of a container's counters at 2 Hz (the effect measurement).

Why not the container exporter or Prometheus: they are scraped every few seconds, while the
effect onset and offset of a fault are wanted to well under a second, and a fault must be
checked even when Prometheus is down. So the injectors read the same kernel counters the
container reader reads, with the same code (:mod:`faultlab.testbed.app.cgroups`: CPU, memory
as the working set, disk bytes from ``/proc/<pid>/io``, network from ``/proc/<pid>/net/dev``),
directly from the host, at 2 Hz (TELESTO samples its KPIs at 2 Hz too); so a fault's measured
``memory_bytes`` is the dataset's ``memory_bytes``. What only the injectors need is here:

* frozen: ``freezer.state`` (cgroup v1) or ``cgroup.freeze`` (v2), for the pause fault;
* connections: ESTABLISHED sockets in ``/proc/<pid>/net/tcp{,6}`` of the container's netns;
* the :class:`Sampler` thread that keeps the last minutes of :class:`Sample` per container.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from faultlab.testbed.app.cgroups import Layout, detect_layout, read_cgroup_stats, read_network, read_process_io

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")


@dataclass(frozen=True)
class Sample:
    """One reading of a container's counters at wall time ``t`` (epoch seconds)."""

    t: float
    present: bool  # the container's cgroup exists and has processes
    cpu_ns: int = 0
    memory_bytes: int = 0  # the working set (usage minus inactive file cache), as the dataset's memory_bytes
    rss_bytes: int = 0
    cache_bytes: int = 0
    memory_usage_bytes: int = 0  # raw cgroup usage, page cache included
    frozen: bool = False
    processes: int = 0
    rx_bytes: int = 0
    tx_bytes: int = 0
    rx_packets: int = 0
    tx_packets: int = 0
    fs_read_bytes: int = 0
    fs_write_bytes: int = 0
    tcp_established: int = 0
    tcp_inbound: int = 0  # ESTABLISHED sockets on the service port: clients held, not the service's own pools


SERVICE_PORT = 8080  # every testbed service listens here (testbed/compose.yaml, PORT)


def count_established(text: str, local_port: int | None = None) -> int:
    """ESTABLISHED (state 01) sockets in a ``/proc/net/tcp`` table, optionally only on ``local_port``.

    Counting only the service port separates connections clients hold open from the service's
    own keep-alive pools to its callees, which grow and expire with its traffic.
    """
    count = 0
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) <= 3 or fields[3] != "01":
            continue
        if local_port is None or int(fields[1].rsplit(":", 1)[1], 16) == local_port:
            count += 1
    return count


def read_frozen(layout: Layout, container_id: str) -> bool:
    """Whether the container is paused (v1 freezer ``FROZEN``/``FREEZING``, v2 ``cgroup.freeze`` 1)."""
    folder = layout.container_dir(container_id, "freezer")
    if folder is None:
        return False
    text = _read(folder / ("cgroup.freeze" if layout.version == 2 else "freezer.state")) or ""
    return text.strip() == "1" if layout.version == 2 else text.strip() in ("FROZEN", "FREEZING")


def read_established(pids: tuple[int, ...], proc: Path = PROC, local_port: int | None = None) -> int:
    """ESTABLISHED TCP connections in the netns of the first of ``pids`` whose tables can be read."""
    for pid in pids:
        tables = [_read(proc / str(pid) / "net" / name) for name in ("tcp", "tcp6")]
        if any(t is not None for t in tables):
            return sum(count_established(t or "", local_port) for t in tables)
    return 0


def read_sample(layout: Layout, container_id: str, proc: Path = PROC, now: float | None = None) -> Sample:
    """Read every counter of one container once (``present=False`` when it has no processes)."""
    t = time.time() if now is None else now
    stats = read_cgroup_stats(layout, container_id)
    if stats is None or not stats.pids:
        return Sample(t=t, present=False)
    net = read_network(proc, stats.pids)
    io = read_process_io(proc, stats.pids)
    return Sample(
        t=t, present=True, cpu_ns=round(stats.cpu_usage_s * 1e9),
        memory_bytes=stats.memory.working_set_bytes, rss_bytes=stats.memory.rss_bytes,
        cache_bytes=stats.memory.cache_bytes, memory_usage_bytes=stats.memory.usage_bytes,
        frozen=read_frozen(layout, container_id), processes=len(stats.pids),
        rx_bytes=net.receive["bytes"] if net else 0, tx_bytes=net.transmit["bytes"] if net else 0,
        rx_packets=net.receive["packets"] if net else 0, tx_packets=net.transmit["packets"] if net else 0,
        fs_read_bytes=io.read_bytes, fs_write_bytes=io.write_bytes,
        tcp_established=read_established(stats.pids, proc),
        tcp_inbound=read_established(stats.pids, proc, SERVICE_PORT),
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


class Sampler:
    """Samples a set of containers every ``interval_s`` in a background thread."""

    def __init__(self, interval_s: float = 0.5, keep_s: float = 900.0, root: Path = CGROUP_ROOT,
                 proc: Path = PROC) -> None:
        self.interval_s = interval_s
        self.keep_s = keep_s
        self.root, self.proc = root, proc
        self._layout: Layout | None = None
        self._ids: list[str] = []
        self._samples: dict[str, list[Sample]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def layout(self) -> Layout:
        """The host's cgroup layout, detected once Docker has made its cgroups."""
        if self._layout is None:
            self._layout = detect_layout(self.root)
        return self._layout

    def watch(self, container_id: str) -> None:
        with self._lock:
            if container_id not in self._samples:
                self._ids.append(container_id)
                self._samples[container_id] = []

    def _tick(self) -> None:
        with self._lock:
            ids = list(self._ids)
        for cid in ids:
            sample = read_sample(self.layout, cid, self.proc)
            with self._lock:
                series = self._samples[cid]
                series.append(sample)
                while series and series[0].t < sample.t - self.keep_s:
                    series.pop(0)

    def _run(self) -> None:
        next_t = time.monotonic()
        while not self._stop.is_set():
            self._tick()
            next_t += self.interval_s
            self._stop.wait(max(0.0, next_t - time.monotonic()))

    def start(self) -> Sampler:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="faultlab-sampler", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def samples(self, container_id: str, t0: float = 0.0, t1: float = float("inf")) -> list[Sample]:
        with self._lock:
            return [s for s in self._samples.get(container_id, []) if t0 <= s.t <= t1]
