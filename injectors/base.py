"""The fault interface: parameters, mechanism, preflight needs, apply/revert, expected effect.

One fault type is one module that subclasses :class:`Fault` and registers itself in
``injectors.FAULTS``. What a fault changes on the testbed is undone by ``revert`` declared right
next to ``apply``; ``revert`` is idempotent (reverting twice, or reverting a fault that never got
applied, is harmless). Everything a fault creates carries the owner mark ``faultlab:<fault_id>``
(an environment variable of its processes, a comment on its firewall rules, a label on its
helper containers, a fixed qdisc handle) so that :mod:`faultlab.injectors.cleanup` finds leftovers after
a SIGKILL of the harness.

Size semantics (stated once, here and in the docs):

* CPU ``load_pct`` is a percentage of the ``cores`` given; when the target has a CPU quota the
  cores are capped at that quota (90 % of a 0.5-core container is 0.45 cores).
* Memory ``size_mb`` is added on top of the target's current use (MB = 2**20 bytes).
* Rates: ``rate_mb_s`` in MB/s, ``bandwidth_mbit`` in Mbit/s (10**6 bit/s).
* Loss ``loss_pct`` and delays ``delay_ms`` / ``jitter_ms`` apply to every packet of the target's
  network namespace, in both directions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from faultlab.injectors.marks import owner_mark

if TYPE_CHECKING:
    from faultlab.injectors.docker_ops import DockerOps
    from faultlab.injectors.targets import Target


# Preflight needs a fault can declare; see faultlab.injectors.preflight for how each is checked.
Need = Literal[
    "exec",  # a shell and the fault's tool inside the target (docker exec)
    "net_admin",  # privileged exec into the target's network namespace (iptables / tc)
    "iptables",  # iptables with the statistic and comment matches
    "netem",  # the sch_netem qdisc in the kernel
    "tbf",  # the tbf qdisc in the kernel
    "memory",  # size_mb fits under the container limit and the host's free memory
    "locust_image",  # the faultlab/locust image for traffic helpers
    "runtime_image",  # the target's own image to run a helper container from
]



@dataclass(frozen=True)
class HostDemand:
    """Cores, memory and disk a fault adds on the host, per target (0: nothing to check)."""

    cores: float = 0.0
    memory_mb: float = 0.0
    disk_mb: float = 0.0


class FaultParams(BaseModel):
    """Base of every fault's ``Params``: unknown keys are an error, values are validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class EffectSpec:
    """The container metric that shows a fault's effect and what level to expect.

    ``metric`` names a series of :class:`faultlab.injectors.counters.Sample` (see ``faultlab.injectors.effect.METRICS``)
    or a fault-specific measurement. ``expected`` is the change over the baseline in ``unit``
    (``None`` when only the direction is known, then ``min_ratio`` of during/baseline applies).
    The fault counts as effective when the measured change reaches ``min_fraction`` of the
    expected one.
    """

    metric: str
    unit: str
    direction: Literal["up", "down"]
    expected: float | None = None
    min_fraction: float = 0.5
    min_ratio: float = 1.5
    min_abs: float = 0.0


@dataclass
class FaultContext:
    """What a fault needs at apply time: its id, the resolved target and the Docker access."""

    fault_id: str
    target: Target
    ops: DockerOps
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mark(self) -> str:
        return owner_mark(self.fault_id)


class Fault(ABC):
    """One fault type. Subclasses set the class attributes and implement apply/revert.

    ``Params`` is the pydantic model of the parameters (units in the field names); the scenario
    schema validates a fault entry's ``params`` with it. ``mechanisms`` lists what ``apply`` may
    use, the one actually used is returned by ``apply`` and written to the ground truth.
    """

    name: ClassVar[str]
    Params: ClassVar[type[FaultParams]]
    mechanisms: ClassVar[tuple[str, ...]]
    needs: ClassVar[tuple[Need, ...]] = ("exec",)
    tools: ClassVar[tuple[str, ...]] = ()  # programs that must exist inside the target
    #: Dataset metrics (``harness/collect/catalog.py`` names) of the *target* that carry this
    #: fault's effect: the metric-level root-cause truth. Empty where no single metric is the
    #: cause (pause and kill show up in the callers' latency and errors).
    dataset_metrics: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    #: The parameter that sets how strong the fault is, and its unit (an intensity ladder's axis,
    #: the board's detection limits); None for faults without one (pause, kill).
    intensity_param: ClassVar[str | None] = None
    intensity_unit: ClassVar[str] = ""

    def __init__(self, ctx: FaultContext, params: FaultParams) -> None:
        self.ctx = ctx
        self.params = params
        self.mechanism_: str | None = None
        #: What the revert did beyond undoing ``apply`` (e.g. page cache reclaimed); written to
        #: the ground truth's ``detail.revert`` so a recording says how each fault was cleaned.
        self.revert_notes: dict[str, Any] = {}

    @classmethod
    def validate_params(cls, raw: dict[str, Any] | None) -> FaultParams:
        """Validate raw params; a pydantic error becomes BadInput naming the fault and field."""
        from pydantic import ValidationError

        from faultlab.errors import BadInput

        try:
            return cls.Params.model_validate(dict(raw or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(params)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise BadInput(f"fault {cls.name!r} params: {problems}") from None

    @classmethod
    def intensity(cls, raw: dict[str, Any] | None) -> tuple[float, str] | None:
        """How strong a fault with these params is, ``(value, unit)``; None when the type has no level."""
        if cls.intensity_param is None:
            return None
        value = getattr(cls.validate_params(raw), cls.intensity_param)
        return (float(value), cls.intensity_unit) if value is not None else None

    @property
    def runs_in_target(self) -> bool:
        """Whether the fault runs a program inside its target (whose files then sit in the
        target's page cache: the executor reclaims them at the revert, ``page_cache.py``)."""
        return "exec" in self.needs

    def active_needs(self) -> tuple[Need, ...]:
        """The needs for these params (a subclass drops what its params do not use)."""
        return self.needs

    def min_duration_s(self) -> float:
        """Shortest meaningful duration for this fault's parameters (0 when no lower bound)."""
        return 0.0

    def memory_needed_mb(self, duration_s: float) -> float:
        """Memory the fault adds to the target over ``duration_s`` (checked in preflight)."""
        return 0.0

    @classmethod
    def host_demand(cls, params: FaultParams, duration_s: float) -> HostDemand:
        """What the fault asks of the host, per target, checked before anything starts.

        A scenario asking for more than the host has (8 cores on a 2-core machine, 40 GB of
        memory) is refused by ``faultlab validate``/``run`` without Docker.
        """
        return HostDemand()

    @abstractmethod
    def effect(self, duration_s: float) -> EffectSpec:
        """The metric that shows this fault and the expected change for these params."""

    @abstractmethod
    def apply(self, duration_s: float) -> str:
        """Start the fault (non-blocking); return the mechanism used."""

    @abstractmethod
    def revert(self) -> None:
        """Undo everything ``apply`` did; idempotent and safe before/without ``apply``."""

    def measure(self) -> dict[str, float] | None:
        """Fault-specific measurement read just before revert (e.g. firewall drop counters).

        Returns ``{"during": value, "baseline": value}`` in the effect's unit, or ``None`` when
        the effect is measured from the sampled container counters instead.
        """
        return None
