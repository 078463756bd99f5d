"""Abnormal disk utilization (TELESTO Table 1: constant disk read and write operations).

``fio`` inside the target does random reads and writes of ``block_kb`` blocks on a file of
``file_mb`` in the container's /tmp, each direction capped at ``rate_mb_s`` (MB/s, 2**20).

No residue: with direct I/O the file is laid out with ``dd oflag=direct`` before fio starts. fio
would lay it out with buffered writes, and those pages stayed charged to the target's cgroup as
page cache (about 28 MB of a 64-MB file, decaying over minutes) long after the revert deleted
the file: measured on catalog, 2026-12-05. Deleting the file at the revert frees the rest.

Even so, the I/O itself leaves *active* page cache in the target's cgroup, file pages the file's
deletion does not free (about 0.25 MB per second of fault at 10 MB/s on ext4 under overlay2:
+5.4 MB after a 20-s fault on catalog, +10 MB after 120 s, 2026-12-06). Being active, it counts in
the working set, and it drains only under memory pressure, so every disk fault ratcheted the
target's memory up for the rest of a recording. The revert therefore asks the kernel to reclaim
the cache that grew during the fault (:func:`reclaim_page_cache`; cgroup v1 drops all of the
target's cache, a few MB the service reads back) and writes what it freed to the ground truth
(``detail.revert``). Where the host's cgroup files are not writable (not root, a remote engine)
the revert says so there instead and the residue stays.
"""

from __future__ import annotations

from pydantic import Field

from faultlab.injectors import procs
from faultlab.injectors.base import EffectSpec, Fault, FaultParams, HostDemand
from faultlab.injectors.counters import CGROUP_ROOT
from faultlab.injectors.registry import FAULTS
from faultlab.testbed.app.cgroups import detect_layout, read_cgroup_stats, reclaim_page_cache

MB = 2**20


class DiskParams(FaultParams):
    rate_mb_s: float | None = Field(default=10.0, gt=0)
    block_kb: int = Field(default=64, ge=4, le=16384)
    file_mb: int = Field(default=64, ge=1, le=8192)
    direct_io: bool = True


def data_file(fault_id: str) -> str:
    return f"/tmp/faultlab-{fault_id}.fio"


@FAULTS.register("disk")
class DiskFault(Fault):
    dataset_metrics = ("disk_read_bytes_per_s", "disk_write_bytes_per_s")
    Params = DiskParams
    mechanisms = ("fio",)
    needs = ("exec",)
    tools = ("fio", "dd")
    description = "constant random reads and writes with fio inside the target"
    intensity_param, intensity_unit = "rate_mb_s", "MB/s"
    params: DiskParams

    @classmethod
    def host_demand(cls, params: DiskParams, duration_s: float) -> HostDemand:
        return HostDemand(disk_mb=float(params.file_mb))

    def effect(self, duration_s: float) -> EffectSpec:
        if self.params.rate_mb_s is None:
            return EffectSpec("fs_bytes_per_s", "bytes/s", "up", min_abs=1.0 * MB)
        return EffectSpec("fs_bytes_per_s", "bytes/s", "up", expected=2 * self.params.rate_mb_s * MB)

    def fio_command(self, duration_s: float) -> str:
        p = self.params
        rate = f" --rate={int(p.rate_mb_s * 1024)}k" if p.rate_mb_s else ""
        path = data_file(self.ctx.fault_id)
        layout = f"dd if=/dev/zero of={path} bs=1M count={p.file_mb} oflag=direct status=none && " if p.direct_io else ""
        return (
            f"{layout}exec fio --name=faultlab --filename={data_file(self.ctx.fault_id)} --size={p.file_mb}M "
            f"--rw=randrw --bs={p.block_kb}k --direct={int(p.direct_io)} --time_based "
            f"--runtime={int(duration_s) + 5}{rate} --output=/dev/null"
        )

    def cache_bytes(self) -> int | None:
        """The target's page cache now (None when its cgroup cannot be read from here)."""
        stats = read_cgroup_stats(detect_layout(CGROUP_ROOT), self.ctx.target.container_id)
        return None if stats is None else stats.memory.cache_bytes

    def apply(self, duration_s: float) -> str:
        self.cache_before = self.cache_bytes()
        procs.start(self.ctx.ops, self.ctx.target, self.ctx.mark, self.fio_command(duration_s))
        return "fio"

    def revert(self) -> None:
        procs.kill(self.ctx.ops, self.ctx.target, self.ctx.mark)
        self.ctx.ops.sh(self.ctx.target, f"rm -f {data_file(self.ctx.fault_id)}")
        self.reclaim_cache()

    def reclaim_cache(self) -> None:
        """Drop the page cache the fault's I/O left in the target (see the module docstring)."""
        if not hasattr(self, "cache_before"):  # never applied (a cleanup's revert)
            return
        before, now = self.cache_before, self.cache_bytes()
        if before is None or now is None:
            self.revert_notes["page_cache"] = "not reclaimed: the target's cgroup is not readable here"
            return
        try:
            reclaim_page_cache(detect_layout(CGROUP_ROOT), self.ctx.target.container_id, now - before)
        except OSError as exc:
            self.revert_notes["page_cache"] = f"not reclaimed: {exc}"
            return
        after = self.cache_bytes()
        self.revert_notes.update(cache_before_mb=round(before / MB, 2), cache_at_revert_mb=round(now / MB, 2),
                                 cache_after_mb=None if after is None else round(after / MB, 2))
