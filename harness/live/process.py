"""The runner's handle on its live process: start it CPU-bounded, sample its CPU, stop it on every path.

:class:`LiveProcess` starts :mod:`.session` as a child (its own session, so a terminal's Ctrl-C
reaches the runner, which stops it in order), puts it in the low-weight CPU group of
:mod:`.cpubound`, and samples its CPU time every few seconds so the host-load guard can say how
much of the "outside" load was live detection. :meth:`LiveProcess.stop` (SIGTERM, then SIGKILL
after a grace period) is idempotent and runs from the runner's ``finally``, and the child also
dies with the runner (``PR_SET_PDEATHSIG``) if the runner is SIGKILLed. Each stop writes
``live/usage.json``: the bound in effect, CPU seconds and cores per phase.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import psutil

from faultlab.harness.live.cpubound import CGROUP_ROOT, ONE_THREAD_ENV, CpuBound, make_bound
from faultlab.harness.live.files import LiveFiles
from faultlab.harness.live.session import SessionConfig

Log = Callable[[str], None]
SAMPLE_EVERY_S = 5.0
STOP_GRACE_S = 20.0


class LiveProcess:
    """One live process per run (see the module docstring); use as a context manager or start/stop."""

    def __init__(self, config: SessionConfig, log: Log = lambda line: None, cgroup_root: Path = CGROUP_ROOT) -> None:
        self.config = config
        self.cgroup_root = cgroup_root
        self.files = LiveFiles(Path(config.folder))
        self.log = log
        self.bound: CpuBound | None = None
        self.samples: list[tuple[float, float]] = []  # (unix time, CPU seconds of the process so far)
        self._proc: subprocess.Popen | None = None
        self._out: IO[bytes] | None = None
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample_loop, name="faultlab-live-cpu", daemon=True)
        self.usage: dict[str, Any] | None = None

    # ---- start ---------------------------------------------------------------------------------
    def start(self) -> LiveProcess:
        self.files.dir.mkdir(parents=True, exist_ok=True)
        self.config.parent_pid = os.getpid()
        self.config.write(self.files.config)
        bound = make_bound(self.cgroup_root)
        self._out = self.files.log.open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "faultlab.harness.live.session", str(self.files.config)],
            stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **ONE_THREAD_ENV}, start_new_session=True,
        )
        self.bound = bound.admit(self._proc.pid)
        if self.bound is not bound:
            bound.release()
        self._sampler.start()
        return self

    def __enter__(self) -> LiveProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- while it runs -------------------------------------------------------------------------
    def _cpu_now(self) -> float | None:
        try:
            times = psutil.Process(self._proc.pid).cpu_times() if self._proc else None
        except (psutil.Error, OSError):
            return None
        return None if times is None else float(times.user + times.system + times.children_user + times.children_system)

    def _sample_loop(self) -> None:
        while True:
            value = self._cpu_now()
            if value is not None:
                self.samples.append((time.time(), value))
            if self._stop.wait(SAMPLE_EVERY_S):
                return

    def status(self) -> dict[str, Any]:
        """The live process's own ``status.json`` ({} before it wrote one)."""
        try:
            return json.loads(self.files.status.read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # ---- stop ----------------------------------------------------------------------------------
    def stop(self, phases: Mapping[str, tuple[float, float]] | None = None,
             grace_s: float = STOP_GRACE_S) -> dict[str, Any] | None:
        """SIGTERM, wait up to ``grace_s``, then SIGKILL; remove the CPU group; write ``usage.json``
        (with the mean cores used in each of ``phases``, unix-second spans).

        Idempotent: a second call (or a call before :meth:`start`) returns what the first found.
        """
        if self._proc is None or self.usage is not None:
            return self.usage
        value = self._cpu_now()
        if value is not None:
            self.samples.append((time.time(), value))
        if self._proc.poll() is None:
            try:
                self._proc.send_signal(signal.SIGTERM)
                self._proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.log(f"live: the live process did not stop within {grace_s:g} s after SIGTERM; killed")
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._stop.set()
        if self._sampler.is_alive():
            self._sampler.join(timeout=SAMPLE_EVERY_S + 1)
        if self.bound is not None:
            self.bound.release()
        if self._out is not None:
            self._out.close()
        status = self.status()
        if isinstance(status.get("cpu_s"), (int, float)):
            self.samples.append((time.time(), float(status["cpu_s"])))  # its own final count
        self.usage = {
            "exit_code": self._proc.returncode, "state": status.get("state"), "reason": status.get("reason"),
            "cpu_bound": self.bound.as_json() if self.bound else None,
            "cpu_s": round(self.samples[-1][1], 3) if self.samples else None,
            "cores": self.cores(phases or {}),
        }
        self.files.usage.write_text(json.dumps(self.usage, indent=2) + "\n")
        return self.usage

    def cores(self, phases: Mapping[str, tuple[float, float]]) -> dict[str, float]:
        """Mean cores the live process used in each phase ``(start, end)`` (unix seconds), from the samples."""
        out = {}
        for name, (t0, t1) in phases.items():
            # from the last sample at or before the phase's start (else its first) to its last sample
            before = [(t, c) for t, c in self.samples if t <= t0]
            inside = [(t, c) for t, c in self.samples if t0 < t <= t1]
            points = before[-1:] + inside
            if len(points) >= 2 and points[-1][0] > points[0][0]:
                out[name] = round((points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0]), 3)
        return out
