"""Marked processes inside a target container: start them, find them, kill them.

A fault's tool runs through ``docker exec`` with ``FAULTLAB_OWNER=faultlab:<fault_id>`` in its
environment, which every child inherits; finding and killing is done from inside the container
by scanning ``/proc/*/environ`` (no pid bookkeeping that a SIGKILL of the harness could lose).
"""

from __future__ import annotations

import shlex

from faultlab.injectors.docker_ops import DockerOps
from faultlab.injectors.marks import OWNER_ENV, OWNER_PREFIX
from faultlab.injectors.targets import Target


def scan_script(mark: str | None, kill: bool) -> str:
    """Shell that prints (and optionally SIGKILLs) the pids carrying the owner mark.

    ``mark=None`` matches every fault's processes (``faultlab:`` prefix).
    """
    pattern = f"^{OWNER_ENV}={mark}$" if mark else f"^{OWNER_ENV}={OWNER_PREFIX}"
    action = 'kill -9 "$p" 2>/dev/null; echo "$p"' if kill else 'echo "$p"'
    return (
        "for d in /proc/[0-9]*; do p=${d#/proc/}; "
        '[ "$p" = "$$" ] && continue; '
        f"if tr '\\0' '\\n' < \"$d/environ\" 2>/dev/null | grep -q {shlex.quote(pattern)}; "
        f"then {action}; fi; done; true"
    )


def start(ops: DockerOps, target: Target, mark: str, script: str) -> None:
    """Start a marked background shell script in the target (returns at once)."""
    ops.sh(target, script, mark=mark, detach=True)


def find(ops: DockerOps, target: Target, mark: str | None = None) -> list[int]:
    """Pids of marked processes in the target."""
    _, out = ops.sh(target, scan_script(mark, kill=False))
    return [int(p) for p in out.split() if p.isdigit()]


def kill(ops: DockerOps, target: Target, mark: str | None = None) -> list[int]:
    """SIGKILL the marked processes in the target; idempotent. Returns the pids killed."""
    _, out = ops.sh(target, scan_script(mark, kill=True))
    return [int(p) for p in out.split() if p.isdigit()]
