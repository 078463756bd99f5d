"""Abnormal memory allocation (TELESTO Table 1: 450 / 900 / 2000 MB by node size).

``size_mb`` (MB = 2**20 bytes) is allocated at once on top of the target's current use and every
page is written, so that it is resident and charged to the target's memory cgroup: anonymous
memory, so it shows in full in the working set (``memory_bytes``, what the effect check and the
dataset measure) and in ``rss_bytes``.
"""

from __future__ import annotations

from pydantic import Field

from faultlab.injectors import procs
from faultlab.injectors.base import EffectSpec, Fault, FaultParams, HostDemand
from faultlab.injectors.registry import FAULTS

MB = 2**20
ALLOC_SCRIPT = (
    "exec python3 -c 'import sys,time; b=bytes([1])*({size_mb}*1048576); time.sleep({hold_s})'"
)


class MemoryAllocParams(FaultParams):
    size_mb: float = Field(default=450.0, gt=0, le=65536)


@FAULTS.register("memory_alloc")
class MemoryAllocFault(Fault):
    dataset_metrics = ("memory_bytes", "rss_bytes")
    Params = MemoryAllocParams
    mechanisms = ("python3-alloc",)
    needs = ("exec", "memory")
    tools = ("python3",)
    description = "allocate and hold size_mb MB at once inside the target"
    intensity_param, intensity_unit = "size_mb", "MB"
    params: MemoryAllocParams

    def memory_needed_mb(self, duration_s: float) -> float:
        return self.params.size_mb

    @classmethod
    def host_demand(cls, params: MemoryAllocParams, duration_s: float) -> HostDemand:
        return HostDemand(memory_mb=params.size_mb)

    def effect(self, duration_s: float) -> EffectSpec:
        return EffectSpec("memory_bytes", "bytes", "up", expected=self.params.size_mb * MB)

    def apply(self, duration_s: float) -> str:
        script = ALLOC_SCRIPT.format(size_mb=int(self.params.size_mb), hold_s=int(duration_s) + 5)
        procs.start(self.ctx.ops, self.ctx.target, self.ctx.mark, script)
        return "python3-alloc"

    def revert(self) -> None:
        procs.kill(self.ctx.ops, self.ctx.target, self.ctx.mark)
