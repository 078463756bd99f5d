"""Load shapes: values at chosen times, the end, seeded jitter, and bad parameters."""

from __future__ import annotations

import pytest

from faultlab.testbed.app.loadgen.shapes import make_shape


def test_constant_holds_and_ends() -> None:
    shape = make_shape("constant", {"users": 7, "spawn_rate": 2, "duration_s": 30})
    assert shape.tick(0) == (7, 2.0)
    assert shape.tick(29.9) == (7, 2.0)
    assert shape.tick(30) is None


def test_constant_without_duration_never_ends() -> None:
    assert make_shape("constant", {"users": 3}).tick(1e7) == (3, 10.0)


def test_steps_levels_and_last_level_holds() -> None:
    shape = make_shape("steps", {"users": [5, 10, 20], "step_duration_s": 60})
    assert [shape.tick(t)[0] for t in (0, 59, 60, 119, 120, 1000)] == [5, 5, 10, 10, 20, 20]


def test_sine_quarter_points() -> None:
    # base 10, amplitude 4, period 400 s: peak 14 at 100 s, 10 at 200 s, trough 6 at 300 s.
    shape = make_shape("sine", {"base": 10, "amplitude": 4, "period_s": 400})
    assert [shape.tick(t)[0] for t in (0, 100, 200, 300, 400)] == [10, 14, 10, 6, 10]


def test_sine_phase_shifts_the_cycle() -> None:
    shape = make_shape("sine", {"base": 10, "amplitude": 4, "period_s": 400, "phase_s": 100})
    assert shape.tick(0)[0] == 14


def test_spike_window_is_half_open() -> None:
    shape = make_shape("spike", {"base": 5, "spike_users": 40, "at_s": 100, "spike_duration_s": 20})
    assert [shape.tick(t)[0] for t in (99.9, 100, 119.9, 120)] == [5, 40, 40, 5]
    assert shape.tick(0)[1] == 50.0  # spikes ramp fast by default


def test_jitter_is_seeded_bounded_and_stable_within_a_period() -> None:
    params = {"users": 100, "jitter": 0.2, "jitter_period_s": 10}
    a, b, c = (make_shape("constant", params, seed=s) for s in (1, 1, 2))
    times = [0, 5, 10, 20, 30, 40, 50, 60]
    users_a = [a.tick(t)[0] for t in times]
    assert users_a == [b.tick(t)[0] for t in times]
    assert users_a != [c.tick(t)[0] for t in times]
    assert all(80 <= u <= 120 for u in users_a)
    assert users_a[0] == users_a[1]  # same 10 s bucket
    assert len(set(users_a)) > 1


def test_users_never_negative() -> None:
    shape = make_shape("sine", {"base": 1, "amplitude": 5, "period_s": 40})
    assert shape.tick(30)[0] == 0  # 1 - 5 clipped


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("sine", {"period_s": 0}, "period_s"),
        ("constant", {"users": -1}, "users"),
        ("constant", {"spawn_rate": 0}, "spawn_rate"),
        ("constant", {"duration_s": -5}, "duration_s"),
        ("constant", {"jitter": 1.5}, "jitter"),
        ("steps", {"users": []}, "users"),
        ("steps", {"users": [1, "x"]}, "users"),
        ("spike", {"spike_duration_s": 0}, "spike_duration_s"),
        ("spike", {"at_s": "soon"}, "at_s"),
        ("constant", {"userz": 3}, "userz"),
    ],
)
def test_bad_params_name_the_field(name: str, params: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"'{field}'"):
        make_shape(name, params)


def test_unknown_shape_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="constant, sine, spike, steps"):
        make_shape("ramp", {})
