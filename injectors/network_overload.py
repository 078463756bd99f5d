"""Network overload (TELESTO Table 1: "start to download large files").

An iperf3 server in a labelled helper container on the target's network sends (``download``)
or receives (``upload``) a bulk TCP stream to/from an iperf3 client running inside the target,
so the traffic crosses the target's interface. ``bandwidth_mbit`` paces the stream (iperf3
``-b``); ``tbf_mbit`` additionally caps the target's egress with a ``tbf`` qdisc.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from faultlab.injectors import netns, procs
from faultlab.injectors.base import EffectSpec, Fault, FaultParams
from faultlab.injectors.registry import FAULTS

IPERF_PORT = 5201


class NetworkOverloadParams(FaultParams):
    direction: Literal["download", "upload"] = "download"
    bandwidth_mbit: float | None = Field(default=None, gt=0)
    tbf_mbit: float | None = Field(default=None, gt=0)
    streams: int = Field(default=2, ge=1, le=16)


@FAULTS.register("network_overload")
class NetworkOverloadFault(Fault):
    dataset_metrics = ("rx_bytes_per_s", "tx_bytes_per_s")
    Params = NetworkOverloadParams
    mechanisms = ("iperf3", "iperf3+tbf")
    needs = ("exec", "runtime_image", "net_admin", "tbf")
    tools = ("iperf3",)
    description = "bulk iperf3 transfer to/from the target (optionally capped)"
    intensity_param, intensity_unit = "bandwidth_mbit", "Mbit/s"
    params: NetworkOverloadParams

    def active_needs(self) -> tuple:
        return self.needs if self.params.tbf_mbit else ("exec", "runtime_image")

    def effect(self, duration_s: float) -> EffectSpec:
        p = self.params
        caps = [c for c in (p.bandwidth_mbit, p.tbf_mbit if p.direction == "upload" else None) if c]
        if caps:
            return EffectSpec("net_mbit_s", "Mbit/s", "up", expected=min(caps))
        return EffectSpec("net_mbit_s", "Mbit/s", "up", min_abs=10.0)

    def apply(self, duration_s: float) -> str:
        ctx, p = self.ctx, self.params
        network = ctx.target.networks[0]
        server = ctx.ops.run_helper(ctx.target.image, ["iperf3", "-s", "-1", "-p", str(IPERF_PORT)],
                                    ctx.mark, network=network, entrypoint=[])
        address = ctx.ops.container_ip(server, network)
        mechanism = "iperf3"
        if p.tbf_mbit:
            netns.add_qdisc(ctx.ops, ctx.target, f"tbf rate {p.tbf_mbit:g}mbit burst 32kbit latency 400ms")
            mechanism = "iperf3+tbf"
        rate = f" -b {p.bandwidth_mbit / p.streams:g}M" if p.bandwidth_mbit else ""
        reverse = " -R" if p.direction == "download" else ""
        # retry while the server container starts listening
        script = (
            f"for i in 1 2 3 4 5 6 7 8 9 10; do iperf3 -c {address} -p {IPERF_PORT} -P {p.streams}"
            f"{reverse}{rate} -t {int(duration_s) + 5} >/dev/null 2>&1 && break; sleep 0.3; done"
        )
        procs.start(ctx.ops, ctx.target, ctx.mark, script)
        self.mechanism_ = mechanism
        return mechanism

    def revert(self) -> None:
        procs.kill(self.ctx.ops, self.ctx.target, self.ctx.mark)
        self.ctx.ops.remove_helpers(self.ctx.mark)
        netns.delete_qdiscs(self.ctx.ops, self.ctx.target)
