"""The runner's orchestration: what happens on success, on Ctrl-C and on a failed phase.

The live phases (Docker, Prometheus) are replaced by small fakes: this tests the runner's own
logic (ordering, teardown, the manifest's ``complete`` flag, saving what was collected), which
the end-to-end integration test cannot interrupt at will.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

import faultlab.harness.runs.runner as runner
from faultlab.errors import BadInput, RunFailed

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "ci-smoke.yaml"


@pytest.fixture
def calls(monkeypatch):
    """Record the phases; the live part is swapped per test via ``calls['live']``."""
    seen: dict = {"order": [], "live": None}

    def live(scenario, plan, folder, state, log):
        seen["order"].append("live")
        if seen.get("unstarted"):
            return seen["live"]()
        state.load_start = time.time() - 100
        state.fault_start = state.load_start + plan.fault_phase_start_s
        if seen["live"] is not None:
            seen["live"]()

    def collect(scenario, plan, folder, state, log):
        seen["order"].append("collect")
        folder.dataset_dir.mkdir()
        (folder.dataset_dir / "meta.json").write_text("{}")

    monkeypatch.setattr(runner, "_run_live", live)
    monkeypatch.setattr(runner, "_collect_and_evaluate", collect)
    monkeypatch.setattr(runner, "_teardown", lambda plan, log: seen["order"].append("teardown"))
    monkeypatch.setattr(runner, "write_manifest", _manifest_without_host_probe(runner.write_manifest))
    return seen


def _manifest_without_host_probe(write):
    def wrapped(folder, **kwargs):
        return write(folder, host={"cpu_count": 2}, **kwargs)

    return wrapped


def manifest(result) -> dict:
    return json.loads((result.folder.path / "manifest.json").read_text())


def test_a_complete_run_collects_tears_down_and_says_complete(calls, tmp_path):
    result = runner.run_scenario(SCENARIO, out=tmp_path, log=lambda m: None)
    assert result.complete and result.error is None
    assert calls["order"] == ["live", "collect", "teardown"]
    m = manifest(result)
    assert m["complete"] is True and m["scenario"] == "ci-smoke"
    assert "dataset/meta.json" in m["files"] and "plan.yaml" in m["files"]


def test_the_run_state_reaches_collection_and_the_manifest(calls, tmp_path, monkeypatch):
    seen: list[runner.RunState] = []

    def live(scenario, plan, folder, state, log):
        state.image_ids = {"cart": "sha256:abc"}
        state.load_start = 1000.0
        state.fault_start = 1000.0 + plan.fault_phase_start_s
        state.host_load = {"warnings": []}

    monkeypatch.setattr(runner, "_run_live", live)
    monkeypatch.setattr(runner, "_collect_and_evaluate", lambda scenario, plan, folder, state, log: seen.append(state))
    result = runner.run_scenario(SCENARIO, out=tmp_path, log=lambda m: None)
    state = seen[0]
    assert isinstance(state, runner.RunState) and state.end is not None and state.end > state.load_start
    m = manifest(result)
    assert m["load_start"] == "1970-01-01T00:16:40.000Z" and m["end"] is not None
    assert m["host_load"] == {"warnings": []} and "sha256:abc" in json.dumps(m)


def test_nothing_is_collected_when_the_load_never_started(calls, tmp_path):
    def fail():
        raise RunFailed("testbed not healthy after 300 s")

    calls["live"] = fail
    calls["unstarted"] = True
    result = runner.run_scenario(SCENARIO, out=tmp_path, log=lambda m: None)
    assert not result.complete and calls["order"] == ["live", "teardown"]
    m = manifest(result)
    assert m["load_start"] is None and m["fault_phase_start"] is None and m["end"] is not None


def test_ctrl_c_still_collects_and_marks_the_run_incomplete(calls, tmp_path):
    def interrupt():
        raise KeyboardInterrupt

    calls["live"] = interrupt
    result = runner.run_scenario(SCENARIO, out=tmp_path, log=lambda m: None)
    assert not result.complete and "interrupted" in result.error
    assert calls["order"] == ["live", "collect", "teardown"]
    assert manifest(result)["complete"] is False


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_during_the_faults_still_collects_and_says_why(calls, tmp_path, signame):
    """Every way of being asked to stop ends the same: collected, torn down, incomplete, reason."""
    import os
    import signal

    calls["live"] = lambda: os.kill(os.getpid(), getattr(signal, signame))
    result = runner.run_scenario(SCENARIO, out=tmp_path, log=lambda m: None)
    assert not result.complete and f"interrupted by {signame}" in result.error
    assert calls["order"] == ["live", "collect", "teardown"]
    m = manifest(result)
    assert m["complete"] is False and signame in m["error"]


def test_a_signal_during_teardown_still_writes_the_manifest(calls, tmp_path, monkeypatch):
    import os
    import signal

    monkeypatch.setattr(runner, "_teardown", lambda plan, log: os.kill(os.getpid(), signal.SIGTERM))
    result = runner.run_scenario(SCENARIO, out=tmp_path, log=lambda m: None)
    m = manifest(result)
    assert m["complete"] is False and "during teardown" in m["error"]


def test_a_failed_phase_is_reported_and_the_testbed_still_goes_down(calls, tmp_path):
    def fail():
        raise RunFailed("testbed not healthy after 300 s")

    calls["live"] = fail
    result = runner.run_scenario(SCENARIO, out=tmp_path, log=lambda m: None)
    assert not result.complete and "not healthy" in result.error
    assert calls["order"][-1] == "teardown"
    assert manifest(result)["error"].startswith("testbed not healthy")


def test_keep_up_leaves_the_testbed_running(calls, tmp_path):
    runner.run_scenario(SCENARIO, keep_up=True, out=tmp_path, log=lambda m: None)
    assert "teardown" not in calls["order"]


def test_a_bad_scenario_starts_nothing_and_makes_no_folder(calls, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrain_s: 60\nfaults: [{type: cpux, target: cart, start_s: 0, duration_s: 30}]\n")
    with pytest.raises(BadInput, match="cpux"):
        runner.run_scenario(bad, out=tmp_path / "runs", log=lambda m: None)
    assert calls["order"] == []
    assert not (tmp_path / "runs").exists()


def test_progress_line_names_phase_and_current_fault():
    from faultlab.harness.scenario import load_scenario, resolve_plan

    plan = resolve_plan(load_scenario(SCENARIO))
    progress = runner.Progress(plan, load_start=1000.0, log=lambda m: None)
    assert "warm-up" in progress.line(1000.0 + 5)
    assert "training" in progress.line(1000.0 + plan.warmup_s + 1)
    first = plan.faults[0]
    line = progress.line(1000.0 + plan.fault_phase_start_s + first.start_s + 1)
    assert first.fault_id in line and first.type in line and "left" in line
    assert "cool-down" in progress.line(1000.0 + plan.duration_s - 1)


def test_host_load_is_summarized_per_phase_and_its_warning_logged(monkeypatch):
    from faultlab.harness.runs.hostload import Reading
    from faultlab.harness.scenario import load_scenario, resolve_plan

    plan = resolve_plan(load_scenario(SCENARIO))
    t0 = 1000.0
    fault_start = t0 + plan.fault_phase_start_s
    state = runner.RunState(load_start=t0, fault_start=fault_start, end=fault_start + 50.0)
    # quiet until the fault phase, then 1.5 cores of work outside the containers
    times = [t0 + plan.warmup_s + 10.0 * i for i in range(int((state.end - t0 - plan.warmup_s) // 10) + 1)]
    readings, busy = [], 0.0
    for prev, t in zip([times[0], *times], times, strict=False):
        busy += (t - prev) * (1.5 if t > fault_start else 0.0)
        readings.append(Reading(t, busy, {}))
    logged: list[str] = []
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 2)  # the CI host's size
    summary = runner.host_load_summary(readings, plan, state, logged.append)
    assert summary["phases"]["training"]["outside_cores"] == 0.0
    assert summary["phases"]["faults"]["outside_cores"] == pytest.approx(1.5, abs=0.2)
    assert [m for m in logged if m.startswith("warning: during the faults phase")] == [f"warning: {summary['warnings'][0]}"]
    interrupted = replace(state, end=fault_start - 20.0)  # stopped in the training period
    summary = runner.host_load_summary([r for r in readings if r.t <= interrupted.end], plan, interrupted, logged.append)
    assert set(summary["phases"]) == {"training"}
