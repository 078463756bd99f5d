"""The executor's journal and revert discipline, with a fake Docker (pure logic)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from faultlab.injectors import FAULTS, page_cache
from faultlab.injectors import executor as executor_mod
from faultlab.injectors.executor import Executor, ExecutorConfig
from faultlab.injectors.ground_truth import GroundTruthLog, read_records
from faultlab.injectors.schedule import Plan, PlannedFault
from faultlab.injectors.targets import Target
from faultlab.testbed.app.cgroups import detect_layout

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cgroup"
CID = "3f2b9c1d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c"


class FakeOps:
    def __init__(self):
        self.calls: list[str] = []

    def resolve(self, name):
        return Target(service=name, container_id="0" * 64, container_name=f"faultlab-{name}-1", image="i")

    def pause(self, target):
        self.calls.append(f"pause {target.service}")

    def unpause(self, target):
        self.calls.append(f"unpause {target.service}")


def plan(duration_s=0.3):
    return Plan(faults=[PlannedFault(fault_id="f1", type="pause", targets=["cart"], start_s=0.0,
                                     duration_s=duration_s)])


def config():
    return ExecutorConfig(baseline_s=0.0, settle_s=0.1, clean_first=False, preflight=False)


def test_intent_before_apply_then_revert_record(tmp_path):
    ops = FakeOps()
    log = GroundTruthLog(tmp_path / "gt.jsonl")
    Executor(ops, log, config()).run(plan())
    records = read_records(log.path)
    assert [r["event"] for r in records] == ["intent", "applied", "reverted"]
    assert ops.calls == ["pause cart", "unpause cart"]
    last = records[-1]
    assert last["applied_at"] and last["reverted_at"] and last["mechanism"] == "docker-pause"
    # the fake container has no cgroup: the effect cannot be measured, so it is not labelled good
    assert last["outcome"] in ("partial", "failed") and last["error"]


def test_ctrl_c_reverts_and_records(tmp_path, monkeypatch):
    ops = FakeOps()
    log = GroundTruthLog(tmp_path / "gt.jsonl")
    real_sleep = executor_mod.time.sleep

    def interrupt(seconds):
        if ops.calls == ["pause cart"]:
            raise KeyboardInterrupt
        real_sleep(seconds)

    monkeypatch.setattr(executor_mod.time, "sleep", interrupt)
    with pytest.raises(KeyboardInterrupt):
        Executor(ops, log, config()).run(plan(duration_s=60))
    assert ops.calls == ["pause cart", "unpause cart"]
    last = read_records(log.path)[-1]
    assert last["event"] == "reverted" and "interrupted" in last["error"]


def test_apply_failure_is_logged_failed_and_reverted(tmp_path):
    class Broken(FakeOps):
        def pause(self, target):
            raise RuntimeError("engine said no")

    ops = Broken()
    log = GroundTruthLog(tmp_path / "gt.jsonl")
    Executor(ops, log, config()).run(plan())
    records = read_records(log.path)
    assert [r["event"] for r in records] == ["intent", "failed"]
    assert records[-1]["outcome"] == "failed" and "engine said no" in records[-1]["error"]
    assert ops.calls == ["unpause cart"]  # revert runs anyway, harmlessly


def test_preflight_checks_every_planned_fault_without_applying_any(tmp_path):
    """A stopped target fails the preflight (which the runner calls before the load starts)."""
    from dataclasses import replace

    from faultlab.errors import RunFailed

    class StoppedPayment(FakeOps):
        def resolve(self, name):
            target = super().resolve(name)
            return replace(target, running=name != "payment")

    faults = [
        PlannedFault(fault_id="f1", type="pause", targets=["cart"], start_s=0.0, duration_s=10.0),
        PlannedFault(fault_id="f2", type="pause", targets=["payment"], start_s=20.0, duration_s=10.0),
    ]
    ops = StoppedPayment()
    log = GroundTruthLog(tmp_path / "gt.jsonl")
    with pytest.raises(RunFailed, match="f2.*payment.*not running"):
        Executor(ops, log, config()).preflight(Plan(faults=faults))
    assert ops.calls == [] and read_records(log.path) == []
    Executor(FakeOps(), log, config()).preflight(Plan(faults=faults))  # all running: passes


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_mid_fault_reverts_and_the_applied_part_stays_labelled(tmp_path, monkeypatch, signame):
    """SIGTERM, SIGHUP and Ctrl-C are one interruption: revert, close the record, not 'failed'."""
    import os
    import signal

    from faultlab.errors import Interrupted
    from faultlab.harness.datasets.labels import fault_spans
    from faultlab.injectors.effect import EffectResult

    # The fake container has no counters: pretend the effect was measured, so that the outcome
    # shows what the interruption alone does to it.
    monkeypatch.setattr(executor_mod, "measure_effect",
                        lambda spec, *a, **k: EffectResult("applied", 0.0, 1.0, None, None, None, None))
    ops = FakeOps()
    log = GroundTruthLog(tmp_path / "gt.jsonl")
    real_sleep = executor_mod.time.sleep

    def send_signal(seconds):
        if ops.calls == ["pause cart"]:
            os.kill(os.getpid(), getattr(signal, signame))
        real_sleep(seconds)

    monkeypatch.setattr(executor_mod.time, "sleep", send_signal)
    with pytest.raises(Interrupted, match=signame):
        Executor(ops, log, config()).run(plan(duration_s=60))
    assert ops.calls == ["pause cart", "unpause cart"]
    last = read_records(log.path)[-1]
    assert last["event"] == "reverted" and last["detail"]["interrupted"] is True
    assert last["outcome"] == "reverted" and "interrupted: reverted early" in last["error"]
    assert last["applied_at"] and last["reverted_at"]
    [span] = fault_spans(read_records(log.path))
    assert span.labelled  # its applied steps are labelled
    assert signal.getsignal(signal.SIGTERM) is not None  # handlers restored (no exception left armed)


def test_a_failed_revert_is_failed_whatever_the_error_text(tmp_path, monkeypatch):
    from faultlab.injectors.effect import EffectResult

    monkeypatch.setattr(executor_mod, "measure_effect",
                        lambda spec, *a, **k: EffectResult("applied", 0.0, 1.0, None, None, None, None))

    class StuckPause(FakeOps):
        def unpause(self, target):
            raise RuntimeError("container is gone")

    log = GroundTruthLog(tmp_path / "gt.jsonl")
    Executor(StuckPause(), log, config()).run(plan())
    last = read_records(log.path)[-1]
    assert last["outcome"] == "failed" and "container is gone" in last["error"]


def test_a_fault_that_runs_in_its_target_has_its_page_cache_reclaimed_and_journalled(tmp_path, monkeypatch):
    asked = []

    def reclaim(layout, cid, before):
        asked.append((cid, before))
        return {"cache_before_mb": 1.0, "cache_at_revert_mb": 31.0, "cache_after_mb": 0.0}

    monkeypatch.setattr(FAULTS.get("pause"), "runs_in_target", property(lambda self: True))
    monkeypatch.setattr(executor_mod.page_cache, "cache_bytes", lambda layout, cid: 2**20)
    monkeypatch.setattr(executor_mod.page_cache, "reclaim_growth", reclaim)
    log = GroundTruthLog(tmp_path / "gt.jsonl")
    Executor(FakeOps(), log, config()).run(plan())
    assert asked == [("0" * 64, 2**20)]  # once, with the cache read before the apply
    revert = read_records(log.path)[-1]["detail"]["revert"]
    assert revert == {"cart": {"cache_before_mb": 1.0, "cache_at_revert_mb": 31.0, "cache_after_mb": 0.0}}


def test_a_fault_outside_its_target_is_not_reclaimed(tmp_path, monkeypatch):
    monkeypatch.setattr(executor_mod.page_cache, "reclaim_growth", lambda *a: pytest.fail("reclaimed"))
    log = GroundTruthLog(tmp_path / "gt.jsonl")
    Executor(FakeOps(), log, config()).run(plan())  # pause runs nothing in the target
    assert "revert" not in read_records(log.path)[-1]["detail"]


def test_reclaim_growth_writes_the_cgroup_file_and_reports_or_says_why_not(tmp_path, monkeypatch):
    root = tmp_path / "cgroup"
    shutil.copytree(FIXTURES / "v1_cgroupfs" / "sys" / "fs" / "cgroup", root)
    layout = detect_layout(root)
    notes = page_cache.reclaim_growth(layout, CID, 10 * 2**20)
    assert (layout.container_dir(CID) / "memory.force_empty").read_text() == "0"
    cache_mb = round(52809728 / 2**20, 2)  # the fixture's total_cache (its files do not change)
    assert notes == {"cache_before_mb": 10.0, "cache_at_revert_mb": cache_mb, "cache_after_mb": cache_mb}
    assert "not readable" in page_cache.reclaim_growth(layout, CID, None)["page_cache"]
    assert "not readable" in page_cache.reclaim_growth(layout, "9" * 64, 0)["page_cache"]

    def refuse(*a):
        raise PermissionError("memory.force_empty: permission denied")

    monkeypatch.setattr(page_cache, "reclaim_page_cache", refuse)
    assert page_cache.reclaim_growth(layout, CID, 0) == {"page_cache": "not reclaimed: memory.force_empty: permission denied"}


@pytest.mark.parametrize(("layout", "written"), [("v1_cgroupfs", ("memory.force_empty", "0")),
                                                  ("v2_cgroupfs", ("memory.reclaim", "5242880"))])
def test_reclaim_page_cache_writes_the_layouts_file(tmp_path: Path, layout: str, written: tuple[str, str]) -> None:
    root = tmp_path / "cgroup"
    shutil.copytree(FIXTURES / layout / "sys" / "fs" / "cgroup", root)
    found = detect_layout(root)
    page_cache.reclaim_page_cache(found, CID, 5 * 2**20)
    name, value = written
    assert (found.container_dir(CID) / name).read_text() == value


def test_reclaim_page_cache_does_nothing_without_excess_and_names_a_missing_cgroup(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    shutil.copytree(FIXTURES / "v2_cgroupfs" / "sys" / "fs" / "cgroup", root)
    found = detect_layout(root)
    page_cache.reclaim_page_cache(found, CID, 0)
    assert not (found.container_dir(CID) / "memory.reclaim").exists()
    with pytest.raises(FileNotFoundError, match="no memory cgroup"):
        page_cache.reclaim_page_cache(found, "0" * 64, 1)
