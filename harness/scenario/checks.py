"""Checks of a structurally valid scenario against the registries and the testbed.

Each check returns :class:`Problem`s (a field path like ``faults[2].params.load_pct`` and what
was expected) instead of raising, so one run of ``load_scenario`` reports every problem at once.
Registries are imported here, lazily, so that reading the model never imports torch or Docker.
Nothing in this module starts, connects to or creates anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.errors import BadInput
from harness.scenario.model import MethodSpec, Scenario


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def join_path(parts: Iterable[Any]) -> str:
    """``("faults", 2, "params", "x")`` -> ``faults[2].params.x``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def pydantic_problems(exc: ValidationError, prefix: str, model: type[BaseModel] | None = None) -> list[Problem]:
    """Turn a pydantic error into problems under ``prefix`` with readable messages."""
    problems = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        path = join_path([prefix, *loc]) if prefix else join_path(loc)
        if err["type"] == "extra_forbidden" and model is not None and len(loc) == 1:
            valid = ", ".join(model.model_fields) or "(none)"
            message = f"unknown param {loc[-1]!r}; valid: {valid}"
        else:
            message = describe_error(err)
        problems.append(Problem(path, message))
    return problems


def describe_error(err: Mapping[str, Any]) -> str:
    """One pydantic error as "what was expected (what was given)"."""
    kind = err["type"]
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field"
    msg = str(err["msg"])
    if kind == "value_error" or msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    if msg.startswith("Input should be "):
        msg = "expected " + msg.removeprefix("Input should be ")
    shown = err.get("input")
    if isinstance(shown, (dict, list)) and len(repr(shown)) > 60:
        return msg
    return f"{msg} (got {shown!r})"


# ---- the testbed's services ------------------------------------------------------------------
def testbed_nodes() -> list[str]:
    """Services and databases of the shop, from ``testbed/app/topology.json``."""
    from testbed.app.topology import load_topology

    return [n.name for n in load_topology().nodes]


def testbed_databases() -> list[str]:
    from testbed.app.topology import load_topology

    return load_topology().databases


def check_services(scenario: Scenario, known: list[str]) -> tuple[list[str], list[Problem]]:
    """The services that will run, and problems with any unknown names."""
    problems = []
    running = known if scenario.testbed.services == "all" else list(scenario.testbed.services)
    for field, chosen in (("testbed.services", scenario.testbed.services), ("collect.services", scenario.collect.services)):
        if chosen == "all":
            continue
        for i, name in enumerate(chosen):
            if name not in known:
                problems.append(Problem(f"{field}[{i}]", f"unknown service {name!r}; valid: {', '.join(known)}"))
            elif field == "collect.services" and name not in running:
                problems.append(Problem(f"{field}[{i}]", f"service {name!r} is not in testbed.services"))
    return running, problems


# ---- load ------------------------------------------------------------------------------------
def check_load(scenario: Scenario) -> list[Problem]:
    from testbed.app.loadgen.shapes import SHAPES, make_shape

    load = scenario.load
    if load.shape not in SHAPES:
        return [Problem("load.shape", f"unknown load shape {load.shape!r}; valid: {', '.join(sorted(SHAPES))}")]
    if load.users is not None and load.shape != "constant":
        return [Problem("load.users", f"users is the constant shape's shorthand; give {load.shape!r} its own params")]
    try:
        make_shape(load.shape, load.shape_params(), seed=load.seed)
    except (ValueError, TypeError) as exc:
        return [Problem("load.params", str(exc))]
    return []


# ---- faults ----------------------------------------------------------------------------------
def _fault_class(type_name: str):
    import injectors

    return injectors.FAULTS.get(type_name)


def check_fault_params(type_name: str, params: Mapping[str, Any], type_path: str, params_path: str) -> list[Problem]:
    """Type known (the error lists the valid ones) and params valid, via ``FAULTS.get(type).Params``."""
    try:
        cls = _fault_class(type_name)
    except BadInput as exc:
        return [Problem(type_path, str(exc))]
    try:
        cls.Params.model_validate(dict(params))
    except ValidationError as exc:
        return pydantic_problems(exc, params_path, cls.Params)
    return []


def _http_only(type_name: str) -> bool:
    """Traffic faults send HTTP to the target's port 8080: only services can take them."""
    try:
        from injectors.traffic import TrafficFault

        return issubclass(_fault_class(type_name), TrafficFault)
    except (ImportError, BadInput):
        return False


def _check_targets(type_name: str, targets: list[str], running: list[str], path: str) -> list[Problem]:
    problems = []
    databases = set(testbed_databases())
    for j, target in enumerate(targets):
        if target not in running:
            problems.append(Problem(f"{path}[{j}]", f"unknown target service {target!r}; valid: {', '.join(running)}"))
        elif target in databases and _http_only(type_name):
            valid = ", ".join(s for s in running if s not in databases)
            problems.append(Problem(f"{path}[{j}]", f"{type_name} sends HTTP requests; {target!r} is a database; valid: {valid}"))
    return problems


