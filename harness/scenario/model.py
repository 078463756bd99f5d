"""The scenario file format as pydantic models: structure, types, bounds, defaults.

This module only checks the *shape* of a scenario (unknown fields are errors everywhere).
Names that live in registries (fault types and their params, detectors, metrics, load shapes,
services) are checked by :mod:`faultlab.harness.scenario.checks`, which imports those registries lazily.
The fault entries and the generator are the injector's own models (``faultlab.injectors.schedule``), so
a scenario and ``faultlab inject`` accept exactly the same fault descriptions.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from faultlab.dataset import METRIC_GROUPS
from faultlab.injectors.schedule import FaultEntry, GeneratorSpec

MAX_SCRAPE_INTERVAL_S = 5.0
LOAD_SHAPES = ("constant", "steps", "sine", "spike")
MetricGroup = Literal["cpu", "memory", "network", "disk", "application"]
assert set(METRIC_GROUPS) == set(MetricGroup.__args__)  # one list of groups, kept in step


class Strict(BaseModel):
    """Base of every scenario model: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Testbed(Strict):
    """Which services run, how often Prometheus scrapes, and whether a running stack is reused."""

    services: Literal["all"] | list[str] = Field(
        "all", description="'all' or a subset of the testbed's services (testbed/README.md)"
    )
    scrape_interval_s: float = Field(
        5.0, gt=0, le=MAX_SCRAPE_INTERVAL_S, description="Prometheus scrape interval, at most 5 s"
    )
    reuse: bool = Field(False, description="reuse a running testbed instead of starting a fresh one")


class Load(Strict):
    """The Locust load: a shape from testbed/app/loadgen/shapes.py with its params, seeded."""

    shape: str = Field("constant", description=f"one of {', '.join(LOAD_SHAPES)}")
    params: dict[str, Any] = Field(default_factory=dict, description="the shape's own parameters")
    users: int | None = Field(
        None, ge=0, description="shorthand for params.users of the constant shape"
    )
    seed: int = Field(0, ge=0, description="seed of the shape's jitter and the users' choices")

    def shape_params(self) -> dict[str, Any]:
        """The params handed to ``make_shape`` (``users`` folded in for the constant shape)."""
        params = dict(self.params)
        if self.users is not None:
            params.setdefault("users", self.users)
        return params


class Faults(Strict):
    """An explicit list of faults, a TELESTO-style generator, or both."""

    items: list[FaultEntry] = Field(default_factory=list, description="explicit faults")
    generator: GeneratorSpec | None = Field(None, description="generated faults (TELESTO protocol)")
    allow_overlap: bool = Field(False, description="allow explicit faults to overlap in time")


class Collect(Strict):
    """What to export from Prometheus into the dataset.

    The monitoring stack (Prometheus and the exporters) is not collected unless ``monitoring``
    is set; its series are then context (evidence), never root-cause candidates.
    """

    groups: list[MetricGroup] = Field(default_factory=lambda: list(METRIC_GROUPS), min_length=1)
    services: Literal["all"] | list[str] = "all"
    monitoring: bool = Field(
        False, description="also collect Prometheus' and the exporters' own series (as context)"
    )
    step_s: float | None = Field(
        None, gt=0, description="grid step of the dataset, s (default: the scrape interval)"
    )


class MethodSpec(Strict):
    """One detector or classifier to evaluate: registered name, its params, the seeds to run."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)

    @field_validator("seeds")
    @classmethod
    def _non_negative(cls, seeds: list[int]) -> list[int]:
        bad = [s for s in seeds if s < 0]
        if bad:
            raise ValueError(f"seeds must be >= 0, got {bad}")
        return seeds


class Evaluate(Strict):
    """Which detectors and classifiers to score, with which metrics; which detectors run live."""

    detectors: list[MethodSpec] = Field(default_factory=list)
    classifiers: list[MethodSpec] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list, description="metric names (empty: all)")
    live: list[MethodSpec] = Field(
        default_factory=list,
        description="detectors scored live during the run: fitted on the training period in a CPU-bounded process "
        "at the start of the fault phase, then scoring every scrape; alarms go to alerts.jsonl (one seed each)",
    )
    protocol: Literal["events", "telesto"] = Field(
        "events", description="classifier splits: event folds, or TELESTO's 3/1/1 leave-one-repetition-out splits"
    )

    @property
    def requested(self) -> bool:
        return bool(self.detectors or self.classifiers)


class Output(Strict):
    dir: str = Field("runs", description="folder under which runs/<UTC-time>-<name>/ is made")


class Scenario(Strict):
    """A whole experiment: testbed, load, fault-free period, faults, collection, evaluation.

    Time line: ``warmup_s`` (load running, not recorded as training) -> ``train_s`` (fault-free,
    the training part) -> the fault phase, whose offsets ``start_s`` count from its beginning.
    The time line (warm-up, training, cool-down, fault offsets and durations, a generator's
    duration range and grace) is multiplied by ``time_scale`` when the plan is resolved, so a
    paper's protocol can be written with its own numbers and run shorter. Fault params are never
    scaled: they set intensity (a leak of 1 MB every 3 s stays that).
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = ""
    time_scale: float = Field(
        1.0, gt=0, description="factor applied to every duration and offset (e.g. 0.25)"
    )
    testbed: Testbed = Field(default_factory=Testbed)
    load: Load = Field(default_factory=Load)
    warmup_s: float = Field(60.0, ge=0, description="load runs, nothing is used, s")
    train_s: float = Field(gt=0, description="fault-free period detectors train on, s")
    cooldown_s: float = Field(60.0, ge=0, description="fault-free tail after the last fault, s")
    faults: Faults = Field(default_factory=Faults)
    collect: Collect = Field(default_factory=Collect)
    evaluate: Evaluate = Field(default_factory=Evaluate)
    output: Output = Field(default_factory=Output)

    @model_validator(mode="before")
    @classmethod
    def _faults_as_list(cls, data: Any) -> Any:
        """``faults: [...]`` is a shorthand for ``faults: {items: [...]}``."""
        if isinstance(data, dict) and isinstance(data.get("faults"), list):
            data = {**data, "faults": {"items": data["faults"]}}
        return data
