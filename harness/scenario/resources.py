"""Does the resolved plan fit this host? Checked before anything starts, without Docker.

A scenario that cannot be meant (a time line of years, a CPU fault on 8 cores of a 2-core host,
40 GB of memory on a 24 GB host) is refused with a problem naming the fault, the number asked
and the number available. Asks that are legitimate but heavy (a run of more than a day, more
than half of the host's memory, thousands of Locust users on a few cores) are warnings that
``faultlab validate`` and ``faultlab run`` print.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from faultlab.harness.scenario.checks import Problem
from faultlab.harness.scenario.plan import RunPlan

MAX_DURATION_S = 7 * 24 * 3600.0  # a week: beyond it the time line is surely a unit mistake
WARN_DURATION_S = 24 * 3600.0
WARN_MEMORY_SHARE = 0.5
WARN_USERS_PER_CORE = 500


@dataclass(frozen=True)
class Host:
    """The facts of the machine the testbed runs on (the harness's own machine)."""

    cpu_count: int
    memory_mb: float
    disk_free_mb: float

    @classmethod
    def current(cls, path: str = "/") -> Host:
        import psutil

        return cls(
            cpu_count=os.cpu_count() or 1,
            memory_mb=psutil.virtual_memory().total / 2**20,
            disk_free_mb=shutil.disk_usage(path).free / 2**20,
        )


def check_resources(plan: RunPlan, host: Host) -> tuple[list[Problem], list[str]]:
    """(problems that refuse the plan, warnings that name a heavy but possible ask)."""
    from faultlab.injectors import FAULTS

    problems: list[Problem] = []
    warnings: list[str] = []
    hours = plan.duration_s / 3600
    if plan.duration_s > MAX_DURATION_S:
        problems.append(Problem("", f"the time line runs {hours:,.1f} h ({hours / 24:,.1f} days); "
                                    f"the longest accepted is {MAX_DURATION_S / 86400:.0f} days (check units and time_scale)"))
    elif plan.duration_s > WARN_DURATION_S:
        warnings.append(f"the scenario runs for {hours:.1f} h")
    for fault in plan.faults:
        cls = FAULTS.get(fault.type)
        demand = cls.host_demand(cls.validate_params(fault.params), fault.duration_s)
        where = f"fault {fault.fault_id} ({fault.type} on {', '.join(fault.targets)})"
        if demand.cores > host.cpu_count:
            problems.append(Problem(where, f"asks for {demand.cores:g} cores per target; the host has {host.cpu_count}"))
        memory_mb = demand.memory_mb * len(fault.targets)
        if memory_mb > host.memory_mb:
            problems.append(Problem(where, f"allocates {memory_mb:,.0f} MB; the host has {host.memory_mb:,.0f} MB of memory"))
        elif memory_mb > WARN_MEMORY_SHARE * host.memory_mb:
            warnings.append(f"{where} allocates {memory_mb:,.0f} MB, more than half of the host's {host.memory_mb:,.0f} MB")
        disk_mb = demand.disk_mb * len(fault.targets)
        if disk_mb > host.disk_free_mb:
            problems.append(Problem(where, f"writes a {disk_mb:,.0f} MB file; the host has {host.disk_free_mb:,.0f} MB free"))
    users = peak_users(plan)
    if users > WARN_USERS_PER_CORE * host.cpu_count:
        warnings.append(f"the load peaks at {users} Locust users on a {host.cpu_count}-core host: "
                        "the load generator may saturate before the shop does")
    return problems, warnings


def peak_users(plan: RunPlan) -> int:
    """The most users the load shape asks for over the run (sampled every 5 s)."""
    from faultlab.testbed.app.loadgen.shapes import make_shape

    shape = make_shape(plan.load.shape, plan.load.params, seed=plan.load.seed)
    steps = int(plan.duration_s // 5) + 1
    return int(max((shape.level(5.0 * i) for i in range(min(steps, 200_000))), default=0))
