"""``faultlab validate SCENARIO``: validate and print the resolved plan, without Docker.

Like Chaos Toolkit's ``chaos validate``: every fault with its start and end (from the start of
the load), targets and parameters, the phases and the total wall time; warnings about heavy
asks go to stderr. Exit 0 when the scenario can run, 2 (with the error) when it cannot.
``faultlab run SCENARIO --dry-run`` does the same.
"""

from __future__ import annotations

import argparse
import json
import sys

from faultlab.harness.scenario.plan import RunPlan


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="validate a scenario and print its resolved plan (no Docker)")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--json", action="store_true", help="print the resolved plan as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return validate(args.scenario, as_json=args.json)


def validate(path: str, as_json: bool = False) -> int:
    """Print the resolved plan of ``path`` (BadInput, exit 2, when it cannot run)."""
    from faultlab.harness.scenario import load_scenario, resolve_plan
    from faultlab.harness.scenario.resources import Host, check_resources

    plan = resolve_plan(load_scenario(path))
    _, warnings = check_resources(plan, Host.current())
    for warning in warnings:
        print(f"faultlab: warning: {warning}", file=sys.stderr)
    if as_json:
        print(json.dumps(plan.model_dump(mode="json"), indent=2))
    else:
        print(describe_plan(plan))
    return 0


def describe_plan(plan: RunPlan) -> str:
    """The plan as a reader checks it: phases, then one line per fault, then the total."""
    start = plan.fault_phase_start_s
    lines = [
        f"scenario {plan.scenario}: load {plan.load.shape} {json.dumps(plan.load.params, sort_keys=True)} (seed {plan.load.seed}), "
        f"scrape every {plan.scrape_interval_s:g} s",
        f"  00:00:00  warm-up {plan.warmup_s:g} s",
        f"  {_hms(plan.warmup_s)}  fault-free training period {plan.train_s:g} s",
        f"  {_hms(start)}  fault phase: {len(plan.faults)} faults",
    ]
    for f in plan.faults:
        params = json.dumps(f.params, sort_keys=True) if f.params else "{}"
        lines.append(f"  {_hms(start + f.start_s)} - {_hms(start + f.end_s)}  {f.fault_id:<24} {f.type:<16} "
                     f"on {','.join(f.targets):<22} {params}")
    lines.append(f"  {_hms(plan.duration_s - plan.cooldown_s)}  cool-down {plan.cooldown_s:g} s")
    lines.append(f"total wall time {_hms(plan.duration_s)} ({plan.duration_s / 60:.1f} min) plus testbed start-up and collection")
    return "\n".join(lines)


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
