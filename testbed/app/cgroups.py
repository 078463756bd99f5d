"""Reading containers' resource counters from cgroup files and /proc: the one place that knows
these file formats (pure, file-based, standard library only).

Three readers share it, so that every number about a container means the same everywhere:
the container reader (``reader.py``, in its own container, as ``app.cgroups``), the injectors'
2 Hz effect sampler (``faultlab.injectors.counters``) and the run's host-load monitor
(``faultlab.harness.runs.hostload``), both on the host as ``faultlab.testbed.app.cgroups``.
Each function reads a handful of small files and nothing else. Both cgroup layouts are supported:

* v1 (this project's CI hosts): one hierarchy per controller, e.g.
  ``cpuacct/docker/<id>/cpuacct.usage`` (ns), ``memory/docker/<id>/memory.usage_in_bytes``,
  ``memory.stat`` (``total_rss``, ``total_cache``, ``total_inactive_file``),
  ``cpu.cfs_quota_us``/``cpu.cfs_period_us``, ``memory.limit_in_bytes``;
* v2 (most current distributions): one tree, ``docker/<id>/cpu.stat`` (``usage_usec``),
  ``memory.current``, ``memory.stat`` (``anon``, ``file``, ``inactive_file``), ``cpu.max``,
  ``memory.max`` (see the kernel's Documentation/admin-guide/cgroup-v2.rst);

each with Docker's ``cgroupfs`` driver (``docker/<id>``) or ``systemd`` driver
(``system.slice/docker-<id>.scope``). Block-I/O counters stay at zero on some kernels
(see ENVIRONMENT.md), so disk bytes come from per-process ``/proc/<pid>/io`` instead, and
network counters from ``/proc/<pid>/net/dev`` of one process (all processes of a container
share its network namespace).

Memory is reported as the field reports it: the **working set**, computed exactly as cAdvisor
does (and so as Kubernetes' ``container_memory_working_set_bytes`` and the kubelet's eviction
see it): the cgroup's usage minus its inactive file cache (v1 ``memory.usage_in_bytes`` -
``total_inactive_file``, v2 ``memory.current`` - ``inactive_file``), floored at 0. The raw usage
counts page cache the kernel drops at will (a log file written, a table read), so it drifts up
for as long as a service does I/O, without any memory being held.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# v1 reports "no limit" as PAGE_COUNTER_MAX pages (9223372036854771712 on 4 KiB pages).
_UNLIMITED_BYTES = 2**62
NET_FIELDS = ("bytes", "packets", "errors", "dropped")


@dataclass(frozen=True)
class Layout:
    """Where containers' cgroups live under ``root`` (the host's ``/sys/fs/cgroup``)."""

    root: Path
    version: int  # 1 or 2
    driver: str  # "cgroupfs" or "systemd" (the one tried first)

    def container_paths(self, container_id: str) -> list[Path]:
        """Candidate cgroup folders (relative to a controller in v1), preferred driver first."""
        by_driver = {
            "cgroupfs": Path("docker") / container_id,
            "systemd": Path("system.slice") / f"docker-{container_id}.scope",
        }
        other = "systemd" if self.driver == "cgroupfs" else "cgroupfs"
        return [by_driver[self.driver], by_driver[other]]

    def container_dir(self, container_id: str, controller: str = "memory") -> Path | None:
        """The container's folder for one v1 controller (v2: its one folder), None when gone."""
        base = self.root if self.version == 2 else self.root / controller
        for rel in self.container_paths(container_id):
            if (base / rel).is_dir():
                return base / rel
        return None


@dataclass(frozen=True)
class MemoryStats:
    """One cgroup's memory, in bytes, with cAdvisor's names and meanings."""

    usage_bytes: int  # charged to the cgroup, page cache included (v1 usage_in_bytes, v2 memory.current)
    working_set_bytes: int  # usage minus inactive file cache, floored at 0 (the default memory series)
    rss_bytes: int  # anonymous memory (v1 total_rss, v2 anon)
    cache_bytes: int  # page cache (v1 total_cache, v2 file)


