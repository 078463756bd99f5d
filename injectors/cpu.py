"""CPU overutilization (TELESTO Table 1: 90 % of the CPU) and the radiography CPU ramp.

``load_pct`` is a percentage of ``cores``; with a CPU quota on the container the cores are
capped at the quota. The ramp (LSTM radiography paper, third scenario: 10 % to 80 % in 10 %
steps) runs ``stress-ng`` once per step of ``ramp_step_s`` seconds.
"""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from faultlab.injectors import procs
from faultlab.injectors.base import EffectSpec, Fault, FaultParams, HostDemand
from faultlab.injectors.registry import FAULTS


class CpuParams(FaultParams):
    load_pct: float = Field(default=90.0, gt=0, le=100)
    cores: int = Field(default=1, ge=1, le=64)
    ramp_from_pct: float | None = Field(default=None, gt=0, le=100)
    ramp_to_pct: float | None = Field(default=None, gt=0, le=100)
    ramp_step_pct: float | None = Field(default=None, gt=0, le=100)
    ramp_step_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _ramp_complete(self) -> CpuParams:
        ramp = [self.ramp_from_pct, self.ramp_to_pct, self.ramp_step_pct, self.ramp_step_s]
        if any(v is not None for v in ramp) and any(v is None for v in ramp):
            raise ValueError("a ramp needs ramp_from_pct, ramp_to_pct, ramp_step_pct and ramp_step_s")
        if self.ramp_from_pct is not None and self.ramp_to_pct < self.ramp_from_pct:
            raise ValueError("ramp_to_pct must be >= ramp_from_pct")
        return self

    @property
    def is_ramp(self) -> bool:
        return self.ramp_from_pct is not None

    def steps_pct(self) -> list[float]:
        """The ramp's load levels, or ``[load_pct]``."""
        if not self.is_ramp:
            return [self.load_pct]
        n = int(math.floor((self.ramp_to_pct - self.ramp_from_pct) / self.ramp_step_pct + 1e-9)) + 1
        return [round(self.ramp_from_pct + i * self.ramp_step_pct, 6) for i in range(n)]


def effective_cores(cores: int, quota_cores: float) -> float:
    """The cores the percentage refers to: ``cores``, capped at the container's quota."""
    return min(float(cores), quota_cores) if quota_cores > 0 else float(cores)


def stress_args(load_pct: float, eff_cores: float) -> tuple[int, float]:
    """(workers, per-worker load %) so that the total is ``load_pct`` % of ``eff_cores``."""
    workers = max(1, math.ceil(eff_cores - 1e-9))
    return workers, min(100.0, load_pct * eff_cores / workers)


@FAULTS.register("cpu")
class CpuFault(Fault):
    dataset_metrics = ("cpu_cores",)
    Params = CpuParams
    mechanisms = ("stress-ng",)
    needs = ("exec",)
    tools = ("stress-ng",)
    description = "load the target at load_pct % of cores (or a ramp), stress-ng inside it"
    intensity_param, intensity_unit = "load_pct", "% load"
    params: CpuParams

    def _eff(self) -> float:
        return effective_cores(self.params.cores, self.ctx.target.cpu_quota_cores)

    def min_duration_s(self) -> float:
        p = self.params
        return len(p.steps_pct()) * p.ramp_step_s if p.is_ramp else 0.0

    @classmethod
    def host_demand(cls, params: CpuParams, duration_s: float) -> HostDemand:
        return HostDemand(cores=float(params.cores))

    def effect(self, duration_s: float) -> EffectSpec:
        p = self.params
        levels = p.steps_pct()
        if p.is_ramp:  # the mean over the steps that fit in the fault, the last one held
            n_steps = max(1, int(duration_s // p.ramp_step_s))
            held = [levels[min(i, len(levels) - 1)] for i in range(n_steps)]
            mean_pct = sum(held) / len(held)
        else:
            mean_pct = p.load_pct
        return EffectSpec("cpu_cores", "cores", "up", expected=mean_pct / 100 * self._eff())

    def apply(self, duration_s: float) -> str:
        eff = self._eff()
        timeout_s = int(math.ceil(duration_s)) + 5  # dies by itself if the harness is killed
        if self.params.is_ramp:
            parts = []
            for pct in self.params.steps_pct():
                workers, load = stress_args(pct, eff)
                parts.append(f"stress-ng --cpu {workers} --cpu-load {load:.0f} "
                             f"--timeout {int(self.params.ramp_step_s)}s -q")
            last_workers, last_load = stress_args(self.params.steps_pct()[-1], eff)
            parts.append(f"exec stress-ng --cpu {last_workers} --cpu-load {last_load:.0f} "
                         f"--timeout {timeout_s}s -q")
            script = "; ".join(parts)
        else:
            workers, load = stress_args(self.params.load_pct, eff)
            script = f"exec stress-ng --cpu {workers} --cpu-load {load:.0f} --timeout {timeout_s}s -q"
        procs.start(self.ctx.ops, self.ctx.target, self.ctx.mark, script)
        return "stress-ng"

    def revert(self) -> None:
        procs.kill(self.ctx.ops, self.ctx.target, self.ctx.mark)
