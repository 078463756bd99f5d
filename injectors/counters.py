"""Host-side sampling of a container's cgroup and /proc counters (the effect measurement).

Why not the container exporter or Prometheus: they are scraped every few seconds, while the
effect onset and offset of a fault are wanted to well under a second, and a fault must be
checked even when Prometheus is down. So the injectors read the same kernel counters the
exporter reads, directly from the host, at 2 Hz (TELESTO samples its KPIs at 2 Hz too):

* CPU: ``cpuacct.usage`` (cgroup v1) or ``cpu.stat`` ``usage_usec`` (v2), ns.
* memory: ``memory.usage_in_bytes`` (v1) or ``memory.current`` (v2).
* frozen: ``freezer.state`` (v1) or ``cgroup.freeze`` / ``cgroup.events`` (v2).
* network: ``/proc/<pid>/net/dev`` of any process of the container (its netns), all but ``lo``.
* disk: ``/proc/<pid>/io`` ``read_bytes``/``write_bytes`` summed over the container's processes
  (the cgroup v1 blkio counters stay at 0 on some kernels, e.g. Firecracker VMs with cgroup v1).
* connections: ESTABLISHED sockets in ``/proc/<pid>/net/tcp{,6}``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")


@dataclass(frozen=True)
class Sample:
    """One reading of a container's counters at wall time ``t`` (epoch seconds)."""

    t: float
    present: bool  # the container's cgroup exists and has processes
    cpu_ns: int = 0
    memory_bytes: int = 0
    frozen: bool = False
    processes: int = 0
    rx_bytes: int = 0
    tx_bytes: int = 0
    rx_packets: int = 0
    tx_packets: int = 0
    fs_read_bytes: int = 0
    fs_write_bytes: int = 0
    tcp_established: int = 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _int(path: Path) -> int | None:
    text = _read(path)
    try:
        return int(text.split()[0]) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class CgroupFiles:
    """Where one container's counters live (v1 per-controller dirs, or one v2 dir)."""

    cpu: Path | None
    memory: Path | None
    freezer: Path | None
    procs: Path | None
    v2: bool

    @classmethod
    def find(cls, container_id: str, root: Path = CGROUP_ROOT) -> CgroupFiles:
        v1_names = [f"docker/{container_id}", f"system.slice/docker-{container_id}.scope"]
        for name in v1_names:
            cpu = root / "cpuacct" / name
            if (cpu / "cpuacct.usage").exists():
                return cls(cpu=cpu / "cpuacct.usage",
                           memory=root / "memory" / name / "memory.usage_in_bytes",
                           freezer=root / "freezer" / name / "freezer.state",
                           procs=cpu / "cgroup.procs", v2=False)
        for name in [f"system.slice/docker-{container_id}.scope", f"docker/{container_id}"]:
            base = root / name
            if (base / "cpu.stat").exists():
                return cls(cpu=base / "cpu.stat", memory=base / "memory.current",
                           freezer=base / "cgroup.freeze", procs=base / "cgroup.procs", v2=True)
        return cls(None, None, None, None, False)


def parse_net_dev(text: str) -> tuple[int, int, int, int]:
    """(rx_bytes, rx_packets, tx_bytes, tx_packets) summed over interfaces except ``lo``."""
    rx_b = rx_p = tx_b = tx_p = 0
    for line in text.splitlines()[2:]:
        if ":" not in line:
            continue
        iface, data = line.split(":", 1)
        if iface.strip() == "lo":
            continue
        cols = data.split()
        rx_b += int(cols[0])
        rx_p += int(cols[1])
        tx_b += int(cols[8])
        tx_p += int(cols[9])
    return rx_b, rx_p, tx_b, tx_p


def parse_proc_io(text: str) -> tuple[int, int]:
    """(read_bytes, write_bytes) of one ``/proc/<pid>/io``."""
    values = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        values[key.strip()] = value.strip()
    return int(values.get("read_bytes", 0)), int(values.get("write_bytes", 0))


def count_established(text: str) -> int:
    """ESTABLISHED (state 01) sockets in a ``/proc/net/tcp`` table."""
    return sum(1 for line in text.splitlines()[1:] if len(line.split()) > 3 and line.split()[3] == "01")


def parse_cpu_stat_usec(text: str) -> int:
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec":
            return int(value)
    return 0


def read_sample(files: CgroupFiles, proc: Path = PROC, now: float | None = None) -> Sample:
    """Read every counter of one container once."""
    t = time.time() if now is None else now
    if files.cpu is None:
        return Sample(t=t, present=False)
    procs_text = _read(files.procs) if files.procs else None
    pids = [int(p) for p in (procs_text or "").split()]
    if not pids:
        return Sample(t=t, present=False)
    if files.v2:
        cpu_ns = parse_cpu_stat_usec(_read(files.cpu) or "") * 1000
        frozen = (_read(files.freezer) or "0").strip() == "1" if files.freezer else False
    else:
        cpu_ns = _int(files.cpu) or 0
        frozen = (_read(files.freezer) or "").strip() == "FROZEN" if files.freezer else False
    memory = _int(files.memory) if files.memory else None
    rx_b = rx_p = tx_b = tx_p = 0
    established = 0
    for pid in pids:
        net = _read(proc / str(pid) / "net" / "dev")
        if net:
            rx_b, rx_p, tx_b, tx_p = parse_net_dev(net)
            established = sum(count_established(_read(proc / str(pid) / "net" / n) or "")
                              for n in ("tcp", "tcp6"))
            break
    read_b = write_b = 0
    for pid in pids:
        io = _read(proc / str(pid) / "io")
        if io:
            r, w = parse_proc_io(io)
            read_b += r
            write_b += w
    return Sample(t=t, present=True, cpu_ns=cpu_ns, memory_bytes=memory or 0, frozen=frozen,
                  processes=len(pids), rx_bytes=rx_b, tx_bytes=tx_b, rx_packets=rx_p,
                  tx_packets=tx_p, fs_read_bytes=read_b, fs_write_bytes=write_b,
                  tcp_established=established)


class Sampler:
    """Samples a set of containers every ``interval_s`` in a background thread."""

    def __init__(self, interval_s: float = 0.5, keep_s: float = 900.0) -> None:
        self.interval_s = interval_s
        self.keep_s = keep_s
        self._files: dict[str, CgroupFiles] = {}
        self._samples: dict[str, list[Sample]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, container_id: str) -> None:
        with self._lock:
            self._files.setdefault(container_id, CgroupFiles.find(container_id))
            self._samples.setdefault(container_id, [])

    def _tick(self) -> None:
        with self._lock:
            items = list(self._files.items())
        for cid, files in items:
            if files.cpu is None or not files.cpu.exists():
                files = CgroupFiles.find(cid)  # the container restarted or was not up yet
                with self._lock:
                    self._files[cid] = files
            sample = read_sample(files)
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