@dataclass(frozen=True)
class CgroupStats:
    """One container's cgroup counters at one instant."""

    cpu_usage_s: float
    memory: MemoryStats
    pids: tuple[int, ...]
    cpu_quota_cores: float  # 0 = no quota
    memory_limit_bytes: int  # 0 = no limit


@dataclass(frozen=True)
class NetCounters:
    """Interface counters summed over a network namespace's interfaces (``lo`` excluded)."""

    receive: dict[str, int]  # NET_FIELDS -> value
    transmit: dict[str, int]


def detect_layout(root: str | Path) -> Layout:
    """v2 when the root is the unified hierarchy (``cgroup.controllers`` there), else v1;
    the driver is whichever of ``docker/`` and ``system.slice/`` holds Docker's cgroups."""
    root = Path(root)
    version = 2 if (root / "cgroup.controllers").exists() else 1
    base = root if version == 2 else root / "memory"
    driver = "cgroupfs"
    if not (base / "docker").is_dir() and any((base / "system.slice").glob("docker-*.scope")):
        driver = "systemd"
    return Layout(root=root, version=version, driver=driver)


def read_cgroup_stats(layout: Layout, container_id: str) -> CgroupStats | None:
    """The container's counters, or None when its cgroup is gone (it stopped mid-read)."""
    try:
        if layout.version == 2:
            return _read_v2(layout, container_id)
        return _read_v1(layout, container_id)
    except OSError:  # removed while we read (ENOENT, ENODEV)
        return None


def _read_v1(layout: Layout, container_id: str) -> CgroupStats | None:
    for rel in layout.container_paths(container_id):
        memory = layout.root / "memory" / rel
        if not memory.is_dir():
            continue
        cpuacct = layout.root / "cpuacct" / rel
        cpu = layout.root / "cpu" / rel
        quota = _read_optional(cpu / "cpu.cfs_quota_us")
        period = _read_optional(cpu / "cpu.cfs_period_us")
        return CgroupStats(
            cpu_usage_s=int(_read(cpuacct / "cpuacct.usage")) / 1e9,
            memory=memory_stats(int(_read(memory / "memory.usage_in_bytes")),
                                parse_flat_keyed(_read(memory / "memory.stat")), 1),
            pids=parse_pids(_read(memory / "cgroup.procs")),
            cpu_quota_cores=parse_cfs_quota(quota, period) if quota and period else 0.0,
            memory_limit_bytes=parse_memory_limit(_read_optional(memory / "memory.limit_in_bytes") or "max"),
        )
    return None


def _read_v2(layout: Layout, container_id: str) -> CgroupStats | None:
    for rel in layout.container_paths(container_id):
        folder = layout.root / rel
        if not folder.is_dir():
            continue
        return CgroupStats(
            cpu_usage_s=parse_flat_keyed(_read(folder / "cpu.stat")).get("usage_usec", 0) / 1e6,
            memory=memory_stats(int(_read(folder / "memory.current")),
                                parse_flat_keyed(_read(folder / "memory.stat")), 2),
            pids=parse_pids(_read(folder / "cgroup.procs")),
            cpu_quota_cores=parse_cpu_max(_read_optional(folder / "cpu.max") or "max"),
            memory_limit_bytes=parse_memory_limit(_read_optional(folder / "memory.max") or "max"),
        )
    return None


