"""Read a scenario file: YAML -> structure (pydantic) -> registry checks, one clear error.

Validation is pure: it reads the file and the registries, and never starts, connects to or
creates anything (no Docker client, no Prometheus, no Locust).
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from faultlab.errors import BadInput
from faultlab.harness.scenario.checks import Problem, check_scenario, describe_error, join_path
from faultlab.harness.scenario.model import Scenario
from faultlab.harness.scenario.plan import resolve_plan
from faultlab.harness.scenario.resources import Host, check_resources
from faultlab.harness.scenario.yamlfile import parse_yaml

MAX_PROBLEMS_SHOWN = 5


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[X]`` or ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, dict, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _valid_fields(loc: tuple[Any, ...]) -> list[str] | None:
    """The field names of the model that holds the unknown key at ``loc`` (None when unknown)."""
    model: type[BaseModel] | None = Scenario
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = _model_in(field.annotation)
    return list(model.model_fields) if model is not None else None


def structure_problems(exc: ValidationError, raw: Any) -> list[Problem]:
    """Pydantic errors as problems, with paths as the user wrote them."""
    faults_as_list = isinstance(raw, dict) and isinstance(raw.get("faults"), list)
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        shown = loc
        if faults_as_list and loc[:2] == ("faults", "items"):
            shown = ("faults", *loc[2:])
        if err["type"] == "extra_forbidden":
            valid = _valid_fields(loc)
            message = f"unknown field {loc[-1]!r}" + (f"; valid: {', '.join(valid)}" if valid else "")
        else:
            message = describe_error(err)
        problems.append(Problem(join_path(shown), message))
    return problems


def _raise(source: str, problems: list[Problem]) -> None:
    shown = "; ".join(str(p) for p in problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    raise BadInput(f"{source}: {shown}" + (f" (and {more} more)" if more > 0 else ""))


def scenario_from_data(raw: Any, source: str = "<scenario>") -> Scenario:
    """Validate already-parsed data (a dict) into a :class:`Scenario`, or raise BadInput."""
    if raw is None:
        raise BadInput(f"{source}: the file is empty; expected a mapping with at least name and train_s")
    if not isinstance(raw, dict):
        raise BadInput(f"{source}: expected a mapping of fields at the top level, got {type(raw).__name__}")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        _raise(source, structure_problems(exc, raw))
    problems = check_scenario(scenario)
    if problems:
        _raise(source, problems)
    try:  # what only the resolved plan shows (e.g. generated faults overlapping explicit ones)
        plan = resolve_plan(scenario)
    except BadInput as exc:
        raise BadInput(f"{source}: {exc}") from None
    problems, _ = check_resources(plan, Host.current())  # asks beyond this host
    if problems:
        _raise(source, problems)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and fully validate a scenario file; BadInput names the file, field path and expectation."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read the scenario ({exc})") from None
    return scenario_from_data(parse_yaml(text, str(path)), str(path))
