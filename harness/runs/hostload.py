"""How much of the host's CPU went to work outside the containers during a run.

A recording is only real data when nothing else loads the machine: a test suite or a training
job run beside it takes CPU from the testbed (``nice`` does not help: the containers sit in
their own cgroups, and the scheduler shares CPU between cgroups before it looks at niceness),
so faults come out weaker and the fault-free metrics drift. The runner samples two counters
every few seconds and writes a summary per phase into the dataset's ``meta.json`` and the
manifest, with a warning when the host was busy with outside work:

* the host's busy CPU time: ``/proc/stat`` user + nice + system + irq + softirq + steal
  (iowait is waiting, not work; steal is CPU a hypervisor gave to someone else);
* the containers' CPU time: every Docker container's cgroup counter (v1 ``cpuacct.usage``,
  v2 ``cpu.stat`` ``usage_usec``), including the faults' own helpers.

``outside`` is the difference, in cores: the runner itself, the Docker daemon, and anything
else the user left running.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from faultlab.injectors.counters import CGROUP_ROOT, parse_cpu_stat_usec

PROC_STAT = Path("/proc/stat")
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal (idle=3, iowait=4 left out)
# cgroup counter files of Docker containers: v1 (cgroupfs, systemd drivers), then v2
CONTAINER_COUNTERS = (
    ("cpuacct/docker/*/cpuacct.usage", 1e-9),
    ("cpuacct/system.slice/docker-*.scope/cpuacct.usage", 1e-9),
    ("docker/*/cpu.stat", 1e-6),
    ("system.slice/docker-*.scope/cpu.stat", 1e-6),
)
OUTSIDE_LIMIT = 0.25  # share of the host's cores: above it, the phase is reported as loaded


@dataclass(frozen=True)
class Reading:
    """Cumulative CPU seconds at wall time ``t``: the host's busy time and each container's."""

    t: float
    busy_s: float
    containers_s: dict[str, float] = field(default_factory=dict)


def parse_proc_stat(text: str, ticks_per_s: float = 100.0) -> float:
    """Busy CPU seconds of all cores from the ``cpu`` line of ``/proc/stat``."""
    for line in text.splitlines():
        if line.startswith("cpu "):
            values = [int(v) for v in line.split()[1:]]
            return sum(values[i] for i in BUSY_FIELDS if i < len(values)) / ticks_per_s
    raise ValueError("no 'cpu' line in /proc/stat")


def read(root: Path = CGROUP_ROOT, proc_stat: Path = PROC_STAT, now: float | None = None) -> Reading | None:
    """One reading, or None where ``/proc/stat`` cannot be read (not Linux)."""
    try:
        busy = parse_proc_stat(proc_stat.read_text())
    except (OSError, ValueError):
        return None
    containers: dict[str, float] = {}
    for pattern, scale in CONTAINER_COUNTERS:
        for path in root.glob(pattern):
            try:
                text = path.read_text()
                raw = parse_cpu_stat_usec(text) if path.name == "cpu.stat" else int(text.split()[0])
            except (OSError, ValueError, IndexError):
                continue
            containers[str(path.parent)] = raw * scale
    return Reading(time.time() if now is None else now, busy, containers)


def cores_between(prev: Reading, cur: Reading) -> tuple[float, float]:
    """(busy cores, cores used outside the containers) between two readings.

    Only containers present in both readings count: a container that starts, stops or restarts
    (its counter begins at zero again) in between is left out of that interval, so it cannot
    make the containers' share negative or inflate it.
    """
    dt = cur.t - prev.t
    if dt <= 0:
        return 0.0, 0.0
    busy = max(0.0, cur.busy_s - prev.busy_s) / dt
    inside = sum(max(0.0, cur.containers_s[k] - prev.containers_s[k])
                 for k in cur.containers_s.keys() & prev.containers_s.keys()) / dt
    return busy, max(0.0, busy - inside)


def summarize(readings: list[Reading], phases: dict[str, tuple[float, float]], cores: int) -> dict:
    """Per phase: mean busy and outside cores, and the share of intervals at the host's ceiling.

    An interval belongs to the phase its end falls in. ``warnings`` names each phase whose
    outside load averaged more than ``OUTSIDE_LIMIT`` of the cores.
    """
    out: dict = {"cores": cores, "interval_s": None, "phases": {}, "warnings": []}
    pairs = list(pairwise(readings))
    if pairs:
        out["interval_s"] = round((readings[-1].t - readings[0].t) / len(pairs), 2)
    for name, (t0, t1) in phases.items():
        values = [cores_between(a, b) for a, b in pairs if t0 < b.t <= t1]
        if not values:
            continue
        busy = [b for b, _ in values]
        outside = [o for _, o in values]
        mean_outside = sum(outside) / len(outside)
        out["phases"][name] = {
            "intervals": len(values),
            "busy_cores": round(sum(busy) / len(busy), 3),
            "outside_cores": round(mean_outside, 3),
            "saturated_share": round(sum(b >= 0.95 * cores for b in busy) / len(busy), 3),
        }
        if mean_outside > OUTSIDE_LIMIT * cores:
            out["warnings"].append(
                f"during the {name} phase work outside the testbed used {mean_outside:.2f} of the host's "
                f"{cores} cores on average: the recording was made on a loaded machine")
    return out


class Monitor:
    """Reads the counters every ``every_s`` seconds in a background thread."""

    def __init__(self, every_s: float = 5.0, root: Path = CGROUP_ROOT, proc_stat: Path = PROC_STAT) -> None:
        self.every_s = every_s
        self.root, self.proc_stat = root, proc_stat
        self.readings: list[Reading] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="faultlab-hostload", daemon=True)

    def _take(self) -> None:
        reading = read(self.root, self.proc_stat)
        if reading is not None:
            self.readings.append(reading)

    def _loop(self) -> None:
        self._take()
        while not self._stop.wait(self.every_s):
            self._take()

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def stop(self) -> list[Reading]:
        """Stop after one last reading; returns every reading."""
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            self._take()
        return self.readings
