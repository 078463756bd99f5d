"""A bounded CPU share for the live process: it must not take CPU the testbed and its faults need.

Fitting a detector during a run competes with the containers for the host's cores, and a CPU
fault that reaches 60 % of its asked load instead of 90 % is a different recording. ``nice``
does not help: Docker's containers sit in their own cpu cgroup, and the kernel shares CPU
between cgroups before niceness counts (ENVIRONMENT.md, "CPU sharing"). So the live process
runs in a cpu cgroup of its own with the lowest weight:

* cgroup v1 (``/sys/fs/cgroup/cpu``): ``cpu.shares`` = 2 (default 1024);
* cgroup v2 (unified root): ``cpu.weight`` = 1 (default 100), the cpu controller enabled for
  the root's children.

It then gets what the containers leave idle and yields the moment they want it (and the
moment anything else on the host wants it: on a busy host it gets nothing, and the run says so).
``FAULTLAB_LIVE_CPU_SHARES`` overrides the weight (v1 shares; v2 weight = shares x 100 / 1024)
for a host that cannot be kept quiet; a recording is made on a quiet one with the default. It is also
held to one compute thread (``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``), so it never
uses more than one core even on an idle host. Where no such group can be made (not root, a
read-only or delegated hierarchy, not Linux) the documented fallback is ``nice 19`` plus the
one thread: the live process then competes at full weight for at most one core, and the run
says so (``mode`` ``nice``, ``detail``). Groups are named ``faultlab-live-<runner pid>`` and
removed when the process is gone; empty ones left by a killed runner are removed next time.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
V1_SHARES = 2
V2_WEIGHT = 1
SHARES_ENV = "FAULTLAB_LIVE_CPU_SHARES"
PREFIX = "faultlab-live-"
#: Environment of the live process: one compute thread for NumPy's BLAS and torch.
ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


@dataclass(frozen=True)
class CpuBound:
    """How the live process is held back: ``mode`` is ``cgroup-v1``, ``cgroup-v2`` or ``nice``."""

    mode: str
    path: Path | None
    detail: str

    def admit(self, pid: int) -> CpuBound:
        """Put process ``pid`` (just started) in the group, else renice it to 19; returns the bound
        in effect (the fallback when the group refused the process)."""
        bound = self
        if self.path is not None:
            try:
                (self.path / "cgroup.procs").write_text(str(pid))
                return self
            except OSError as exc:
                bound = CpuBound("nice", None, f"nice 19 and one thread ({self.path} refused the process: "
                                               f"{exc.strerror or exc}); it still competes with the containers for up to one core")
        try:
            os.setpriority(os.PRIO_PROCESS, pid, 19)
        except OSError:
            pass
        return bound

    def release(self, wait_s: float = 5.0) -> None:
        """Remove the group once its processes are gone (idempotent; a group still busy stays)."""
        if self.path is None:
            return
        deadline = time.monotonic() + wait_s
        while self.path.exists():
            try:
                self.path.rmdir()
                return
            except OSError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.1)

    def as_json(self) -> dict[str, str | None]:
        return {"mode": self.mode, "cgroup": str(self.path) if self.path else None, "detail": self.detail}


def make_bound(root: Path = CGROUP_ROOT, name: str | None = None) -> CpuBound:
    """A low-weight cpu cgroup for the live process where the machine allows one, else the fallback."""
    name = name or f"{PREFIX}{os.getpid()}"
    shares, weight = _weights()
    reasons = []
    v1 = root / "cpu"
    if (v1 / "cpu.shares").exists():
        try:
            _remove_stale(v1)
            group = v1 / name
            group.mkdir(exist_ok=True)
            (group / "cpu.shares").write_text(str(shares))
            return CpuBound("cgroup-v1", group, f"cpu cgroup {group} with cpu.shares {shares} (default 1024), one thread")
        except OSError as exc:
            reasons.append(f"{v1}: {exc.strerror or exc}")
    if (root / "cgroup.controllers").exists():
        try:
            _remove_stale(root)
            if "cpu" not in (root / "cgroup.subtree_control").read_text().split():
                (root / "cgroup.subtree_control").write_text("+cpu")
            group = root / name
            group.mkdir(exist_ok=True)
            (group / "cpu.weight").write_text(str(weight))
            return CpuBound("cgroup-v2", group, f"cpu cgroup {group} with cpu.weight {weight} (default 100), one thread")
        except OSError as exc:
            reasons.append(f"{root}: {exc.strerror or exc}")
    why = "; ".join(reasons) or f"no cgroup cpu controller under {root}"
    return CpuBound("nice", None, f"nice 19 and one thread (no low-weight cpu cgroup: {why}); it still "
                                  "competes with the containers for up to one core")


def _weights() -> tuple[int, int]:
    """(v1 shares, v2 weight): the lowest, or ``FAULTLAB_LIVE_CPU_SHARES`` (2..262144) when set."""
    from faultlab.errors import BadInput

    text = os.environ.get(SHARES_ENV)
    if not text:
        return V1_SHARES, V2_WEIGHT
    if not text.isdigit() or not 2 <= int(text) <= 262144:
        raise BadInput(f"{SHARES_ENV}={text!r}: expected cpu.shares between 2 and 262144")
    return int(text), max(1, min(10000, int(text) * 100 // 1024))


def _remove_stale(parent: Path) -> None:
    """Empty groups of runners that no longer run (a SIGKILL leaves them); busy ones stay."""
    for group in parent.glob(f"{PREFIX}*"):
        pid = group.name[len(PREFIX):]
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            try:
                group.rmdir()
            except OSError:
                pass
