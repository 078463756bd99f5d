"""Detection limits: intensity breakdowns from the journal's params, the limits tables and plot."""

from __future__ import annotations

import dataclasses

from faultlab.harness.datasets.labels import fault_intensities
from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.evaluation import run_evaluation
from faultlab.harness.reports.leaderboard import figures, markdown
from faultlab.harness.reports.limits import lowest_detected, recall_by_intensity, recall_table

LOADS = [10, 50, 90]


def _ladder():
    """Synthetic data whose CPU faults carry real CPU params at three loads (weakest first in time)."""
    data = generate(seed=5, train_steps=150, faults_per_type=3, fault_steps=(10, 20), gap_steps=(10, 20))
    faults, k = [], 0
    for record in data.meta["faults"]:
        record = dict(record)
        if record["type"] == "cpu":
            record["params"] = {"load_pct": LOADS[k], "cores": 1}
            k += 1
        faults.append(record)
    return dataclasses.replace(data, meta={**data.meta, "faults": faults})


def test_intensities_are_read_from_the_params_and_ranked_per_type():
    data = _ladder()
    levels = fault_intensities(data.meta["faults"])
    cpu = sorted(levels.values(), key=lambda x: x.value)
    assert [(i.value, i.level, i.levels, i.unit) for i in cpu] == [(10.0, 1, 3, "% load"), (50.0, 2, 3, "% load"),
                                                                 (90.0, 3, 3, "% load")]
    assert all(i.fault_type == "cpu" for i in levels.values())  # synthetic params of other types name no level
    assert cpu[0].label == "cpu@10 % load"


def test_the_board_gets_recall_per_intensity_and_the_weakest_level_detected():
    data = _ladder()
    table = run_evaluation([data], ["zscore", "static_threshold"], [], [0]).table
    breakdowns = set(table["breakdown"])
    assert {"intensity=cpu@10 % load", "intensity=cpu@90 % load", "level=1", "level=3"} <= breakdowns
    levels = recall_by_intensity(table, data.name)
    assert set(levels["value"]) == {10.0, 50.0, 90.0} and levels["recall"].between(0, 1).all()
    wide = recall_table(table, data.name)
    assert list(wide.columns) == ["cpu 10 % load", "cpu 50 % load", "cpu 90 % load"]
    lowest = lowest_detected(table, data.name)
    assert set(lowest.columns) == {"model", "cpu", "fault-free alarm rate"}
    zscore = lowest.set_index("model").loc["zscore"]
    expected = next((f"{v:g} % load" for v in LOADS if wide.loc["zscore", f"cpu {v} % load"] >= 0.5), "none")
    assert zscore["cpu"] == expected
    page = markdown(table)
    assert "#### Detection limits" in page and "cpu 50 % load" in page
    assert f"limits-{data.name}.png" in figures(table)


def test_a_dataset_without_a_ladder_has_no_limits_section():
    data = generate(seed=5, train_steps=150, faults_per_type=1, fault_steps=(10, 20), gap_steps=(10, 20))
    table = run_evaluation([data], ["zscore"], [], [0]).table
    assert not any(b.startswith(("intensity=", "level=")) for b in table["breakdown"])
    assert "Detection limits" not in markdown(table)


def test_root_cause_is_broken_down_by_intensity_too():
    """Where a weak fault is mislocalized (or, from the alarm, missed): AC@k per intensity and level."""
    data = _ladder()
    table = run_evaluation([data], [], [], [0], ["ac@1"], localizers=["cpu_change"]).table
    for protocol in ("labelled-segments", "from-alarm"):
        part = table[table["protocol"] == protocol].set_index(["metric", "breakdown"])["value"]
        for load in LOADS:
            assert part[("n_faults", f"intensity=cpu@{load} % load")] == 1.0
            assert 0.0 <= part[("ac@1", f"intensity=cpu@{load} % load")] <= 1.0
        assert part[("n_faults", "level=2")] == 1.0
    from_alarm = table[table["protocol"] == "from-alarm"].set_index(["metric", "breakdown"])["value"]
    assert ("rca_missed", "level=1") in from_alarm.index
