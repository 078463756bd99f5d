"""Runs bench tasks one at a time in a worker process, so one can be stopped at once.

A deep model's training cannot be interrupted from inside reliably (a C++ loop holds the
thread; Ctrl-C used to take a minute to land), and a method that hangs must not hold the whole
bench. So the tasks run in a child process (``spawn``: a fresh interpreter, no inherited torch
thread pools) that ignores SIGINT; the parent waits on a pipe and, on a task's time-out or on
Ctrl-C/SIGTERM, kills the child at once and starts a new one for the next task. Each dataset is
sent to the child once; the child's environment (thread counts such as ``OMP_NUM_THREADS``)
is the parent's, so results equal an in-process run.

The child is not a daemon: methods may start processes of their own (RCAEval's RUN loads its
batches with 8 DataLoader workers, TSB-AD's KShapeAD uses a pool), which a daemonic process may
not. The parent kills it on close and, should it exit without closing, at interpreter exit.
"""

from __future__ import annotations

import importlib.util
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from faultlab.dataset import Dataset
from faultlab.harness.evaluation.tasks import Task, TaskOutcome, run_task

#: how often the parent wakes while a task runs (heartbeats, time-outs, signals)
POLL_S = 0.2


def describe_error(exc: BaseException) -> str:
    """``Type: message (file:line)`` of where it was raised: one line for the board."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def user_modules() -> list[tuple[str, str]]:
    """``(module name, file)`` of modules outside faultlab that registered a method in this process.

    Why: the worker is a fresh interpreter (``spawn``); it knows the package's methods, but not a
    user's own detector imported from a file of theirs, which then failed every task as
    "unknown detector". The worker imports these files too.
    """
    from faultlab.detectors import CLASSIFIERS, DETECTORS

    found: dict[str, str] = {}
    for registry in (DETECTORS, CLASSIFIERS):
        for _, method in registry.items():
            module = sys.modules.get(getattr(method, "__module__", "") or "")
            path = getattr(module, "__file__", None)
            if module is not None and path and module.__name__.split(".")[0] not in ("faultlab", "builtins"):
                found[module.__name__] = str(path)
    return sorted(found.items())


def import_files(modules: Sequence[tuple[str, str]]) -> None:
    """Import each ``(module name, file)`` not imported yet, as :func:`user_modules` found them."""
    for name, path in modules:
        if name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; elsewhere a no-op).

    Why: a Dask worker killed by its nanny (Ctrl-C on ``bench --workers``) left its task's child
    running an RCAEval method for hours. The parent may already be gone: then exit now.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            return
    if os.getppid() != parent_pid:
        os._exit(1)


def _serve(conn: Any, parent_pid: int | None = None) -> None:
    """The child: datasets arrive once, then tasks; each answer is (status, payload, seconds)."""
    if parent_pid is not None:
        die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; a Ctrl-C reaches both
    datasets: dict[str, Dataset] = {}
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message[0] == "dataset":
            datasets[message[1]] = message[2]
            continue
        if message[0] == "modules":
            try:
                import_files(message[1])
            except Exception:  # noqa: BLE001 - the tasks that need it fail with their own "unknown" error
                traceback.print_exc()
            continue
        _, task, metrics, options = message
        start = time.monotonic()
        try:
            result = run_task(datasets[task.dataset], task, metrics, options)
            conn.send(("ok", result, time.monotonic() - start))
        except Exception as exc:  # noqa: BLE001 - one method's failure is reported, the bench goes on
            conn.send(("error", describe_error(exc), time.monotonic() - start))


def _kill(process: Any) -> None:
    """SIGKILL the worker (a task in progress is abandoned, nothing to clean up) and reap it."""
    if process.is_alive():
        process.kill()
    process.join(timeout=5)


class LocalExecutor:
    """Tasks in plan order, each in the worker process, with an optional per-task time-out."""

    def __init__(self, timeout_s: float | None = None, heartbeat: Callable[[Task, float], None] | None = None) -> None:
        self.timeout_s = timeout_s
        self.heartbeat = heartbeat or (lambda task, elapsed: None)
        self._process: Any = None
        self._conn: Any = None
        self._sent: set[str] = set()

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, os.getpid()), name="faultlab-bench-worker", daemon=False)
        self._process.start()
        self._stop = weakref.finalize(self, _kill, self._process)  # also at exit, before multiprocessing joins it
        child.close()
        self._conn, self._sent = parent, set()
        modules = user_modules()
        if modules:
            self._conn.send(("modules", modules))

    def close(self) -> None:
        """Stop the worker now (SIGKILL: a task in progress is abandoned, nothing to clean up)."""
        if self._process is not None:
            self._stop()
            self._conn.close()
        self._process = self._conn = None

    def run(self, tasks: Sequence[Task], datasets: Mapping[str, Dataset], metrics: Sequence[str] | None,
            options: dict[str, Any]) -> Iterator[TaskOutcome]:
        try:
            for task in tasks:
                yield self._one(task, datasets[task.dataset], metrics, options)
        finally:
            self.close()

    def _one(self, task: Task, dataset: Dataset, metrics: Sequence[str] | None, options: dict[str, Any]) -> TaskOutcome:
        if self._process is None or not self._process.is_alive():
            self.close()
            self._start()
        if task.dataset not in self._sent:
            self._conn.send(("dataset", task.dataset, dataset))
            self._sent.add(task.dataset)
        self._conn.send(("task", task, list(metrics) if metrics else None, options))
        start = time.monotonic()
        last_beat = start
        while not self._conn.poll(POLL_S):
            now = time.monotonic()
            if not self._process.is_alive():
                code = self._process.exitcode
                self.close()
                return TaskOutcome(task, None, now - start, f"the worker process died (exit code {code})")
            if self.timeout_s is not None and now - start > self.timeout_s:
                self.close()
                return TaskOutcome(task, None, now - start, f"stopped after the task time-out of {self.timeout_s:g} s",
                                   timed_out=True, timeout_s=self.timeout_s)
            if now - last_beat >= 1.0:
                self.heartbeat(task, now - start)
                last_beat = now
        status, payload, seconds = self._conn.recv()
        if status == "ok":
            return TaskOutcome(task, payload, seconds)
        return TaskOutcome(task, None, seconds, payload)
