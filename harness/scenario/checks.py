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

from faultlab.errors import BadInput
from faultlab.harness.scenario.model import MethodSpec, Scenario


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


def pydantic_problems(
    exc: ValidationError, prefix: str, model: type[BaseModel] | None = None
) -> list[Problem]:
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
    from faultlab.testbed.app.topology import load_topology

    return [n.name for n in load_topology().nodes]


def testbed_databases() -> list[str]:
    from faultlab.testbed.app.topology import load_topology

    return load_topology().databases


def check_services(scenario: Scenario, known: list[str]) -> tuple[list[str], list[Problem]]:
    """The services that will run, and problems with any unknown names."""
    problems = []
    chosen = scenario.testbed.services
    running = known if chosen == "all" else list(chosen)
    for field, names in (("testbed.services", chosen), ("collect.services", scenario.collect.services)):
        for i, name in enumerate([] if names == "all" else names):
            if name not in known:
                message = f"unknown service {name!r}; valid: {', '.join(known)}"
                problems.append(Problem(f"{field}[{i}]", message))
            elif name not in running:
                problems.append(Problem(f"{field}[{i}]", f"service {name!r} is not in testbed.services"))
    return running, problems


# ---- load ------------------------------------------------------------------------------------
def check_load(scenario: Scenario) -> list[Problem]:
    from faultlab.testbed.app.loadgen.shapes import SHAPES, make_shape

    load = scenario.load
    if load.shape not in SHAPES:
        valid = ", ".join(sorted(SHAPES))
        return [Problem("load.shape", f"unknown load shape {load.shape!r}; valid: {valid}")]
    if load.users is not None and load.shape != "constant":
        message = f"users is the constant shape's shorthand; give {load.shape!r} its own params"
        return [Problem("load.users", message)]
    try:
        make_shape(load.shape, load.shape_params(), seed=load.seed)
    except (ValueError, TypeError) as exc:
        return [Problem("load.params", str(exc))]
    return []


# ---- faults ----------------------------------------------------------------------------------
def _fault_class(type_name: str) -> Any:
    from faultlab import injectors

    return injectors.FAULTS.get(type_name)


def check_fault_params(
    type_name: str, params: Mapping[str, Any], type_path: str, params_path: str
) -> list[Problem]:
    """Type known (the error lists the valid ones), params valid via ``FAULTS.get(type).Params``."""
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
    from faultlab.injectors.traffic import TrafficFault

    try:
        return issubclass(_fault_class(type_name), TrafficFault)
    except BadInput:  # an unknown type is reported by the type check, not here
        return False


def _check_targets(type_name: str, targets: list[str], running: list[str], path: str) -> list[Problem]:
    problems = []
    databases = set(testbed_databases())
    for j, target in enumerate(targets):
        if target not in running:
            message = f"unknown target service {target!r}; valid: {', '.join(running)}"
            problems.append(Problem(f"{path}[{j}]", message))
        elif target in databases and _http_only(type_name):
            valid = ", ".join(s for s in running if s not in databases)
            message = f"{type_name} sends HTTP requests; {target!r} is a database; valid: {valid}"
            problems.append(Problem(f"{path}[{j}]", message))
    return problems


def _too_short(scenario: Scenario) -> str:
    scrape_s = scenario.testbed.scrape_interval_s
    return (
        f"is shorter than two scrape intervals ({2 * scrape_s:g} s at scrape_interval_s "
        f"{scrape_s:g}): Prometheus would see at most one sample of it"
    )


