"""Packet loss (LSTM radiography paper, first scenario; TELESTO-style network faults).

Drops ``loss_pct`` % of the target's packets: with ``tc netem loss`` where the kernel has netem
(egress only), else with iptables ``statistic`` DROP rules on INPUT and OUTPUT (both directions;
the case on this project's kernel). The ground truth records which mechanism ran. The achieved
loss is read from the mechanism's own counters (packets dropped / packets seen), not sampled.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from faultlab.errors import RunFailed
from faultlab.injectors import netns
from faultlab.injectors.base import EffectSpec, Fault, FaultParams
from faultlab.injectors.registry import FAULTS


class PacketLossParams(FaultParams):
    loss_pct: float = Field(default=30.0, gt=0, le=100)
    mechanism: Literal["auto", "netem", "iptables"] = "auto"


@FAULTS.register("packet_loss")
class PacketLossFault(Fault):
    # lost segments are resent: the target's retransmissions (recordings from 2026-12-06 on)
    dataset_metrics = ("tcp_retrans_per_s",)
    Params = PacketLossParams
    mechanisms = ("netem", "iptables-statistic")
    needs = ("net_admin", "iptables")
    tools = ("iptables",)
    description = "drop loss_pct % of the target's packets (netem, else iptables statistic)"
    intensity_param, intensity_unit = "loss_pct", "% of packets"
    params: PacketLossParams

    def choose_mechanism(self) -> str:
        wanted = self.params.mechanism
        if wanted == "iptables":
            return "iptables-statistic"
        has_netem = netns.netem_available(self.ctx.ops, self.ctx.target)
        if wanted == "netem" and not has_netem:
            raise RunFailed(f"packet_loss on {self.ctx.target.service}: mechanism netem asked "
                            "but the kernel has no sch_netem")
        return "netem" if has_netem else "iptables-statistic"

    def effect(self, duration_s: float) -> EffectSpec:
        return EffectSpec("dropped_pct", "%", "up", expected=self.params.loss_pct)

    def apply(self, duration_s: float) -> str:
        mechanism = self.choose_mechanism()
        if mechanism == "netem":
            netns.add_qdisc(self.ctx.ops, self.ctx.target, f"netem loss {self.params.loss_pct}%")
        else:
            netns.add_loss_rules(self.ctx.ops, self.ctx.target, self.ctx.mark, self.params.loss_pct)
        self.mechanism_ = mechanism
        return mechanism

    def measure(self) -> dict[str, float] | None:
        if self.mechanism_ == "netem":
            sent, dropped = netns.read_qdisc_stats(self.ctx.ops, self.ctx.target)
            seen = sent + dropped
        elif self.mechanism_ == "iptables-statistic":
            seen, dropped = netns.read_rule_counters(self.ctx.ops, self.ctx.target, self.ctx.mark)
        else:
            return None
        if seen == 0:
            return None  # no traffic: the loss is not measured
        return {"baseline": 0.0, "during": 100.0 * dropped / seen, "packets": float(seen)}

    def revert(self) -> None:
        netns.delete_rules(self.ctx.ops, self.ctx.target, self.ctx.mark)
        netns.delete_qdiscs(self.ctx.ops, self.ctx.target)
