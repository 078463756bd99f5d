"""Scenario format: shipped files, plan resolution (scaling, seeding, replay), JSON Schema, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.scenario import (
    json_schema,
    load_scenario,
    parse_yaml,
    read_plan,
    resolve_plan,
    scenario_from_data,
    write_plan,
)
from faultlab.injectors import FAULTS
from faultlab.injectors.schedule import overlaps

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))


def base(**over):
    data = {"name": "t", "train_s": 60, "warmup_s": 10, "cooldown_s": 5}
    data.update(over)
    return data


# ---- shipped scenarios -------------------------------------------------------------------------
def test_the_required_scenarios_are_shipped():
    names = {p.stem for p in SHIPPED}
    assert {"quickstart", "telesto", "radiography", "traffic-attacks", "ci-smoke"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_validates_resolves_and_matches_the_schema(path, tmp_path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    plan = resolve_plan(scenario)
    assert plan.faults and overlaps(plan.faults) == []
    assert read_plan(write_plan(plan, tmp_path / "plan.yaml")) == plan
    jsonschema.validate(parse_yaml(path.read_text(), str(path)), json_schema())


def test_quickstart_follows_the_recording_design_scaled_down():
    """docs/recordings.md, scaled down: fault-free stretches in the test part (at most 25 %
    anomalous, so every method's fault-free alarm rate is measured), one fault of each kind
    (resource, memory, network, container), a seed method on the board, minutes not hours."""
    scenario = load_scenario(SCENARIOS / "quickstart.yaml")
    plan = resolve_plan(scenario)
    assert {f.type for f in plan.faults} == {"cpu", "memory_leak", "packet_loss", "kill"}
    assert 360 <= plan.duration_s <= 600
    test_s = plan.duration_s - plan.fault_phase_start_s
    assert sum(f.duration_s for f in plan.faults) <= 0.25 * test_s
    assert {"lstm_ae"} & {d.name for d in scenario.evaluate.detectors}


def test_ci_smoke_is_a_few_minutes_with_two_or_three_faults():
    plan = resolve_plan(load_scenario(SCENARIOS / "ci-smoke.yaml"))
    assert 2 <= len(plan.faults) <= 3
    assert plan.duration_s <= 300


def test_telesto_follows_the_protocol_at_a_quarter_of_the_time():
    plan = resolve_plan(load_scenario(SCENARIOS / "telesto.yaml"))
    assert plan.time_scale == 0.25
    assert plan.train_s == 21600 * 0.25
    types = {"cpu", "disk", "memory_leak", "memory_alloc", "network_overload"}
    groups = {"frontend", "catalog", "orders", "storage"}
    cells = [(f.type, f.group) for f in plan.faults]
    assert {c: cells.count(c) for c in set(cells)} == {(t, g): 5 for t in types for g in groups}
    assert all(60 <= f.duration_s <= 75 for f in plan.faults)  # 4-5 min x 0.25
    gaps = [b.start_s - a.end_s for a, b in zip(plan.faults, plan.faults[1:])]
    assert min(gaps) == pytest.approx(15.0, abs=1e-3)  # 1 min grace x 0.25, no overlap
    assert plan.duration_s / 3600 < 4.5  # an afternoon


def test_radiography_ramps_cpu_from_10_to_80_percent_in_10_percent_steps():
    plan = resolve_plan(load_scenario(SCENARIOS / "radiography.yaml"))
    ramp = next(f for f in plan.faults if f.type == "cpu")
    params = FAULTS.get("cpu").Params.model_validate(ramp.params)
    assert params.steps_pct() == [10, 20, 30, 40, 50, 60, 70, 80]
    assert ramp.duration_s == 8 * params.ramp_step_s
    assert {f.type for f in plan.faults} == {"packet_loss", "http_flood", "cpu"}


def test_traffic_attacks_keeps_the_organic_spike_out_of_the_faults():
    scenario = load_scenario(SCENARIOS / "traffic-attacks.yaml")
    plan = resolve_plan(scenario)
    spike_start_s = scenario.load.params["at_s"]
    last_fault_end_s = plan.fault_phase_start_s + max(f.end_s for f in plan.faults)
    assert last_fault_end_s < spike_start_s
    assert spike_start_s + scenario.load.params["spike_duration_s"] <= plan.duration_s
    assert {f.type for f in plan.faults} == {"http_flood", "slow_clients", "bot_burst"}


# ---- plan resolution -----------------------------------------------------------------------------
def test_time_scale_scales_the_time_line_but_not_fault_params():
    data = base(time_scale=0.5, faults=[
        {"type": "memory_leak", "target": "cart", "start_s": 40, "duration_s": 60,
         "params": {"size_mb": 1, "every_s": 3}},
    ])  # fmt: skip
    plan = resolve_plan(scenario_from_data(data))
    assert (plan.warmup_s, plan.train_s, plan.cooldown_s) == (5.0, 30.0, 2.5)
    (fault,) = plan.faults
    assert (fault.start_s, fault.duration_s) == (20.0, 30.0)
    assert fault.params == {"size_mb": 1, "every_s": 3}
    assert plan.fault_phase_start_s == 35.0
    assert plan.duration_s == 35.0 + 50.0 + 2.5


def test_generated_plan_is_seeded_and_replays_from_plan_yaml(tmp_path):
    gen = {"types": ["cpu", "disk"], "target_groups": {"a": ["cart"], "b": ["payment", "shipping"]},
           "repetitions": 3, "duration_s": [30, 40], "grace_s": 10, "seed": 7}  # fmt: skip
    first = resolve_plan(scenario_from_data(base(faults={"generator": gen})))
    again = resolve_plan(scenario_from_data(base(faults={"generator": gen})))
    other = resolve_plan(scenario_from_data(base(faults={"generator": {**gen, "seed": 8}})))
    assert first == again
    assert [f.fault_id for f in first.faults] != [f.fault_id for f in other.faults]
    assert len(first.faults) == 2 * 2 * 3 and first.schedule_seed == 7
    path = write_plan(first, tmp_path / "plan.yaml")
    assert path.read_text().startswith("# faultlab plan of scenario 't'")
    assert read_plan(path) == first
    assert read_plan(path).schedule_plan().faults == first.faults


def test_list_shorthand_and_items_form_are_the_same_scenario():
    fault = {"type": "cpu", "target": "cart", "start_s": 0, "duration_s": 30}
    assert scenario_from_data(base(faults=[fault])) == scenario_from_data(base(faults={"items": [fault]}))


def test_allow_overlap_keeps_overlapping_faults():
    faults = [{"type": "cpu", "target": "cart", "start_s": 0, "duration_s": 60},
              {"type": "memory_alloc", "target": "payment", "start_s": 30, "duration_s": 30}]  # fmt: skip
    with pytest.raises(BadInput, match=r"faults\[1\]\.start_s: overlaps faults\[0\]"):
        scenario_from_data(base(faults=faults))
    plan = resolve_plan(scenario_from_data(base(faults={"items": faults, "allow_overlap": True})))
    assert plan.allow_overlap and overlaps(plan.faults) == [("f001-cpu", "f002-memory_alloc")]


def test_a_generated_fault_overlapping_an_explicit_one_is_refused():
    data = base(faults={
        "items": [{"type": "cpu", "target": "cart", "start_s": 5, "duration_s": 30}],
        "generator": {"types": ["disk"], "target_groups": {"a": ["payment"]}, "repetitions": 1,
                      "duration_s": [30, 30], "grace_s": 10},
    })  # fmt: skip
    with pytest.raises(BadInput, match="<scenario>: faults overlap"):
        scenario_from_data(data)


def test_every_problem_is_reported_at_once():
    data = base(testbed={"scrape_interval_s": 5}, load={"shape": "wave"}, faults=[
        {"type": "cpux", "target": "cart", "start_s": 0, "duration_s": 30},
        {"type": "cpu", "target": "nowhere", "start_s": 100, "duration_s": 4},
    ])  # fmt: skip
    with pytest.raises(BadInput) as caught:
        scenario_from_data(data, "s.yaml")
    message = str(caught.value)
    for fragment in ("load.shape: unknown load shape 'wave'", "faults[0].type: unknown fault 'cpux'",
                     "faults[1].targets[0]: unknown target service 'nowhere'",
                     "faults[1].duration_s: duration_s 4 is shorter"):  # fmt: skip
        assert fragment in message
    assert message.count("; ") >= 3 and message.startswith("s.yaml: ")


def test_read_plan_names_the_file_and_field(tmp_path):
    bad = tmp_path / "plan.yaml"
    bad.write_text("scenario: x\n")
    with pytest.raises(BadInput, match=r"plan\.yaml: time_scale: Field required"):
        read_plan(bad)


# ---- schema and CLI ------------------------------------------------------------------------------
def test_schema_offers_registered_names_and_the_list_shorthand():
    schema = json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "Faultlab scenario"
    assert set(schema["$defs"]["FaultEntry"]["properties"]["type"]["enum"]) == set(FAULTS.names())
    assert "sine" in schema["$defs"]["Load"]["properties"]["shape"]["enum"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "t", "train_s": 60, "fautls": []}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "t", "train_s": 60, "testbed": {"scrape_interval_s": 10}}, schema)


def test_faultlab_schema_prints_the_schema(capsys, tmp_path):
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(json_schema()))
    assert main(["schema", "--out", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text()) == printed
