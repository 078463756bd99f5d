"""``evaluate.live`` in scenarios and runs: validated before anything starts, started after the load,
and stopped on every exit path of the run (finished, failed, SIGTERM), with its CPU in the host-load summary.

The testbed, the injectors and the live process are small fakes here: this tests the runner's own
wiring; tests/integration/test_live_run.py runs it for real.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

import faultlab.harness.runs.runner as runner
from faultlab.errors import BadInput, Interrupted, RunFailed
from faultlab.harness.runs.folder import RunFolder
from faultlab.harness.scenario import load_scenario, resolve_plan

ROOT = Path(__file__).resolve().parents[2]
SMOKE = yaml.safe_load((ROOT / "scenarios" / "ci-smoke.yaml").read_text())


def _scenario(tmp_path: Path, live: list, shift_s: float = 60.0, **evaluate) -> Path:
    doc = {**SMOKE, "faults": [{**f, "start_s": f["start_s"] + shift_s} for f in SMOKE["faults"]],
           "evaluate": {**SMOKE["evaluate"], "live": live, **evaluate}}
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_the_shipped_live_scenario_is_valid_and_short():
    scenario = load_scenario(ROOT / "scenarios" / "live.yaml")
    assert [s.name for s in scenario.evaluate.live][:2] == ["zscore", "attae"]
    assert resolve_plan(scenario).duration_s <= 17 * 60  # 20 min with start-up, collection and the board


def test_live_detectors_are_checked_like_the_others(tmp_path):
    good = _scenario(tmp_path, [{"name": "zscore", "params": {"threshold": 5}}])
    assert load_scenario(good).evaluate.live[0].params == {"threshold": 5}
    bad = _scenario(tmp_path, [
        {"name": "zscor"},
        {"name": "zscore", "params": {"treshold": 3}},
        {"name": "iforest", "seeds": [0, 1]},
        {"name": "always_alarm"},
        {"name": "iforest", "seeds": [2]},
    ])
    with pytest.raises(BadInput) as err:
        load_scenario(bad)
    text = str(err.value)
    assert "evaluate.live[0].name" in text and "zscor" in text
    assert "evaluate.live[1].params" in text and "treshold" in text
    assert "evaluate.live[2].seeds: a live detector runs once" in text
    assert "evaluate.live[3].name" in text and "floor" in text
    assert "evaluate.live[4]: the same detector and params as evaluate.live[2]" in text


def test_no_fault_may_start_before_the_live_detectors_are_fitted(tmp_path):
    with pytest.raises(BadInput, match=r"faults\[0\]\.start_s: 0 s into the fault phase, but evaluate.live"):
        load_scenario(_scenario(tmp_path, [{"name": "zscore"}], shift_s=0.0))
    load_scenario(_scenario(tmp_path, [], shift_s=0.0))  # without live detectors, any start is fine


class FakeLive:
    """Stands in for LiveProcess: records stop()."""

    def __init__(self) -> None:
        self.stopped_with = None
        self.usage = None

    def stop(self, phases=None):
        self.stopped_with = phases
        self.usage = {"exit_code": 0, "state": "stopped", "cpu_s": 1.5, "cpu_bound": {"mode": "cgroup-v1"},
                      "cores": {"training": 0.0, "faults": 0.05}}
        return self.usage

    def status(self):
        return {"state": "stopped", "steps": 3}


@pytest.fixture
def live_run(monkeypatch, tmp_path):
    """``_run_live`` with the testbed, injectors and host monitor faked; ``calls['executor']`` decides the faults."""
    import faultlab.injectors.docker_ops as docker_ops
    import faultlab.injectors.executor as executor
    import faultlab.testbed.lifecycle as lifecycle

    calls: dict = {"live": FakeLive(), "executor": lambda: None, "started": []}

    class Executor:
        def __init__(self, *args, **kwargs):
            pass

        def preflight(self, plan):
            pass

        def run(self, plan, t0):
            calls["executor"]()

    class Monitor:
        def start(self):
            return self

        def stop(self):
            return []

    def start_live(scenario, plan, folder, state, log):
        calls["started"].append(state.fault_start)
        return calls["live"]

    monkeypatch.setattr(lifecycle, "up", lambda config, log=None: {})
    monkeypatch.setattr(lifecycle, "image_ids", lambda config: {})
    monkeypatch.setattr(docker_ops, "DockerOps", lambda: None)
    monkeypatch.setattr(executor, "Executor", Executor)
    monkeypatch.setattr(runner.hostload, "Monitor", Monitor)
    monkeypatch.setattr(runner, "restart_load", lambda config: time.time() - 1000.0)  # the fault phase is now
    monkeypatch.setattr(runner, "_sleep_until", lambda deadline: None)
    monkeypatch.setattr(runner, "start_live", start_live)
    scenario = load_scenario(_scenario(tmp_path, [{"name": "zscore"}]))
    plan = resolve_plan(scenario)
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()

    def go():
        state = runner.RunState()
        lines: list[str] = []
        try:
            runner._run_live(scenario, plan, folder, state, lines.append)
        finally:
            calls["state"], calls["log"] = state, lines
        return state

    calls["go"] = go
    return calls


def test_a_finished_run_stops_the_live_process_and_reports_its_cpu(live_run):
    state = live_run["go"]()
    live = live_run["live"]
    assert live_run["started"] == [state.fault_start] and live.stopped_with is not None
    assert set(live.stopped_with) == {"training", "faults"}
    assert state.live["state"] == "stopped" and state.live["status"]["steps"] == 3
    assert state.host_load["live"]["cpu_s"] == 1.5
    assert any("live detection used" in line and "0.05 cores during faults" in line for line in live_run["log"])


@pytest.mark.parametrize("failure", [Interrupted("SIGTERM"), KeyboardInterrupt(), RunFailed("a fault failed")])
def test_every_way_out_of_the_run_stops_the_live_process(live_run, failure):
    def fail():
        raise failure

    live_run["executor"] = fail
    with pytest.raises(type(failure)):
        live_run["go"]()
    assert live_run["live"].stopped_with is not None
    assert live_run["state"].live["state"] == "stopped"


def test_start_live_hands_the_run_settings_to_the_live_process(monkeypatch, tmp_path):
    from faultlab.harness.live.process import LiveProcess

    started = {}
    monkeypatch.setattr(LiveProcess, "start", lambda self: started.setdefault("config", self.config) and self)
    scenario = load_scenario(_scenario(tmp_path, [{"name": "zscore", "params": {"threshold": 5}}, {"name": "iforest"}]))
    plan = resolve_plan(scenario)
    state = runner.RunState(load_start=1000.0, fault_start=1000.0 + plan.fault_phase_start_s)
    runner.start_live(scenario, plan, RunFolder(tmp_path), state, lambda line: None)
    config = started["config"]
    assert config.origin_s == 1000.0 + plan.warmup_s and config.train_end_s == state.fault_start
    assert config.step_s == plan.step_s and config.groups == plan.metric_groups
    assert [d["label"] for d in config.detectors] == ["zscore(threshold=5)", "iforest"]
    assert config.prometheus_url.startswith("http://127.0.0.1:") and config.graph["nodes"]


def test_a_live_process_that_failed_makes_the_run_incomplete(monkeypatch, tmp_path):
    seen = []

    def live(scenario, plan, folder, state, log):
        state.load_start = time.time() - 100
        state.fault_start = state.load_start + plan.fault_phase_start_s
        state.live = {"exit_code": 1, "state": "failed", "reason": "BadInput: too few steps"}

    monkeypatch.setattr(runner, "_run_live", live)
    monkeypatch.setattr(runner, "_collect_and_evaluate", lambda *args: seen.append("collect"))
    monkeypatch.setattr(runner, "live_report", lambda *args: seen.append("report"))
    monkeypatch.setattr(runner, "_teardown", lambda plan, log: None)
    monkeypatch.setattr(runner, "write_manifest", lambda folder, **kwargs: None)
    result = runner.run_scenario(_scenario(tmp_path, [{"name": "zscore"}]), out=tmp_path / "runs", log=lambda line: None)
    assert not result.complete and "live detection ended failed (exit code 1): BadInput: too few steps" in result.error
    assert seen == ["collect", "report"]  # still collected, and the live figures still written


def test_live_failure_reads_the_process_outcome():
    assert runner.live_failure(None) is None
    assert runner.live_failure({"exit_code": 0, "state": "stopped", "status": {"live_from": "2026-01-01T00:00:00Z"}}) is None
    starved = runner.live_failure({"exit_code": 0, "state": "stopped", "cpu_s": 0.4, "status": {}})
    assert "never scored a step: it had 0.4 CPU seconds" in starved
    assert "ended without a status (exit code -15)" in runner.live_failure({"exit_code": -15, "state": None})