def container_cpu_seconds(layout: Layout) -> dict[str, float]:
    """CPU seconds used so far by every Docker container under the root (either driver), by id.

    What the host-load monitor subtracts from the host's busy time; a container that vanishes
    mid-read is left out.
    """
    if layout.version == 2:
        patterns = (("docker/*/cpu.stat", 1e-6), ("system.slice/docker-*.scope/cpu.stat", 1e-6))
    else:
        patterns = (("cpuacct/docker/*/cpuacct.usage", 1e-9), ("cpuacct/system.slice/docker-*.scope/cpuacct.usage", 1e-9))
    out: dict[str, float] = {}
    for pattern, scale in patterns:
        for path in layout.root.glob(pattern):
            try:
                text = _read(path)
                raw = parse_flat_keyed(text).get("usage_usec", 0) if path.name == "cpu.stat" else int(text.split()[0])
            except (OSError, ValueError, IndexError):
                continue
            name = path.parent.name
            out[name.removeprefix("docker-").removesuffix(".scope")] = raw * scale
    return out


# ---- parsers (pure text -> values) -----------------------------------------------------------
def memory_stats(usage_bytes: int, stat: dict[str, int], version: int) -> MemoryStats:
    """Working set, RSS and page cache from the usage counter and ``memory.stat``, as cAdvisor
    computes them (v1 reads the hierarchical ``total_*`` keys, falling back to the local ones)."""
    if version == 2:
        inactive_file, rss, cache = stat.get("inactive_file", 0), stat.get("anon", 0), stat.get("file", 0)
    else:
        inactive_file = stat.get("total_inactive_file", stat.get("inactive_file", 0))
        rss, cache = stat.get("total_rss", stat.get("rss", 0)), stat.get("total_cache", stat.get("cache", 0))
    return MemoryStats(usage_bytes=usage_bytes, working_set_bytes=working_set_bytes(usage_bytes, inactive_file),
                       rss_bytes=rss, cache_bytes=cache)


def working_set_bytes(usage_bytes: int, inactive_file_bytes: int) -> int:
    """cAdvisor's working set: usage minus the inactive file cache, never below 0 (the two
    counters are read one after the other, and the cache can briefly exceed what usage showed)."""
    return max(usage_bytes - inactive_file_bytes, 0)


def parse_flat_keyed(text: str) -> dict[str, int]:
    """``key value`` or ``key: value`` lines (memory.stat, cpu.stat, /proc/<pid>/io)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                continue
    return out


def parse_pids(text: str) -> tuple[int, ...]:
    """``cgroup.procs`` -> process ids."""
    return tuple(int(tok) for tok in text.split() if tok.isdigit())


def parse_cfs_quota(quota_us: str, period_us: str) -> float:
    """v1 quota in cores (``cpu.cfs_quota_us / cpu.cfs_period_us``; -1 means none -> 0)."""
    quota, period = int(quota_us), int(period_us)
    return quota / period if quota > 0 and period > 0 else 0.0


def parse_cpu_max(text: str) -> float:
    """v2 ``cpu.max`` (``"$MAX $PERIOD"``, ``max`` means none -> 0) in cores."""
    parts = text.split()
    if not parts or parts[0] == "max":
        return 0.0
    period = int(parts[1]) if len(parts) > 1 else 100000
    return int(parts[0]) / period if period > 0 else 0.0


def parse_memory_limit(text: str) -> int:
    """v1 ``memory.limit_in_bytes`` or v2 ``memory.max`` in bytes; no limit -> 0."""
    text = text.strip()
    if text in ("", "max"):
        return 0
    value = int(text)
    return 0 if value >= _UNLIMITED_BYTES else value


def parse_net_dev(text: str) -> dict[str, NetCounters]:
    """``/proc/<pid>/net/dev`` -> per-interface counters (receive: bytes packets errs drop ...)."""
    out: dict[str, NetCounters] = {}
    for line in text.splitlines()[2:]:
        if ":" not in line:
            continue
        name, _, rest = line.partition(":")
        try:
            cols = [int(v) for v in rest.split()]
        except ValueError:
            continue
        if len(cols) < 12:
            continue
        out[name.strip()] = NetCounters(
            receive=dict(zip(NET_FIELDS, (cols[0], cols[1], cols[2], cols[3]), strict=True)),
            transmit=dict(zip(NET_FIELDS, (cols[8], cols[9], cols[10], cols[11]), strict=True)),
        )
    return out


def sum_interfaces(interfaces: dict[str, NetCounters]) -> NetCounters:
    """Totals over every interface but loopback (traffic inside the container is not network)."""
    rx = dict.fromkeys(NET_FIELDS, 0)
    tx = dict.fromkeys(NET_FIELDS, 0)
    for name, counters in interfaces.items():
        if name == "lo":
            continue
        for field in NET_FIELDS:
            rx[field] += counters.receive[field]
            tx[field] += counters.transmit[field]
    return NetCounters(receive=rx, transmit=tx)


# ---- per-process files ------------------------------------------------------------------------
@dataclass(frozen=True)
class ProcessIo:
    """Storage bytes summed over a container's processes, and how many could not be read."""

    read_bytes: int
    write_bytes: int
    unreadable: int  # processes whose io file was refused (another user's, without privilege)


