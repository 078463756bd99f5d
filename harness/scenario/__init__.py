"""Scenario files: the format (pydantic models), validation, JSON Schema and the resolved plan.

``load_scenario(path)`` validates a file without starting anything; ``resolve_plan`` turns it
into a seeded, scaled plan; ``write_plan`` / ``read_plan`` store that plan for exact replay.
"""

from faultlab.harness.scenario.loader import load_scenario, scenario_from_data
from faultlab.harness.scenario.model import Scenario
from faultlab.harness.scenario.plan import RunPlan, read_plan, resolve_plan, write_plan
from faultlab.harness.scenario.schema import json_schema
from faultlab.harness.scenario.yamlfile import parse_yaml

__all__ = [
    "RunPlan",
    "Scenario",
    "json_schema",
    "load_scenario",
    "parse_yaml",
    "read_plan",
    "resolve_plan",
    "scenario_from_data",
    "write_plan",
]
