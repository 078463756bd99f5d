"""``faultlab validate`` / ``run --dry-run`` and the checks of a plan against the host."""

from __future__ import annotations

from pathlib import Path

import pytest

from faultlab.harness.cli import main
from faultlab.harness.scenario import Scenario, load_scenario, parse_yaml, resolve_plan
from faultlab.harness.scenario.resources import Host, check_resources

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SMALL_HOST = Host(cpu_count=2, memory_mb=4096, disk_free_mb=1000)


def _plan(tmp_path: Path, text: str):
    """The resolved plan of a scenario text, checked against a given host rather than this one."""
    return resolve_plan(Scenario.model_validate(parse_yaml(text, str(tmp_path / "s.yaml"))))


def test_validate_prints_every_fault_and_the_total_wall_time(capsys):
    assert main(["validate", str(SCENARIOS / "ci-smoke.yaml")]) == 0
    out = capsys.readouterr().out
    plan = resolve_plan(load_scenario(SCENARIOS / "ci-smoke.yaml"))
    for fault in plan.faults:
        assert fault.fault_id in out and fault.type in out
    assert "total wall time" in out and f"({plan.duration_s / 60:.1f} min)" in out


def test_run_dry_run_is_validate_and_starts_nothing(capsys, tmp_path):
    assert main(["run", str(SCENARIOS / "ci-smoke.yaml"), "--dry-run", "--out", str(tmp_path)]) == 0
    assert "total wall time" in capsys.readouterr().out
    assert not any(tmp_path.iterdir())  # no run folder


def test_validate_of_a_broken_scenario_exits_2_naming_the_field(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\ntrain_s: 60\nfaults: [{type: cpu, target: cart, start_s: 0, duration_s: 30, params: {cores: 64}}]\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "64 cores" in err


def test_heavy_but_possible_asks_are_warnings_naming_the_number(tmp_path):
    plan = _plan(tmp_path, "name: t\ntrain_s: 90000\nload: {shape: constant, users: 1500}\n"
                           "faults: [{type: memory_alloc, target: cart, start_s: 0, duration_s: 30, params: {size_mb: 3000}}]\n")
    problems, warnings = check_resources(plan, SMALL_HOST)
    assert problems == []
    text = " | ".join(warnings)
    assert "runs for 25.0 h" in text
    assert "allocates 3,000 MB, more than half of the host's 4,096 MB" in text
    assert "1500 Locust users on a 2-core host" in text


def test_asks_beyond_the_host_are_problems(tmp_path):
    plan = _plan(tmp_path, "name: t\ntrain_s: 60\nfaults:\n"
                           "  - {type: cpu, target: cart, start_s: 0, duration_s: 30, params: {cores: 4}}\n"
                           "  - {type: memory_leak, target: cart, start_s: 40, duration_s: 100, params: {size_mb: 100, every_s: 1}}\n"
                           "  - {type: disk, target: cart, start_s: 200, duration_s: 30, params: {file_mb: 2048}}\n")
    problems, _ = check_resources(plan, SMALL_HOST)
    text = " | ".join(str(p) for p in problems)
    assert "asks for 4 cores per target; the host has 2" in text
    assert "allocates 10,100 MB; the host has 4,096 MB" in text
    assert "writes a 2,048 MB file; the host has 1,000 MB free" in text


@pytest.mark.parametrize("name", ["quickstart", "ci-smoke", "bench-telesto", "bench-mixed"])
def test_shipped_scenarios_fit_a_two_core_24_gb_machine(name):
    plan = resolve_plan(load_scenario(SCENARIOS / f"{name}.yaml"))
    problems, warnings = check_resources(plan, Host(cpu_count=2, memory_mb=24 * 1024, disk_free_mb=10_000))
    assert problems == [] and warnings == []