def read_process_io(proc_root: str | Path, pids: tuple[int, ...]) -> ProcessIo:
    """Summed ``read_bytes`` and ``write_bytes`` of ``pids``; vanished ones are skipped and
    refused ones counted (reading another user's ``/proc/<pid>/io`` needs CAP_SYS_PTRACE and,
    the file being mode 0400, CAP_DAC_READ_SEARCH).

    The sum drops when a process exits (its bytes leave with it); Prometheus' ``rate`` treats
    that as a counter reset, which is the best a per-process source allows.
    """
    read_b = write_b = refused = 0
    for pid in pids:
        try:
            io = parse_flat_keyed(_read(Path(proc_root) / str(pid) / "io"))
        except PermissionError:
            refused += 1
            continue
        except OSError:  # exited
            continue
        read_b += io.get("read_bytes", 0)
        write_b += io.get("write_bytes", 0)
    return ProcessIo(read_b, write_b, refused)


def read_network(proc_root: str | Path, pids: tuple[int, ...]) -> NetCounters | None:
    """Interface totals from the first of ``pids`` whose ``net/dev`` can be read."""
    for pid in pids:
        try:
            text = _read(Path(proc_root) / str(pid) / "net" / "dev")
        except OSError:
            continue
        return sum_interfaces(parse_net_dev(text))
    return None


def parse_snmp_tcp(text: str) -> dict[str, int]:
    """The ``Tcp:`` counters of a ``/proc/<pid>/net/snmp`` table (a line of names, then one of values)."""
    rows = [line.split()[1:] for line in text.splitlines() if line.startswith("Tcp:")]
    if len(rows) < 2:
        return {}
    out: dict[str, int] = {}
    for name, value in zip(rows[0], rows[1], strict=False):
        try:
            out[name] = int(value)
        except ValueError:
            continue
    return out


def read_tcp(proc_root: str | Path, pids: tuple[int, ...]) -> dict[str, int] | None:
    """The network namespace's TCP counters (``RetransSegs``, ``OutSegs``, ...) from the first of
    ``pids`` whose ``net/snmp`` can be read.

    Why: dropped packets do not show in the interface counters (``net/dev`` counts what the NIC
    saw; an iptables DROP or netem loss happens above it), but TCP resends what was lost, so the
    retransmitted segments of the namespace are the direct, per-container symptom of packet loss
    (node_exporter publishes the same counter host-wide as ``node_netstat_Tcp_RetransSegs``).
    """
    for pid in pids:
        try:
            text = _read(Path(proc_root) / str(pid) / "net" / "snmp")
        except OSError:
            continue
        return parse_snmp_tcp(text)
    return None


def _read(path: Path) -> str:
    with open(path, encoding="ascii", errors="replace") as fh:
        return fh.read()


def _read_optional(path: Path) -> str | None:
    try:
        return _read(path).strip()
    except FileNotFoundError:
        return None
