"""Schedules: an explicit fault list or the TELESTO generator, resolved into a replayable plan.

TELESTO (seed 001, section 3.1): every anomaly type is injected into every service group k times,
for four to five minutes each, with one minute of grace after each injection and no overlapping
injections; the order is drawn at random. :func:`generate` reproduces that protocol with a seed,
and :func:`resolve` turns either form into a :class:`Plan` whose every draw is fixed, so that
writing the plan out and loading it back replays exactly the same faults.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from faultlab.documents import read_document
from faultlab.errors import BadInput

DEFAULT_SCRAPE_INTERVAL_S = 5.0


class FaultEntry(BaseModel):
    """One explicit fault: type, target service(s), start offset from the run start, duration."""

    model_config = ConfigDict(extra="forbid")

    type: str
    targets: list[str] = Field(min_length=1)
    start_s: float = Field(ge=0, description="offset from the start of the fault phase, s")
    duration_s: float = Field(gt=0)
    params: dict[str, Any] = Field(default_factory=dict)
    fault_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _target_alias(cls, data: Any) -> Any:
        """Accept ``target: name`` as a shorthand for ``targets: [name]``."""
        if isinstance(data, dict) and "target" in data:
            data = dict(data)
            target = data.pop("target")
            if "targets" in data:
                raise ValueError("give either 'target' or 'targets', not both")
            data["targets"] = [target] if isinstance(target, str) else target
        return data

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


class GeneratorSpec(BaseModel):
    """The TELESTO protocol: types x target groups x repetitions, random order, grace between."""

    model_config = ConfigDict(extra="forbid")

    types: list[str] = Field(min_length=1)
    target_groups: dict[str, list[str]] = Field(min_length=1)
    repetitions: int = Field(default=5, ge=1)
    duration_s: tuple[float, float] = (240.0, 300.0)
    grace_s: float = Field(default=60.0, ge=0)
    seed: int = 0
    allow_overlap: bool = False
    start_s: float = Field(default=0.0, ge=0, description="offset of the first fault, s")
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="params per fault type"
    )
    levels: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict,
        description="an intensity ladder: per fault type, a list of param sets (each over params[type]); "
        "every level goes into every group `repetitions` times",
    )

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        for fault_type, levels in value.items():
            if not levels:
                raise ValueError(f"levels of {fault_type!r} is empty")
        return value

    @field_validator("duration_s")
    @classmethod
    def _range(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if low <= 0 or high < low:
            raise ValueError(f"duration_s range {list(value)} must be 0 < low <= high")
        return value

    @field_validator("target_groups")
    @classmethod
    def _groups(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, services in value.items():
            if not services:
                raise ValueError(f"target group {name!r} is empty")
        return value


class PlannedFault(BaseModel):
    """One fault of a resolved plan: nothing left to draw."""

    model_config = ConfigDict(extra="forbid")

    fault_id: str
    type: str
    targets: list[str]
    group: str | None = None
    start_s: float
    duration_s: float
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


class Plan(BaseModel):
    """The resolved schedule, written to ``plan.yaml`` before the run and replayable as is."""

    model_config = ConfigDict(extra="forbid")

    faults: list[PlannedFault] = Field(default_factory=list)
    seed: int | None = None
    allow_overlap: bool = False

    @property
    def duration_s(self) -> float:
        return max((f.end_s for f in self.faults), default=0.0)


def generate(spec: GeneratorSpec) -> list[PlannedFault]:
    """Draw the TELESTO schedule: shuffled (type, group) x repetitions, back to back + grace.

    With ``levels`` (an intensity ladder) a type's cells are (type, level, group) x repetitions,
    each level's params over the type's ``params``, and the fault id carries the level
    (``f007-cpu-L2-catalog``, levels counted from 1 in the order given).

    With ``allow_overlap`` the start of each fault is drawn uniformly over the span the
    sequential schedule would take, so faults may overlap; otherwise fault i+1 starts exactly
    ``grace_s`` after fault i ends.
    """
    rng = random.Random(spec.seed)
    unknown = sorted(set(spec.levels) - set(spec.types))
    if unknown:
        raise BadInput(f"faults.generator.levels: {', '.join(unknown)} not in types {spec.types}")
    cells = [
        (fault_type, level, group)
        for fault_type in spec.types
        for level in (range(1, len(spec.levels[fault_type]) + 1) if fault_type in spec.levels else [None])
        for group in spec.target_groups
        for _ in range(spec.repetitions)
    ]
    rng.shuffle(cells)
    low, high = spec.duration_s
    durations = [round(rng.uniform(low, high), 3) for _ in cells]
    faults: list[PlannedFault] = []
    cursor = spec.start_s
    span = sum(durations) + spec.grace_s * len(cells)
    for i, ((fault_type, level, group), duration_s) in enumerate(zip(cells, durations, strict=True)):
        if spec.allow_overlap:
            start_s = round(spec.start_s + rng.uniform(0.0, max(span - duration_s, 0.0)), 3)
        else:
            start_s = round(cursor, 3)
            cursor = start_s + duration_s + spec.grace_s
        params = dict(spec.params.get(fault_type, {}))
        if level is not None:
            params.update(spec.levels[fault_type][level - 1])
        faults.append(
            PlannedFault(
                fault_id=f"f{i + 1:03d}-{fault_type}-{'' if level is None else f'L{level}-'}{group}",
                type=fault_type,
                targets=list(spec.target_groups[group]),
                group=group,
                start_s=start_s,
                duration_s=duration_s,
                params=params,
            )
        )
    faults.sort(key=lambda f: (f.start_s, f.fault_id))
    return faults


def from_entries(entries: list[FaultEntry]) -> list[PlannedFault]:
    """An explicit list as planned faults (ids ``fNNN-<type>`` unless given)."""
    faults = [
        PlannedFault(
            fault_id=e.fault_id or f"f{i + 1:03d}-{e.type}",
            type=e.type,
            targets=list(e.targets),
            start_s=e.start_s,
            duration_s=e.duration_s,
            params=dict(e.params),
        )
        for i, e in enumerate(entries)
    ]
    ids = [f.fault_id for f in faults]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise BadInput(f"faults: duplicate fault_id {', '.join(dupes)}")
    return sorted(faults, key=lambda f: (f.start_s, f.fault_id))


def overlaps(faults: list[PlannedFault]) -> list[tuple[str, str]]:
    """Pairs of fault ids whose [start, end) intervals intersect."""
    ordered = sorted(faults, key=lambda f: f.start_s)
    pairs = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.start_s >= a.end_s:
                break
            pairs.append((a.fault_id, b.fault_id))
    return pairs


def check_plan(
    faults: list[PlannedFault],
    allow_overlap: bool = False,
    scrape_interval_s: float = DEFAULT_SCRAPE_INTERVAL_S,
    validate_types: bool = True,
) -> None:
    """Refuse faults shorter than two scrape intervals, unknown types, bad params, overlaps."""
    min_s = 2 * scrape_interval_s
    for f in faults:
        if f.duration_s < min_s:
            raise BadInput(
                f"fault {f.fault_id}: duration_s {f.duration_s:g} is shorter than two scrape "
                f"intervals ({min_s:g} s at {scrape_interval_s:g} s): Prometheus would see at "
                "most one sample of it, too few to label or detect"
            )
        if validate_types:
            from faultlab.injectors import FAULTS

            fault_cls = FAULTS.get(f.type)
            fault_cls.validate_params(f.params)
    if not allow_overlap:
        pairs = overlaps(faults)
        if pairs:
            shown = ", ".join(f"{a}/{b}" for a, b in pairs[:5])
            raise BadInput(f"faults overlap ({shown}); set allow_overlap: true to allow it")


def resolve(
    faults: list[FaultEntry] | None = None,
    generator: GeneratorSpec | None = None,
    scrape_interval_s: float = DEFAULT_SCRAPE_INTERVAL_S,
    validate_types: bool = True,
) -> Plan:
    """Turn an explicit list and/or a generator spec into a checked plan."""
    planned: list[PlannedFault] = list(from_entries(faults or []))
    allow_overlap = False
    seed = None
    if generator is not None:
        generated = generate(generator)
        taken = {f.fault_id for f in planned}
        for f in generated:
            if f.fault_id in taken:
                raise BadInput(f"faults: generated fault_id {f.fault_id} clashes with an explicit one")
        planned += generated
        allow_overlap = generator.allow_overlap
        seed = generator.seed
    planned.sort(key=lambda f: (f.start_s, f.fault_id))
    check_plan(planned, allow_overlap, scrape_interval_s, validate_types)
    return Plan(faults=planned, seed=seed, allow_overlap=allow_overlap)


def write_plan(plan: Plan, path: str | Path) -> Path:
    """Write the resolved plan as YAML (the run folder's ``plan.yaml``)."""
    path = Path(path)
    path.write_text(yaml.safe_dump(plan.model_dump(mode="json"), sort_keys=False))
    return path


def load_plan(path: str | Path) -> Plan:
    """Load a plan written by :func:`write_plan`; it replays exactly (no draws left)."""
    path = Path(path)
    raw = read_document(path, f"plan {path}")
    try:
        return Plan.model_validate(raw or {})
    except Exception as exc:  # pydantic ValidationError: name the file
        raise BadInput(f"{path}: invalid plan: {exc}") from None
