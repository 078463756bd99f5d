"""Preflight: check what each planned fault needs before anything runs, and fail loudly.

A fault that would do nothing (no netem for a delay, no iptables, not enough memory, no
load-generator image, a tool missing in the target) is refused before the run starts, with a
message naming the fault, the target and what is missing.
"""

from __future__ import annotations

import psutil

from faultlab.errors import RunFailed
from faultlab.injectors import netns
from faultlab.injectors.base import Fault

MB = 2**20
HOST_MARGIN_MB = 256.0  # left free on the host for the testbed and the harness


def check_memory(needed_mb: float, usage_bytes: int, limit_bytes: int, available_bytes: int,
                 where: str) -> None:
    """``needed_mb`` on top of current use (the working set) must fit under the container limit
    and host memory."""
    needed = needed_mb * MB
    if limit_bytes > 0 and usage_bytes + needed > limit_bytes:
        raise RunFailed(
            f"{where}: {needed_mb:g} MB on top of the current {usage_bytes / MB:.0f} MB exceeds the "
            f"container's memory limit of {limit_bytes / MB:.0f} MB"
        )
    if needed + HOST_MARGIN_MB * MB > available_bytes:
        raise RunFailed(
            f"{where}: {needed_mb:g} MB (+{HOST_MARGIN_MB:g} MB margin) exceeds the host's "
            f"available memory of {available_bytes / MB:.0f} MB"
        )


def container_working_set(fault: Fault) -> int:
    """The target's working set (what the dataset's ``memory_bytes`` shows): the page cache the
    kernel would drop before the limit bites is not counted as used."""
    from faultlab.injectors.counters import CGROUP_ROOT
    from faultlab.testbed.app.cgroups import detect_layout, read_cgroup_stats

    stats = read_cgroup_stats(detect_layout(CGROUP_ROOT), fault.ctx.target.container_id)
    return stats.memory.working_set_bytes if stats is not None else 0


_PREWARMED: set[tuple[str, str]] = set()


def prewarm_tools(fault: Fault) -> bool:
    """Read the fault's tools (binaries and their shared libraries) into the page cache from the
    harness's own cgroup, through the target's filesystem on the host; True when done.

    A page is charged to the cgroup that first brings it into the page cache. Run cold inside the
    target, ``stress-ng`` left 25 MB and ``fio`` 5-28 MB of file cache charged to the target's
    memory long after the fault (measured on catalog, 2026-12-05): fault residue in its cache and,
    through the active file list, in its working set. Read here first, the pages belong to the
    host, and the target maps them without a charge. Image layers are shared, so this happens
    once per tool and image. Where the host cannot see Docker's storage (a remote or rootless
    engine) nothing is read and the run goes on.
    """
    from pathlib import Path

    ctx = fault.ctx
    try:
        merged = ctx.ops.client.containers.get(ctx.target.container_id).attrs["GraphDriver"]["Data"]["MergedDir"]
    except (KeyError, TypeError, AttributeError):
        return False
    if not merged or not Path(merged).is_dir():
        return False
    done = False
    for tool in fault.tools:
        key = (ctx.target.image, tool)
        if key in _PREWARMED:
            done = True
            continue
        # resolved inside the container: its symlinks must not lead to the host's files
        listing = (f'p=$(command -v {tool}) && for f in "$p" $(ldd "$p" 2>/dev/null | grep -o "/[^ ]*"); '
                   'do readlink -f "$f"; done; true')
        _, out = ctx.ops.sh(ctx.target, listing)
        paths = {line.strip() for line in out.splitlines() if line.strip().startswith("/")}
        for path in sorted(paths):
            try:
                with open(Path(merged) / path.lstrip("/"), "rb") as fh:
                    while fh.read(1 << 20):
                        pass
            except OSError:
                continue
        _PREWARMED.add(key)
        done = True
    return done


def check_fault(fault: Fault, duration_s: float) -> list[str]:
    """Check one fault's needs; return what was checked, raise RunFailed on the first miss."""
    ctx = fault.ctx
    target = ctx.target
    where = f"fault {fault.name!r} ({ctx.fault_id}) on {target.service}"
    checked: list[str] = []
    if duration_s < fault.min_duration_s():
        raise RunFailed(f"{where}: duration_s {duration_s:g} is shorter than its params need "
                        f"({fault.min_duration_s():g} s)")
    needs = fault.active_needs()
    if fault.name not in ("kill",) and not target.running:
        raise RunFailed(f"{where}: the container {target.container_name} is not running")
    if "exec" in needs and fault.tools:
        script = " && ".join(f"command -v {tool} >/dev/null" for tool in fault.tools)
        rc, _ = ctx.ops.sh(target, script)
        if rc != 0:
            raise RunFailed(f"{where}: missing in the container: {', '.join(fault.tools)}")
        checked.append("tools")
        if prewarm_tools(fault):
            checked.append("prewarm")
    if "net_admin" in needs or "iptables" in needs:
        rc, out = ctx.ops.sh(target, "iptables -w -L -n >/dev/null && tc qdisc show >/dev/null",
                             privileged=True)
        if rc != 0:
            raise RunFailed(f"{where}: no NET_ADMIN/iptables/tc in the target's namespace: "
                            f"{out.strip()[-200:]}")
        checked.append("net_admin")
    if "netem" in needs:
        netns.require_netem(ctx.ops, target, fault.name)
        checked.append("netem")
    if "tbf" in needs:
        rc, _ = ctx.ops.sh(target, "tc qdisc add dev lo root handle 4fa1: tbf rate 1gbit burst 32kbit "
                                   "latency 400ms && tc qdisc del dev lo root", privileged=True)
        if rc != 0:
            raise RunFailed(f"{where}: the kernel has no tbf qdisc")
        checked.append("tbf")
    if "memory" in needs:
        check_memory(fault.memory_needed_mb(duration_s), container_working_set(fault),
                     target.memory_limit_bytes, psutil.virtual_memory().available, where)
        checked.append("memory")
    if "locust_image" in needs:
        from faultlab.injectors.traffic import locust_image

        locust_image(ctx.ops)
        checked.append("locust_image")
    if "runtime_image" in needs:
        if not ctx.ops.image_exists(target.image):
            raise RunFailed(f"{where}: the target's image {target.image} is not available")
        if not target.networks:
            raise RunFailed(f"{where}: the target is on no network")
        checked.append("runtime_image")
    return checked
