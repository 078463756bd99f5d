"""A scenario resolved into a plan: every draw made, every duration scaled, written before the run.

The plan (``plan.yaml`` in the run folder) is what actually runs: the time line (warm-up,
fault-free training period, fault phase, cool-down), the load with its seed, and every fault
with its id, type, targets, params, start offset and duration (the injector's
``PlannedFault``). Reading it back gives the same plan, so a run can be replayed exactly.
Resolving needs no testbed: preflight (netem, memory, images) is a separate step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from faultlab.errors import BadInput
from faultlab.harness.scenario.checks import join_path
from faultlab.harness.scenario.model import Scenario
from faultlab.harness.scenario.yamlfile import parse_yaml
from faultlab.injectors import schedule

PLAN_VERSION = 1


class PlannedLoad(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shape: str
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0


class RunPlan(BaseModel):
    """Everything a run does, resolved. Offsets of faults count from ``fault_phase_start_s``."""

    model_config = ConfigDict(extra="forbid")

    plan_version: int = PLAN_VERSION
    scenario: str
    time_scale: float
    scrape_interval_s: float
    step_s: float
    services: list[str] | None = Field(description="None: every service of the testbed")
    metric_groups: list[str]
    collect_services: list[str] | None = None
    collect_monitoring: bool = False
    load: PlannedLoad
    warmup_s: float
    train_s: float
    cooldown_s: float
    allow_overlap: bool = False
    schedule_seed: int | None = None
    faults: list[schedule.PlannedFault] = Field(default_factory=list)

    @property
    def fault_phase_start_s(self) -> float:
        """Offset of the fault phase from the start of the load (warm-up + training period)."""
        return self.warmup_s + self.train_s

    @property
    def duration_s(self) -> float:
        """Load start to the end of the cool-down."""
        last = max((f.end_s for f in self.faults), default=0.0)
        return self.fault_phase_start_s + last + self.cooldown_s

    def schedule_plan(self) -> schedule.Plan:
        """The fault part as the injector's :class:`faultlab.injectors.schedule.Plan`."""
        return schedule.Plan(
            faults=list(self.faults), seed=self.schedule_seed, allow_overlap=self.allow_overlap
        )

    def seeds(self) -> dict[str, Any]:
        """Every seed of the run (for the manifest)."""
        return {"load": self.load.seed, "schedule": self.schedule_seed}


def _scaled(value: float, scale: float) -> float:
    return round(value * scale, 3)


def resolve_plan(scenario: Scenario) -> RunPlan:
    """Scale, generate and check the faults of ``scenario``; BadInput if they cannot run."""
    scale = scenario.time_scale
    entries = [
        entry.model_copy(update={
            "start_s": _scaled(entry.start_s, scale), "duration_s": _scaled(entry.duration_s, scale),
        })  # fmt: skip
        for entry in scenario.faults.items
    ]
    planned = list(schedule.from_entries(entries))
    allow_overlap = scenario.faults.allow_overlap
    seed = None
    gen = scenario.faults.generator
    if gen is not None:
        low, high = gen.duration_s
        gen = gen.model_copy(update={
            "duration_s": (_scaled(low, scale), _scaled(high, scale)),
            "grace_s": _scaled(gen.grace_s, scale),
            "start_s": _scaled(gen.start_s, scale),
        })  # fmt: skip
        taken = {f.fault_id for f in planned}
        for fault in schedule.generate(gen):
            if fault.fault_id in taken:
                raise BadInput(f"faults: generated fault_id {fault.fault_id} clashes with an explicit one")
            planned.append(fault)
        allow_overlap = allow_overlap or gen.allow_overlap
        seed = gen.seed
    planned.sort(key=lambda f: (f.start_s, f.fault_id))
    schedule.check_plan(planned, allow_overlap, scenario.testbed.scrape_interval_s)
    services = scenario.testbed.services
    collect_services = scenario.collect.services
    return RunPlan(
        scenario=scenario.name,
        time_scale=scale,
        scrape_interval_s=scenario.testbed.scrape_interval_s,
        step_s=scenario.collect.step_s or scenario.testbed.scrape_interval_s,
        services=None if services == "all" else list(services),
        metric_groups=list(scenario.collect.groups),
        collect_services=None if collect_services == "all" else list(collect_services),
        collect_monitoring=scenario.collect.monitoring,
        load=PlannedLoad(
            shape=scenario.load.shape, params=scenario.load.shape_params(), seed=scenario.load.seed
        ),
        warmup_s=_scaled(scenario.warmup_s, scale),
        train_s=_scaled(scenario.train_s, scale),
        cooldown_s=_scaled(scenario.cooldown_s, scale),
        allow_overlap=allow_overlap,
        schedule_seed=seed,
        faults=planned,
    )


def write_plan(plan: RunPlan, path: str | Path) -> Path:
    """Write ``plan.yaml``; :func:`read_plan` gives back an equal plan."""
    path = Path(path)
    header = f"# faultlab plan of scenario {plan.scenario!r}: every draw resolved; replays exactly\n"
    path.write_text(header + yaml.safe_dump(plan.model_dump(mode="json"), sort_keys=False))
    return path


def read_plan(path: str | Path) -> RunPlan:
    """Read a ``plan.yaml`` written by :func:`write_plan`; errors name the file and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{path}: cannot read the plan ({exc})") from None
    raw = parse_yaml(text, str(path))
    try:
        return RunPlan.model_validate(raw or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise BadInput(f"{path}: {join_path(err['loc'])}: {err['msg']}") from None
