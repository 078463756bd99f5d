"""Network latency: ``delay_ms`` ± ``jitter_ms`` on the target's egress with ``tc netem``.

netem is the only mechanism: where the kernel lacks ``sch_netem`` (this project's machines) the
preflight fails before the run starts with a clear message. The effect check counts the packets
that went through the delay qdisc (``tc -s``), which shows the delay was in the path.
"""

from __future__ import annotations

from pydantic import Field

from faultlab.injectors import netns
from faultlab.injectors.base import EffectSpec, Fault, FaultParams
from faultlab.injectors.registry import FAULTS


class LatencyParams(FaultParams):
    delay_ms: float = Field(default=100.0, gt=0, le=60000)
    jitter_ms: float = Field(default=10.0, ge=0, le=60000)


@FAULTS.register("latency")
class LatencyFault(Fault):
    Params = LatencyParams
    mechanisms = ("netem",)
    needs = ("net_admin", "netem")
    tools = ("tc",)
    description = "add delay_ms +- jitter_ms to the target's egress (tc netem)"
    params: LatencyParams

    def effect(self, duration_s: float) -> EffectSpec:
        return EffectSpec("netem_packets", "packets", "up", min_abs=0.5)

    def apply(self, duration_s: float) -> str:
        netns.require_netem(self.ctx.ops, self.ctx.target, self.name)
        p = self.params
        jitter = f" {p.jitter_ms:g}ms" if p.jitter_ms else ""
        netns.add_qdisc(self.ctx.ops, self.ctx.target, f"netem delay {p.delay_ms:g}ms{jitter}")
        self.mechanism_ = "netem"
        return "netem"

    def measure(self) -> dict[str, float] | None:
        if self.mechanism_ != "netem":
            return None
        sent, _ = netns.read_qdisc_stats(self.ctx.ops, self.ctx.target)
        return {"baseline": 0.0, "during": float(sent)}

    def revert(self) -> None:
        netns.delete_qdiscs(self.ctx.ops, self.ctx.target)