def _check_items(scenario: Scenario, running: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    scale = scenario.time_scale
    min_s = 2 * scenario.testbed.scrape_interval_s
    for i, entry in enumerate(scenario.faults.items):
        here = f"faults[{i}]"
        problems += check_fault_params(entry.type, entry.params, f"{here}.type", f"{here}.params")
        problems += _check_targets(entry.type, entry.targets, running, f"{here}.targets")
        if entry.duration_s * scale < min_s:
            scaled = f" x time_scale {scale:g}" if scale != 1 else ""
            message = f"duration_s {entry.duration_s:g}{scaled} {_too_short(scenario)}"
            problems.append(Problem(f"{here}.duration_s", message))
    if not scenario.faults.allow_overlap:
        problems += _overlaps(scenario)
    return problems


def _check_generator(scenario: Scenario, running: list[str]) -> list[Problem]:
    gen = scenario.faults.generator
    if gen is None:
        return []
    here = "faults.generator"
    problems: list[Problem] = []
    for t, type_name in enumerate(gen.types):
        params = gen.params.get(type_name, {})
        problems += check_fault_params(type_name, params, f"{here}.types[{t}]", f"{here}.params.{type_name}")
    for type_name in gen.params:
        if type_name not in gen.types:
            message = f"{type_name!r} is not in {here}.types"
            problems.append(Problem(f"{here}.params.{type_name}", message))
    for group, members in gen.target_groups.items():
        for type_name in gen.types:
            problems += _check_targets(type_name, members, running, f"{here}.target_groups.{group}")
    low_s, scale = gen.duration_s[0], scenario.time_scale
    if low_s * scale < 2 * scenario.testbed.scrape_interval_s:
        message = f"the low end {low_s:g} s x time_scale {scale:g} {_too_short(scenario)}"
        problems.append(Problem(f"{here}.duration_s", message))
    return problems


def check_faults(scenario: Scenario, running: list[str]) -> list[Problem]:
    problems = _check_items(scenario, running) + _check_generator(scenario, running)
    faults = scenario.faults
    if scenario.evaluate.requested and not faults.items and faults.generator is None:
        message = "no faults, but evaluate asks for detectors/classifiers: scoring needs at least one fault"
        problems.append(Problem("faults", message))
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


#: Seconds the live detectors get, at the start of the fault phase, to be collected and fitted
#: (lstm_ae at small settings on a 2-core host fits in well under a minute); faults before that
#: would not be scored live.
LIVE_FIT_S = 60.0


def check_live(scenario: Scenario) -> list[Problem]:
    """``evaluate.live``: registered detectors with valid params, one seed each, no floors, distinct,
    and no fault before the live detectors can be fitted (:data:`LIVE_FIT_S` into the fault phase)."""
    live = scenario.evaluate.live
    if not live:
        return []
    from faultlab.detectors import DETECTORS

    problems = _check_methods(live, DETECTORS, "live")
    seen: dict[tuple[str, str], int] = {}
    for i, spec in enumerate(live):
        here = f"evaluate.live[{i}]"
        if len(spec.seeds) != 1:
            problems.append(Problem(f"{here}.seeds", f"a live detector runs once: give one seed, got {spec.seeds}"))
        if spec.name in DETECTORS and getattr(DETECTORS.get(spec.name), "family", "") == "floor":
            problems.append(Problem(f"{here}.name", f"{spec.name!r} is a reference floor of the offline board, not a live detector"))
        key = (spec.name, repr(sorted(spec.params.items())))
        if key in seen:
            problems.append(Problem(here, f"the same detector and params as evaluate.live[{seen[key]}]"))
        seen.setdefault(key, i)
    scale, faults = scenario.time_scale, scenario.faults
    starts = [(f"faults[{i}].start_s", e.start_s) for i, e in enumerate(faults.items)]
    if faults.generator is not None:
        starts.append(("faults.generator.start_s", faults.generator.start_s))
    for where, start_s in starts:
        if start_s * scale < LIVE_FIT_S:
            problems.append(Problem(where, (
                f"{start_s * scale:g} s into the fault phase, but evaluate.live fits its detectors in the first "
                f"{LIVE_FIT_S:g} s of it: start the first fault at {LIVE_FIT_S / scale:g} s or later")))
    return problems


def check_evaluate(scenario: Scenario) -> list[Problem]:
    evaluate = scenario.evaluate
    problems: list[Problem] = check_live(scenario)
    if evaluate.detectors or evaluate.classifiers:
        from faultlab.detectors import CLASSIFIERS, DETECTORS

        problems += _check_methods(evaluate.detectors, DETECTORS, "detectors")
        problems += _check_methods(evaluate.classifiers, CLASSIFIERS, "classifiers")
    if evaluate.metrics:
        from faultlab.harness.scoring import METRICS

        for i, name in enumerate(evaluate.metrics):
            if name not in METRICS:
                message = f"unknown metric {name!r}; valid: {', '.join(METRICS.names())}"
                problems.append(Problem(f"evaluate.metrics[{i}]", message))
    return problems


def check_collect(scenario: Scenario) -> list[Problem]:
    step_s, scrape_s = scenario.collect.step_s, scenario.testbed.scrape_interval_s
    if step_s is not None and step_s < scrape_s:
        return [Problem("collect.step_s", f"{step_s:g} s is finer than scrape_interval_s {scrape_s:g}")]
    return []


def check_scenario(scenario: Scenario) -> list[Problem]:
    """Every problem of a structurally valid scenario (empty when it can run)."""
    running, problems = check_services(scenario, testbed_nodes())
    problems += check_load(scenario)
    problems += check_faults(scenario, running)
    problems += check_collect(scenario)
    problems += check_evaluate(scenario)
    return list(dict.fromkeys(problems))  # a generator's group is checked once per type
