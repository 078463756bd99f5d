"""Memory leak (TELESTO Table 1: 1 MB every 3 s in VMs, 2 MB every 3 s in hypervisors).

``size_mb`` is allocated and written every ``every_s`` seconds until the fault is reverted:
anonymous memory, so the working set (``memory_bytes``, what the effect check and the dataset
measure) and ``rss_bytes`` grow by it.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field

from faultlab.injectors import procs
from faultlab.injectors.base import EffectSpec, Fault, FaultParams, HostDemand
from faultlab.injectors.registry import FAULTS

MB = 2**20
LEAK_SCRIPT = (
    "exec python3 -c 'import time\nkeep=[]\nend=time.time()+{hold_s}\n"
    "while time.time()<end:\n keep.append(bytes([1])*int({size_mb}*1048576))\n time.sleep({every_s})'"
)


class MemoryLeakParams(FaultParams):
    size_mb: float = Field(default=1.0, gt=0, le=4096)
    every_s: float = Field(default=3.0, gt=0)


@FAULTS.register("memory_leak")
class MemoryLeakFault(Fault):
    dataset_metrics = ("memory_bytes", "rss_bytes")
    Params = MemoryLeakParams
    mechanisms = ("python3-leak",)
    needs = ("exec", "memory")
    tools = ("python3",)
    description = "allocate and touch size_mb MB every every_s s inside the target"
    intensity_param, intensity_unit = "size_mb", "MB/s"

    @classmethod
    def intensity(cls, raw: dict[str, Any] | None) -> tuple[float, str] | None:
        """A leak's strength is its rate: ``size_mb`` every ``every_s`` seconds, in MB/s."""
        params = cls.validate_params(raw)
        return params.size_mb / params.every_s, cls.intensity_unit
    params: MemoryLeakParams

    def chunks(self, duration_s: float) -> int:
        return int(math.floor(duration_s / self.params.every_s)) + 1

    def memory_needed_mb(self, duration_s: float) -> float:
        return self.params.size_mb * self.chunks(duration_s)

    @classmethod
    def host_demand(cls, params: MemoryLeakParams, duration_s: float) -> HostDemand:
        return HostDemand(memory_mb=params.size_mb * (int(math.floor(duration_s / params.every_s)) + 1))

    def effect(self, duration_s: float) -> EffectSpec:
        # the metric's mean over the fault: the allocation grows linearly from 1 to n chunks
        mean_chunks = (1 + self.chunks(duration_s)) / 2
        return EffectSpec("memory_bytes", "bytes", "up", expected=self.params.size_mb * MB * mean_chunks)

    def apply(self, duration_s: float) -> str:
        p = self.params
        script = LEAK_SCRIPT.format(size_mb=p.size_mb, every_s=p.every_s, hold_s=int(duration_s) + 5)
        procs.start(self.ctx.ops, self.ctx.target, self.ctx.mark, script)
        return "python3-leak"

    def revert(self) -> None:
        procs.kill(self.ctx.ops, self.ctx.target, self.ctx.mark)
