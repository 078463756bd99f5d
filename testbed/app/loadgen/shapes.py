"""Load over time as tiny classes with one method, after Locust's ``LoadTestShape`` idea.

``tick(run_time_s)`` returns ``(users, spawn_rate)`` or ``None`` once the total duration is
over. Pure (no Locust import) so the harness and the tests can evaluate a shape without gevent.
Optional jitter is seeded and depends only on ``(seed, run_time_s // jitter_period_s)``, so a
shape gives the same users at the same time however often it is ticked.
"""

from __future__ import annotations

import inspect
import math
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

Tick = tuple[int, float] | None


class Shape(ABC):
    """Base: duration, spawn rate and jitter; subclasses give the noiseless ``level(t)``."""

    name = "shape"

    def __init__(
        self,
        spawn_rate: float = 10.0,
        duration_s: float | None = None,
        jitter: float = 0.0,
        jitter_period_s: float = 10.0,
        seed: int = 0,
    ) -> None:
        _check(self.name, "spawn_rate", spawn_rate, spawn_rate > 0, "must be > 0")
        if duration_s is not None:
            _check(self.name, "duration_s", duration_s, duration_s > 0, "must be > 0 or null")
        _check(self.name, "jitter", jitter, 0 <= jitter <= 1, "must be in [0, 1]")
        _check(self.name, "jitter_period_s", jitter_period_s, jitter_period_s > 0, "must be > 0")
        self.spawn_rate = float(spawn_rate)
        self.duration_s = None if duration_s is None else float(duration_s)
        self.jitter = float(jitter)
        self.jitter_period_s = float(jitter_period_s)
        self.seed = int(seed)

    @abstractmethod
    def level(self, run_time_s: float) -> float:
        """The noiseless number of users at ``run_time_s``."""
        raise NotImplementedError

    def tick(self, run_time_s: float) -> Tick:
        if self.duration_s is not None and run_time_s >= self.duration_s:
            return None
        users = self.level(run_time_s)
        if self.jitter > 0:
            bucket = int(run_time_s // self.jitter_period_s)
            noise = random.Random(f"{self.seed}:{bucket}").uniform(-1.0, 1.0)
            users *= 1.0 + self.jitter * noise
        return max(0, int(round(users))), self.spawn_rate


class Constant(Shape):
    """The same number of users all the time."""

    name = "constant"

    def __init__(self, users: int = 10, **common: Any) -> None:
        super().__init__(**common)
        _check(self.name, "users", users, users >= 0, "must be >= 0")
        self.users = users

    def level(self, run_time_s: float) -> float:
        return float(self.users)


class Steps(Shape):
    """``users[i]`` during step ``i`` (each ``step_duration_s`` long); the last level holds."""

    name = "steps"

    def __init__(self, users: list[int] | None = None, step_duration_s: float = 60.0, **common: Any) -> None:
        super().__init__(**common)
        users = [5, 10, 20] if users is None else users
        ok = isinstance(users, list) and len(users) > 0 and all(isinstance(u, (int, float)) and u >= 0 for u in users)
        _check(self.name, "users", users, ok, "must be a non-empty list of numbers >= 0")
        _check(self.name, "step_duration_s", step_duration_s, step_duration_s > 0, "must be > 0")
        self.users = list(users)
        self.step_duration_s = float(step_duration_s)

    def level(self, run_time_s: float) -> float:
        index = min(int(run_time_s // self.step_duration_s), len(self.users) - 1)
        return float(self.users[index])


class Sine(Shape):
    """A diurnal-like cycle: ``base + amplitude * sin(2 pi (t + phase_s) / period_s)``."""

    name = "sine"

    def __init__(
        self, base: float = 10.0, amplitude: float = 5.0, period_s: float = 600.0, phase_s: float = 0.0, **common: Any
    ) -> None:
        super().__init__(**common)
        _check(self.name, "base", base, base >= 0, "must be >= 0")
        _check(self.name, "amplitude", amplitude, amplitude >= 0, "must be >= 0")
        _check(self.name, "period_s", period_s, period_s > 0, "must be > 0")
        self.base, self.amplitude = float(base), float(amplitude)
        self.period_s, self.phase_s = float(period_s), float(phase_s)

    def level(self, run_time_s: float) -> float:
        angle = 2.0 * math.pi * (run_time_s + self.phase_s) / self.period_s
        return self.base + self.amplitude * math.sin(angle)


class Spike(Shape):
    """``base`` users, and ``spike_users`` from ``at_s`` for ``spike_duration_s`` seconds."""

    name = "spike"

    def __init__(
        self,
        base: int = 10,
        spike_users: int = 50,
        at_s: float = 300.0,
        spike_duration_s: float = 60.0,
        **common: Any,
    ) -> None:
        common.setdefault("spawn_rate", 50.0)
        super().__init__(**common)
        _check(self.name, "base", base, base >= 0, "must be >= 0")
        _check(self.name, "spike_users", spike_users, spike_users >= 0, "must be >= 0")
        _check(self.name, "at_s", at_s, at_s >= 0, "must be >= 0")
        _check(self.name, "spike_duration_s", spike_duration_s, spike_duration_s > 0, "must be > 0")
        self.base, self.spike_users = base, spike_users
        self.at_s, self.spike_duration_s = float(at_s), float(spike_duration_s)

    def level(self, run_time_s: float) -> float:
        in_spike = self.at_s <= run_time_s < self.at_s + self.spike_duration_s
        return float(self.spike_users if in_spike else self.base)


SHAPES: dict[str, Callable[..., Shape]] = {cls.name: cls for cls in (Constant, Steps, Sine, Spike)}


def make_shape(name: str, params: Mapping[str, Any] | None = None, seed: int = 0) -> Shape:
    """Build the shape ``name`` from ``params``; ValueError names the bad shape or field."""
    if name not in SHAPES:
        raise ValueError(f"unknown load shape {name!r}; valid: {', '.join(sorted(SHAPES))}")
    params = dict(params or {})
    cls = SHAPES[name]
    allowed = _fields(cls)
    for key, value in params.items():
        if key not in allowed:
            raise ValueError(f"load shape {name!r}: unknown field {key!r}; valid: {', '.join(sorted(allowed))}")
        if key == "users" and name == "steps":
            continue
        if key != "duration_s" or value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"load shape {name!r}: field {key!r} must be a number, got {value!r}")
    return cls(**params, seed=seed)


def _fields(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in (cls, Shape):
        names |= {p for p in inspect.signature(klass.__init__).parameters if p not in ("self", "common", "seed")}
    return names


def _check(shape: str, field: str, value: Any, ok: bool, rule: str) -> None:
    if not ok:
        raise ValueError(f"load shape {shape!r}: field {field!r} {rule}, got {value!r}")
