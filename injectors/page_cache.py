"""The page cache a fault's tools leave in its target, taken back at the revert.

A fault that runs a program inside its target (stress-ng, fio and dd, iperf3, python3) has the
program's files read into the page cache, and the kernel charges those pages to the *target's*
cgroup. They outlive the fault: part of them sits on the active list, so it counts in the
working set (the dataset's ``memory_bytes``) and drains only under memory pressure, over 10-20
minutes or never. Every such fault then ratcheted its target's memory up for the rest of a
recording, which detectors that compare memory with training read as an anomaly in fault-free
test steps. Measured on the 2026-12-06 ladder recording: a disk fault took catalog's page cache
from 0.8 to 32 MB whatever its rate (1-20 MB/s for 20 s), a CPU fault left 12-13 MB; reading the
tools from the host first (``preflight.prewarm_tools``) does not prevent it.

So the executor reads the target's page cache before the fault is applied and, after its revert,
asks the kernel to reclaim what grew (:func:`reclaim_page_cache`:
cgroup v2 reclaims exactly that many bytes; v1 can only drop all of the target's cache, a few MB
of its own that the service reads back). What was freed, or why nothing could be, goes into the
ground truth's ``detail.revert``: the cgroup files must be writable, so this needs root on the
Docker host (it is skipped, and said so, with a remote engine or without root).
"""

from __future__ import annotations

from typing import Any

from faultlab.testbed.app.cgroups import Layout, read_cgroup_stats

MB = 2**20


def reclaim_page_cache(layout: Layout, container_id: str, excess_bytes: int) -> None:
    """Ask the kernel to drop page cache charged to a container (needs root on the host).

    v2 reclaims ``excess_bytes`` exactly (``memory.reclaim``, kernel 5.19+). v1 has no amount:
    ``memory.force_empty`` drops every reclaimable page of the cgroup, so the service's own cache
    goes too (a few MB for this testbed's services; they read it back). Without swap, anonymous
    memory is never touched. Raises OSError when the files are missing or not writable.
    """
    if excess_bytes <= 0:
        return
    folder = layout.container_dir(container_id, "memory")
    if folder is None:
        raise FileNotFoundError(f"no memory cgroup for container {container_id[:12]}")
    if layout.version == 2:
        (folder / "memory.reclaim").write_text(str(int(excess_bytes)))
    else:
        (folder / "memory.force_empty").write_text("0")


def cache_bytes(layout: Layout, container_id: str) -> int | None:
    """The container's page cache now (None when its cgroup cannot be read from here)."""
    stats = read_cgroup_stats(layout, container_id)
    return None if stats is None else stats.memory.cache_bytes


def reclaim_growth(layout: Layout, container_id: str, before: int | None) -> dict[str, Any]:
    """Reclaim the page cache that grew since ``before``; return what to write to the ground truth."""
    now = cache_bytes(layout, container_id)
    if before is None or now is None:
        return {"page_cache": "not reclaimed: the target's cgroup is not readable here"}
    try:
        reclaim_page_cache(layout, container_id, now - before)
    except OSError as exc:
        return {"page_cache": f"not reclaimed: {exc}"}
    after = cache_bytes(layout, container_id)
    return {"cache_before_mb": round(before / MB, 2), "cache_at_revert_mb": round(now / MB, 2),
            "cache_after_mb": None if after is None else round(after / MB, 2)}
