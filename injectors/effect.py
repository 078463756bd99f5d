"""The measured effect check: a fault's metric during the fault versus the minute before.

Pure functions over :class:`faultlab.injectors.counters.Sample` lists, so that the rule that decides
``applied`` / ``partial`` / ``failed`` is unit-tested without Docker. The onset (offset) is the
first (last) sample at which the metric is past the half-way mark between the baseline and the
expected level; the return to baseline is the first sample after the revert that is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from statistics import fmean

from faultlab.injectors.base import EffectSpec
from faultlab.injectors.counters import Sample


def _rate(field: str, scale: float) -> Callable[[Sample, Sample], float | None]:
    def fn(prev: Sample, cur: Sample) -> float | None:
        if not (prev.present and cur.present) or cur.t <= prev.t:
            return None
        delta = getattr(cur, field) - getattr(prev, field)
        return max(delta, 0) * scale / (cur.t - prev.t)

    return fn


def _sum_rate(fields: tuple[str, ...], scale: float) -> Callable[[Sample, Sample], float | None]:
    parts = [_rate(f, scale) for f in fields]

    def fn(prev: Sample, cur: Sample) -> float | None:
        values = [p(prev, cur) for p in parts]
        return None if any(v is None for v in values) else sum(values)  # type: ignore[misc]

    return fn


def _level(field: str) -> Callable[[Sample, Sample], float | None]:
    def fn(prev: Sample, cur: Sample) -> float | None:
        return float(getattr(cur, field)) if cur.present else None

    return fn


# metric name -> value at a sample, from (previous sample, sample)
METRICS: dict[str, Callable[[Sample, Sample], float | None]] = {
    "cpu_cores": _rate("cpu_ns", 1e-9),
    # the working set (usage minus inactive file cache), the dataset's memory_bytes
    "memory_bytes": _level("memory_bytes"),
    "rss_bytes": _level("rss_bytes"),
    "cache_bytes": _level("cache_bytes"),
    "memory_usage_bytes": _level("memory_usage_bytes"),
    "fs_bytes_per_s": _sum_rate(("fs_read_bytes", "fs_write_bytes"), 1.0),
    "net_mbit_s": _sum_rate(("rx_bytes", "tx_bytes"), 8e-6),
    "rx_packets_per_s": _rate("rx_packets", 1.0),
    "tcp_established": _level("tcp_established"),
    "tcp_inbound": _level("tcp_inbound"),
    "frozen": lambda prev, cur: 1.0 if (cur.present and cur.frozen) else 0.0,
    "down": lambda prev, cur: 0.0 if cur.present else 1.0,
}


def series(metric: str, samples: list[Sample]) -> list[tuple[float, float]]:
    """(t, value) of one metric; rates are attributed to the later sample of each pair."""
    fn = METRICS[metric]
    out = []
    for prev, cur in zip(samples, samples[1:], strict=False):
        value = fn(prev, cur)
        if value is not None:
            out.append((cur.t, value))
    return out


@dataclass(frozen=True)
class EffectResult:
    """What the check found; ``outcome`` is ``applied``, ``partial`` or ``failed``."""

    outcome: str
    baseline: float | None
    during: float | None
    onset_t: float | None
    offset_t: float | None
    returned_t: float | None
    error: str | None

    def as_record(self, spec: EffectSpec) -> dict:
        change = None
        if self.baseline is not None and self.during is not None:
            change = self.during - self.baseline
        level_pct = None
        if change is not None and spec.expected:
            level_pct = round(100.0 * abs(change) / spec.expected, 1)
        return {
            "metric": spec.metric,
            "unit": spec.unit,
            "direction": spec.direction,
            "baseline": _round(self.baseline),
            "during": _round(self.during),
            "change": _round(change),
            "expected_change": spec.expected,
            "achieved_pct": level_pct,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def threshold(spec: EffectSpec, baseline: float) -> float:
    """The level past which a sample shows the effect."""
    sign = 1.0 if spec.direction == "up" else -1.0
    if spec.expected is not None:
        return baseline + sign * spec.min_fraction * spec.expected
    if spec.direction == "up":
        return max(baseline * spec.min_ratio, baseline + spec.min_abs)
    return baseline / spec.min_ratio


def _past(spec: EffectSpec, value: float, level: float) -> bool:
    return value >= level if spec.direction == "up" else value <= level


def measure_effect(
    spec: EffectSpec,
    samples: list[Sample],
    baseline_window: tuple[float, float],
    fault_window: tuple[float, float],
    settle_s: float = 1.0,
    override: dict[str, float] | None = None,
) -> EffectResult:
    """Compare the metric in ``fault_window`` (after ``settle_s``) with ``baseline_window``.

    ``override`` (``{"baseline", "during"}``) replaces the sampled values for faults measured
    by their own counters (firewall drop counters); onset/offset then stay at the window edges.
    """
    points = series(spec.metric, samples) if spec.metric in METRICS else []
    b0, b1 = baseline_window
    f0, f1 = fault_window
    base_vals = [v for t, v in points if b0 <= t < b1]
    settle = min(settle_s, 0.25 * (f1 - f0))
    during_vals = [v for t, v in points if f0 + settle <= t <= f1]
    if override is not None:
        baseline, during = override.get("baseline"), override.get("during")
    else:
        baseline = fmean(base_vals) if base_vals else None
        during = fmean(during_vals) if during_vals else None
    if baseline is None or during is None:
        missing = "baseline" if baseline is None else "during-fault"
        return EffectResult("partial", baseline, during, None, None, None,
                            f"effect not measured: no {missing} samples of {spec.metric}")
    level = threshold(spec, baseline)
    past = [(t, v) for t, v in points if t >= f0 and _past(spec, v, level)]
    onset_t = next((t for t, _ in past if t <= f1), None)
    offset_t = past[-1][0] if past else None
    if override is not None:
        onset_t, offset_t = (f0, f1) if _past(spec, during, level) else (None, None)
    returned_t = None
    after_from = max(f1, offset_t or f1)
    returned_t = next((t for t, v in points if t > after_from and not _past(spec, v, level)), None)
    change = (during - baseline) * (1.0 if spec.direction == "up" else -1.0)
    if _past(spec, during, level):
        return EffectResult("applied", baseline, during, onset_t, offset_t, returned_t, None)
    weak = spec.expected is None or change >= 0.1 * spec.expected
    if change > spec.min_abs and weak:
        return EffectResult("partial", baseline, during, onset_t, offset_t, returned_t,
                            f"effect weaker than expected on {spec.metric}: change {change:.4g} "
                            f"{spec.unit}")
    return EffectResult("failed", baseline, during, onset_t, offset_t, returned_t,
                        f"no measurable effect on {spec.metric} (baseline {baseline:.4g}, "
                        f"during {during:.4g} {spec.unit})")
