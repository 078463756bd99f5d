"""How much of the host's CPU went to work outside the containers during a run.

A recording is only real data when nothing else loads the machine: a test suite or a training
job run beside it takes CPU from the testbed (``nice`` does not help: the containers sit in
their own cgroups, and the scheduler shares CPU between cgroups before it looks at niceness),
so faults come out weaker and the fault-free metrics drift. The runner samples two counters
every few seconds and writes a summary per phase into the dataset's ``meta.json`` and the
manifest, with a warning when the host was busy with outside work:

* the host's busy CPU time: ``psutil.cpu_times()`` user + nice + system + irq + softirq + steal
  (iowait is waiting, not work; steal is CPU a hypervisor gave to someone else);
* the containers' CPU time: every Docker container's cgroup counter (v1 ``cpuacct.usage``,
  v2 ``cpu.stat`` ``usage_usec``), including the faults' own helpers, read by the one counter
  module the container reader and the injectors use (:mod:`faultlab.testbed.app.cgroups`).

``outside`` is the difference, in cores: the runner itself, the Docker daemon, and anything
else the user left running.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import psutil

from faultlab.testbed.app.cgroups import container_cpu_seconds, detect_layout

CGROUP_ROOT = Path("/sys/fs/cgroup")
# user nice system irq softirq steal (idle and iowait left out); fields a platform lacks count 0
BUSY_FIELDS = ("user", "nice", "system", "irq", "softirq", "steal")
CpuTimes = Callable[[], Any]  # psutil.cpu_times: an object with BUSY_FIELDS as attributes, in seconds
OUTSIDE_LIMIT = 0.25  # share of the host's cores: above it, the phase is reported as loaded


@dataclass(frozen=True)
class Reading:
    """Cumulative CPU seconds at wall time ``t``: the host's busy time and each container's."""

    t: float
    busy_s: float
    containers_s: dict[str, float] = field(default_factory=dict)


def busy_seconds(times: Any) -> float:
    """Busy CPU seconds of all cores from one ``psutil.cpu_times()`` reading."""
    return float(sum(getattr(times, name, 0.0) for name in BUSY_FIELDS))


def read(root: Path = CGROUP_ROOT, cpu_times: CpuTimes = psutil.cpu_times, now: float | None = None) -> Reading | None:
    """One reading, or None where the host's CPU times cannot be read."""
    try:
        busy = busy_seconds(cpu_times())
    except (OSError, RuntimeError):
        return None
    containers = container_cpu_seconds(detect_layout(root))
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

    def __init__(self, every_s: float = 5.0, root: Path = CGROUP_ROOT, cpu_times: CpuTimes = psutil.cpu_times) -> None:
        self.every_s = every_s
        self.root, self.cpu_times = root, cpu_times
        self.readings: list[Reading] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="faultlab-hostload", daemon=True)

    def _take(self) -> None:
        reading = read(self.root, self.cpu_times)
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
