"""Schedule generation: TELESTO protocol, no overlaps, grace periods, seeded reproducibility."""

from __future__ import annotations

import pytest

from faultlab.errors import BadInput
from faultlab.injectors.schedule import (
    FaultEntry,
    GeneratorSpec,
    PlannedFault,
    generate,
    load_plan,
    overlaps,
    resolve,
    write_plan,
)

GROUPS = {"front": ["gateway"], "data": ["catalog", "payment"]}


def spec(**kw) -> GeneratorSpec:
    base = dict(types=["cpu", "memory_leak", "disk"], target_groups=GROUPS, repetitions=3,
                duration_s=(240.0, 300.0), grace_s=60.0, seed=7)
    base.update(kw)
    return GeneratorSpec(**base)


def test_every_type_times_every_group_times_k():
    faults = generate(spec())
    assert len(faults) == 3 * 2 * 3
    cells = [(f.type, f.group) for f in faults]
    for t in ("cpu", "memory_leak", "disk"):
        for g in GROUPS:
            assert cells.count((t, g)) == 3
    data = [f for f in faults if f.group == "data"]
    assert all(f.targets == ["catalog", "payment"] for f in data)


def test_no_overlap_and_exact_grace_between_faults():
    faults = generate(spec())
    assert overlaps(faults) == []
    for a, b in zip(faults, faults[1:]):
        assert b.start_s - a.end_s == pytest.approx(60.0, abs=0.002)
    assert faults[0].start_s == 0.0


def test_durations_drawn_within_range():
    faults = generate(spec())
    assert all(240.0 <= f.duration_s <= 300.0 for f in faults)
    assert len({f.duration_s for f in faults}) > 1


def test_same_seed_same_plan_other_seed_other_order():
    a, b = generate(spec()), generate(spec())
    assert [f.model_dump() for f in a] == [f.model_dump() for f in b]
    c = generate(spec(seed=8))
    assert [(f.type, f.group) for f in a] != [(f.type, f.group) for f in c]


def test_overlap_only_when_asked():
    faults = generate(spec(allow_overlap=True, grace_s=0.0, repetitions=5))
    assert overlaps(faults)  # 30 faults of 4-5 min drawn over their summed span overlap somewhere
    with pytest.raises(BadInput, match="overlap"):
        resolve(faults=[FaultEntry(type="cpu", target="cart", start_s=0, duration_s=30),
                        FaultEntry(type="cpu", target="cart", start_s=20, duration_s=30)])


def test_overlaps_pairs_by_hand():
    fs = [PlannedFault(fault_id="a", type="cpu", targets=["x"], start_s=0, duration_s=10),
          PlannedFault(fault_id="b", type="cpu", targets=["x"], start_s=10, duration_s=10),
          PlannedFault(fault_id="c", type="cpu", targets=["x"], start_s=15, duration_s=10)]
    assert overlaps(fs) == [("b", "c")]


def test_too_short_fault_refused_with_explanation():
    with pytest.raises(BadInput, match="two scrape intervals"):
        resolve(faults=[FaultEntry(type="cpu", target="cart", start_s=0, duration_s=9)],
                scrape_interval_s=5.0)
    plan = resolve(faults=[FaultEntry(type="cpu", target="cart", start_s=0, duration_s=10)],
                   scrape_interval_s=5.0)
    assert plan.faults[0].duration_s == 10


def test_unknown_type_and_bad_params_refused():
    with pytest.raises(BadInput, match="unknown fault 'cpux'"):
        resolve(faults=[FaultEntry(type="cpux", target="cart", start_s=0, duration_s=30)])
    with pytest.raises(BadInput, match="loss_pct"):
        resolve(faults=[FaultEntry(type="packet_loss", target="cart", start_s=0, duration_s=30,
                                   params={"loss_pct": 130})])


def test_plan_written_and_replayed_exactly(tmp_path):
    plan = resolve(generator=spec(), faults=[
        FaultEntry(type="pause", target="cart", start_s=99000, duration_s=20, fault_id="p1")])
    path = write_plan(plan, tmp_path / "plan.yaml")
    again = load_plan(path)
    assert again == plan
    assert again.faults[-1].fault_id == "p1"
    assert len(again.faults) == 19 and plan.seed == 7


def test_target_shorthand_and_duplicate_ids():
    entry = FaultEntry(type="cpu", target="cart", start_s=0, duration_s=20)
    assert entry.targets == ["cart"]
    with pytest.raises(BadInput, match="duplicate fault_id"):
        resolve(faults=[FaultEntry(type="cpu", target="a", start_s=0, duration_s=20, fault_id="x"),
                        FaultEntry(type="cpu", target="b", start_s=100, duration_s=20, fault_id="x")])


def test_bad_duration_range_rejected():
    with pytest.raises(ValueError):
        spec(duration_s=(300.0, 200.0))
