"""Run a plan on time: record intent, apply, revert at the end, check the effect, log everything.

Revert happens on the normal end of each fault and on an interruption (SIGTERM, SIGHUP or
Ctrl-C raise :class:`faultlab.errors.Interrupted` into the loop, whose ``finally`` reverts what
is active; the applied part of a fault reverted early is still labelled). After a SIGKILL, :func:`faultlab.injectors.cleanup.clean`
(called at the start of every run too) removes the leftovers. The target's counters are sampled
from the host at 2 Hz from before the first fault (the baseline minute) to a few seconds after
the last revert (the return to baseline).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from faultlab.errors import RunFailed
from faultlab.injectors import FAULTS, page_cache
from faultlab.injectors.base import EffectSpec, Fault, FaultContext
from faultlab.injectors.counters import Sampler
from faultlab.injectors.docker_ops import DockerOps
from faultlab.injectors.effect import EffectResult, measure_effect
from faultlab.injectors.ground_truth import GroundTruthLog, iso_ms, make_record
from faultlab.injectors.preflight import check_fault
from faultlab.injectors.schedule import Plan, PlannedFault
from faultlab.interrupt import interruptible

OUTCOME_RANK = {"applied": 0, "partial": 1, "failed": 2}


@dataclass
class Active:
    """A fault in flight: its plan entry, one Fault per target, the times."""

    planned: PlannedFault
    faults: list[Fault]
    scheduled_start: float
    scheduled_end: float
    applied_at: float | None = None
    mechanism: str | None = None
    reverted_at: float | None = None
    error: str | None = None
    revert_failed: bool = False  # a revert raised: the fault may still be in place
    interrupted: bool = False  # reverted early because the run was interrupted
    specs: list[EffectSpec] = field(default_factory=list)
    measured: list[dict[str, float] | None] = field(default_factory=list)
    cache_before: dict[int, int | None] = field(default_factory=dict)  # fault index -> page cache at apply


@dataclass
class ExecutorConfig:
    baseline_s: float = 60.0  # the "minute before" the effect is compared with
    settle_s: float = 5.0  # observation after revert, for the effect offset / return
    sample_interval_s: float = 0.5
    clean_first: bool = True
    preflight: bool = True


class Executor:
    """Applies and reverts the faults of one plan against the running testbed."""

    def __init__(self, ops: DockerOps, log: GroundTruthLog, config: ExecutorConfig | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.ops = ops
        self.log = log
        self.config = config or ExecutorConfig()
        self.clock = clock
        self.sampler = Sampler(self.config.sample_interval_s)
        self.records: list[dict[str, Any]] = []

    # --- building ------------------------------------------------------------------------
    def build(self, planned: PlannedFault, t0: float) -> Active:
        fault_cls = FAULTS.get(planned.type)
        params = fault_cls.validate_params(planned.params)
        faults = []
        for name in planned.targets:
            target = self.ops.resolve(name)
            ctx = FaultContext(fault_id=planned.fault_id, target=target, ops=self.ops)
            faults.append(fault_cls(ctx, params))
        return Active(planned, faults, t0 + planned.start_s, t0 + planned.end_s)

    def preflight(self, plan: Plan) -> None:
        """Check every planned fault's needs now (targets, tools, NET_ADMIN, netem, memory).

        The runner calls this right after the testbed is up, before the warm-up and training
        period, so a fault that could not work fails the run at once instead of minutes later.
        """
        for planned in plan.faults:
            active = self.build(planned, t0=0.0)
            for fault in active.faults:
                check_fault(fault, planned.duration_s)

    def _record(self, event: str, active: Active, **fields: Any) -> dict[str, Any]:
        p = active.planned
        record = make_record(
            event, fault_id=p.fault_id, type=p.type, targets=list(p.targets),
            params=active.faults[0].params.model_dump(mode="json") if active.faults else p.params,
            mechanism=active.mechanism, scheduled_start=iso_ms(active.scheduled_start),
            scheduled_end=iso_ms(active.scheduled_end), applied_at=iso_ms(active.applied_at),
            reverted_at=iso_ms(active.reverted_at), error=active.error, group=p.group, **fields,
        )
        self.log.append(record)
        self.records.append(record)
        return record

    # --- one fault -----------------------------------------------------------------------
    def apply(self, active: Active) -> None:
        duration_s = active.planned.duration_s
        self._record("intent", active, outcome=None)
        try:
            mechanisms = set()
            for i, fault in enumerate(active.faults):
                active.specs.append(fault.effect(duration_s))
                if fault.runs_in_target:
                    active.cache_before[i] = page_cache.cache_bytes(self.sampler.layout, fault.ctx.target.container_id)
                mechanisms.add(fault.apply(duration_s))
                if active.applied_at is None:
                    active.applied_at = self.clock()
            active.mechanism = ",".join(sorted(mechanisms))
        except Exception as exc:
            active.error = f"apply failed: {exc}"
            self._revert_faults(active)
            self._record("failed", active, outcome="failed")
            return
        self._record("applied", active, outcome="applied")

    def _revert_faults(self, active: Active) -> None:
        errors = []
        for i, fault in enumerate(active.faults):
            try:
                active.measured.append(fault.measure() if active.applied_at else None)
            except Exception as exc:
                active.measured.append(None)
                errors.append(f"measure on {fault.ctx.target.service}: {exc}")
            try:
                fault.revert()
            except Exception as exc:
                active.revert_failed = True
                errors.append(f"revert on {fault.ctx.target.service}: {exc}")
            else:
                if i in active.cache_before:
                    fault.revert_notes.update(page_cache.reclaim_growth(
                        self.sampler.layout, fault.ctx.target.container_id, active.cache_before.pop(i)))
        if errors:
            active.error = "; ".join(filter(None, [active.error, *errors]))

    def revert(self, active: Active) -> None:
        self._revert_faults(active)
        active.reverted_at = self.clock()

    def finalize(self, active: Active) -> dict[str, Any]:
        """Evaluate the effect per target and write the ``reverted`` record."""
        results: list[tuple[str, EffectSpec, EffectResult]] = []
        f0 = active.applied_at or active.scheduled_start
        f1 = active.reverted_at or self.clock()
        for fault, spec, override in zip(active.faults, active.specs, active.measured, strict=False):
            samples = self.sampler.samples(fault.ctx.target.container_id)
            self_measured = type(fault).measure is not Fault.measure
            result = measure_effect(spec, samples, (f0 - self.config.baseline_s, f0), (f0, f1),
                              override=override if self_measured else None)
            if self_measured and override is None:
                result = EffectResult("partial", None, None, None, None, None,
                                      f"effect not measured: no {spec.metric} counts (no traffic?)")
            results.append((fault.ctx.target.service, spec, result))
        outcome = max((r.outcome for _, _, r in results), key=OUTCOME_RANK.__getitem__, default="partial")
        errors = [r.error for _, _, r in results if r.error]
        if active.error:
            errors.insert(0, active.error)
            outcome = "failed" if active.revert_failed else outcome
        if outcome == "applied":
            outcome = "reverted"
        effect = results[0][2].as_record(results[0][1]) if results else None
        if effect is not None and len(results) > 1:
            effect["per_target"] = {svc: r.as_record(s) for svc, s, r in results}
        onsets = [r.onset_t for _, _, r in results if r.onset_t is not None]
        offsets = [r.offset_t for _, _, r in results if r.offset_t is not None]
        returns = [r.returned_t for _, _, r in results if r.returned_t is not None]
        detail = {"returned_to_baseline_at": iso_ms(max(returns)) if returns else None,
                  "baseline_s": self.config.baseline_s, "interrupted": active.interrupted}
        notes = {f.ctx.target.service: f.revert_notes for f in active.faults if f.revert_notes}
        if notes:
            detail["revert"] = notes
        active.error = "; ".join(errors) or None
        return self._record("reverted", active, outcome=outcome,
                            effect_onset=iso_ms(min(onsets)) if onsets else None,
                            effect_offset=iso_ms(max(offsets)) if offsets else None,
                            effect=effect, detail=detail)

    # --- a plan --------------------------------------------------------------------------
    def run(self, plan: Plan, t0: float | None = None) -> list[dict[str, Any]]:
        """Run every fault of ``plan`` at ``t0 + start_s`` (default: after the baseline)."""
        if self.config.clean_first:
            from faultlab.injectors.cleanup import clean

            clean(self.ops)
        start = self.clock()
        t0 = start + self.config.baseline_s if t0 is None else t0
        actives = [self.build(p, t0) for p in plan.faults]
        if self.config.preflight:
            for active in actives:
                for fault in active.faults:
                    check_fault(fault, active.planned.duration_s)
        for active in actives:
            for fault in active.faults:
                self.sampler.watch(fault.ctx.target.container_id)
        self.sampler.start()
        with interruptible():
            self._loop(actives)
        return self.records

    def _loop(self, actives: list[Active]) -> None:
        pending = sorted(actives, key=lambda a: a.scheduled_start)
        running: list[Active] = []
        done: list[tuple[float, Active]] = []
        try:
            while pending or running:
                now = self.clock()
                for active in [a for a in running if a.scheduled_end <= now]:
                    self.revert(active)
                    running.remove(active)
                    done.append((self.clock() + self.config.settle_s, active))
                while pending and pending[0].scheduled_start <= now:
                    active = pending.pop(0)
                    running.append(active)  # before apply: an interruption mid-apply still reverts it
                    self.apply(active)
                    if active.applied_at is None:  # apply failed and was reverted and logged
                        running.remove(active)
                self._finalize_due(done, self.clock())
                waits = [a.scheduled_end for a in running] + [a.scheduled_start for a in pending[:1]]
                waits += [due for due, _ in done]
                time.sleep(max(0.0, min(min(waits, default=now) - self.clock(), 0.2)))
            while done:
                self._finalize_due(done, self.clock())
                time.sleep(0.1)
        finally:
            for active in running:
                self.revert(active)
                active.interrupted = True
                active.error = "; ".join(filter(None, [active.error, "interrupted: reverted early"]))
                done.append((self.clock() + min(self.config.settle_s, 1.0), active))
            if running:
                time.sleep(min(self.config.settle_s, 1.0))
            self._finalize_due(done, float("inf"))  # every fault gets its closing record
            self.sampler.stop()

    def _finalize_due(self, done: list[tuple[float, Active]], now: float) -> None:
        for item in [d for d in done if d[0] <= now]:
            done.remove(item)
            self.finalize(item[1])


def inject_one(ops: DockerOps, log: GroundTruthLog, fault_type: str, target: str, duration_s: float,
               params: dict[str, Any], config: ExecutorConfig | None = None,
               fault_id: str | None = None, scrape_interval_s: float = 5.0) -> dict[str, Any]:
    """Apply one fault by hand (``faultlab inject``) and return its last ground-truth record."""
    from faultlab.injectors.schedule import check_plan

    fault_id = fault_id or f"manual-{fault_type}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"
    planned = PlannedFault(fault_id=fault_id, type=fault_type, targets=[target], start_s=0.0,
                           duration_s=duration_s, params=params)
    check_plan([planned], scrape_interval_s=scrape_interval_s)
    executor = Executor(ops, log, config)
    records = executor.run(Plan(faults=[planned]))
    if not records:
        raise RunFailed(f"fault {fault_id}: nothing was recorded")
    return records[-1]


__all__ = ["Executor", "ExecutorConfig", "inject_one"]