def check_faults(scenario: Scenario, running: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    faults = scenario.faults
    scale = scenario.time_scale
    min_s = 2 * scenario.testbed.scrape_interval_s
    too_short = (
        f"is shorter than two scrape intervals ({min_s:g} s at scrape_interval_s "
        f"{scenario.testbed.scrape_interval_s:g}): Prometheus would see at most one sample of it"
    )
    for i, entry in enumerate(faults.items):
        here = f"faults[{i}]"
        problems += check_fault_params(entry.type, entry.params, f"{here}.type", f"{here}.params")
        problems += _check_targets(entry.type, entry.targets, running, f"{here}.targets")
        if entry.duration_s * scale < min_s:
            shown = f"duration_s {entry.duration_s:g}" + (f" x time_scale {scale:g}" if scale != 1 else "")
            problems.append(Problem(f"{here}.duration_s", f"{shown} {too_short}"))
    gen = faults.generator
    if gen is not None:
        for t, type_name in enumerate(gen.types):
            problems += check_fault_params(
                type_name, gen.params.get(type_name, {}), f"faults.generator.types[{t}]",
                f"faults.generator.params.{type_name}",
            )  # fmt: skip
        for type_name in gen.params:
            if type_name not in gen.types:
                problems.append(Problem(f"faults.generator.params.{type_name}", f"{type_name!r} is not in faults.generator.types"))
        for group, members in gen.target_groups.items():
            for type_name in gen.types:
                problems += _check_targets(type_name, members, running, f"faults.generator.target_groups.{group}")
        if gen.duration_s[0] * scale < min_s:
            problems.append(Problem("faults.generator.duration_s", f"the low end {gen.duration_s[0]:g} s x time_scale {scale:g} {too_short}"))
    if not faults.allow_overlap:
        problems += _overlaps(scenario)
    if scenario.evaluate.requested and not faults.items and gen is None:
        problems.append(Problem("faults", "no faults, but evaluate asks for detectors/classifiers: scoring needs at least one fault"))
    return problems


def _overlaps(scenario: Scenario) -> list[Problem]:
    items = scenario.faults.items
    order = sorted(range(len(items)), key=lambda k: items[k].start_s)
    problems = []
    for pos, a in enumerate(order):
        for b in order[pos + 1 :]:
            if items[b].start_s >= items[a].end_s:
                break
            problems.append(Problem(
                f"faults[{b}].start_s",
                f"overlaps faults[{a}] ({items[a].start_s:g}-{items[a].end_s:g} s); "
                "set faults.allow_overlap: true to allow it",
            ))  # fmt: skip
    return problems


# ---- evaluation ------------------------------------------------------------------------------
def _check_methods(specs: list[MethodSpec], registry: Any, field: str) -> list[Problem]:
    problems = []
    for i, spec in enumerate(specs):
        here = f"evaluate.{field}[{i}]"
        try:
            cls = registry.get(spec.name)
        except BadInput as exc:
            problems.append(Problem(f"{here}.name", str(exc)))
            continue
        params_model = getattr(cls, "Params", None)
        if isinstance(params_model, type) and issubclass(params_model, BaseModel):
            try:
                params_model.model_validate(dict(spec.params))
            except ValidationError as exc:
                problems += pydantic_problems(exc, f"{here}.params", params_model)
    return problems


def check_evaluate(scenario: Scenario) -> list[Problem]:
    evaluate = scenario.evaluate
    problems: list[Problem] = []
    if evaluate.detectors or evaluate.classifiers:
        from detectors import CLASSIFIERS, DETECTORS

        problems += _check_methods(evaluate.detectors, DETECTORS, "detectors")
        problems += _check_methods(evaluate.classifiers, CLASSIFIERS, "classifiers")
    if evaluate.metrics:
        from harness.scoring import METRICS

        for i, name in enumerate(evaluate.metrics):
            if name not in METRICS:
                problems.append(Problem(f"evaluate.metrics[{i}]", f"unknown metric {name!r}; valid: {', '.join(METRICS.names())}"))
    return problems


def check_collect(scenario: Scenario) -> list[Problem]:
    step_s = scenario.collect.step_s
    if step_s is not None and step_s < scenario.testbed.scrape_interval_s:
        return [Problem("collect.step_s", f"{step_s:g} s is finer than scrape_interval_s {scenario.testbed.scrape_interval_s:g}")]
    return []


def check_scenario(scenario: Scenario) -> list[Problem]:
    """Every problem of a structurally valid scenario (empty when it can run)."""
    running, problems = check_services(scenario, testbed_nodes())
    problems += check_load(scenario)
    problems += check_faults(scenario, running)
    problems += check_collect(scenario)
    problems += check_evaluate(scenario)
    return list(dict.fromkeys(problems))  # a generator's group is checked once per type
