"""Abnormal disk utilization (TELESTO Table 1: constant disk read and write operations).

``fio`` inside the target does random reads and writes of ``block_kb`` blocks on a file of
``file_mb`` in the container's /tmp, each direction capped at ``rate_mb_s`` (MB/s, 2**20).

No residue: with direct I/O the file is laid out with ``dd oflag=direct`` before fio starts. fio
would lay it out with buffered writes, and those pages stayed charged to the target's cgroup as
page cache (about 28 MB of a 64-MB file, decaying over minutes) long after the revert deleted
the file: measured on catalog, 2026-12-05. Deleting the file at the revert frees the rest. The
cache fio and dd themselves leave (their files, about 30 MB per fault) is reclaimed by the
executor at the revert, as for every fault that runs a tool in its target (``page_cache.py``).
"""

from __future__ import annotations

from pydantic import Field

from faultlab.injectors import procs
from faultlab.injectors.base import EffectSpec, Fault, FaultParams, HostDemand
from faultlab.injectors.registry import FAULTS

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

    def apply(self, duration_s: float) -> str:
        procs.start(self.ctx.ops, self.ctx.target, self.ctx.mark, self.fio_command(duration_s))
        return "fio"

    def revert(self) -> None:
        procs.kill(self.ctx.ops, self.ctx.target, self.ctx.mark)
        self.ctx.ops.sh(self.ctx.target, f"rm -f {data_file(self.ctx.fault_id)}")
