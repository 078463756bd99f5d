"""Pause a service container (cgroup freezer, ``docker pause``); revert unpauses it."""

from __future__ import annotations

from faultlab.injectors.base import EffectSpec, Fault, FaultParams
from faultlab.injectors.registry import FAULTS


class PauseParams(FaultParams):
    pass


@FAULTS.register("pause")
class PauseFault(Fault):
    Params = PauseParams
    mechanisms = ("docker-pause",)
    needs = ()
    description = "freeze every process of the target (docker pause) for the duration"

    def effect(self, duration_s: float) -> EffectSpec:
        return EffectSpec("frozen", "fraction of samples", "up", expected=1.0, min_fraction=0.8)

    def apply(self, duration_s: float) -> str:
        self.ctx.ops.pause(self.ctx.target)
        return "docker-pause"

    def revert(self) -> None:
        self.ctx.ops.unpause(self.ctx.target)
