"""Root cause from the alarm (protocol ``from-alarm``): the pipeline detector -> localizer, end to end.

On the hand-made dataset of ``tests/rcadata.py`` (a CPU fault on cart at steps 60..70, a memory
leak on catalog at 80..90, 5 s steps), a stub trigger detector alarms at chosen steps only, so
which fault is found, when, and what the localizer may read are known exactly.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

import numpy as np
import pytest

from faultlab.dataset import Dataset
from faultlab.detectors.base import Detector
from faultlab.detectors.localizers import SegmentLocalizer, make_localizer
from faultlab.detectors.rankers import CpuChange
from faultlab.detectors.registry import DETECTORS, LOCALIZERS
from faultlab.errors import BadInput
from faultlab.harness.evaluation import run_evaluation
from faultlab.harness.evaluation.localizer_rows import labelled_segments, score_localizer
from faultlab.harness.evaluation.segment_scores import alarm_starts, upto
from faultlab.harness.evaluation.table import FROM_ALARM, SEGMENTS, MethodSpec
from faultlab.harness.reports.leaderboard import write_reports
from faultlab.harness.scoring import METRICS
from tests import rcadata

CPU_FAULT, MEMORY_FAULT = (60, 70), (80, 90)
ALARM = 63  # inside the CPU fault; none inside the memory leak
RCA_METRICS = [METRICS.get(n) for n in ("ac@1", "ac@3", "avg@5")]


class StubTrigger(Detector):
    """Alarms exactly at the steps whose timestamps are in ``alarm_at`` (score 1 there, 0 elsewhere)."""

    name = "stub_trigger"
    alarm_at: ClassVar[set] = set()

    def _fit(self, train: Dataset) -> None:
        return None

    def _score(self, data: Dataset) -> np.ndarray:
        return np.array([1.0 if t in self.alarm_at else 0.0 for t in data.timestamps])


class BrokenTrigger(StubTrigger):
    """Cannot be fitted (as a detector whose data is too short)."""

    name = "broken_trigger"

    def _fit(self, train: Dataset) -> None:
        raise BadInput("broken_trigger cannot be fitted here")


class Spy(SegmentLocalizer):
    """Records what it is given: the number of steps it can read, the segment, the normal period."""

    seen: ClassVar[list] = []

    def _rank(self, data, normal, start, end):
        type(self).seen.append((len(data.metrics), start, end, np.asarray(normal)))
        return [(s, 1.0) for s in data.services], []


@pytest.fixture(scope="module")
def data():
    return rcadata.make()


@pytest.fixture
def stub(data, monkeypatch):
    monkeypatch.setitem(DETECTORS._items, StubTrigger.name, StubTrigger)
    monkeypatch.setitem(DETECTORS._items, BrokenTrigger.name, BrokenTrigger)
    monkeypatch.setattr(StubTrigger, "alarm_at", {data.timestamps[ALARM], data.timestamps[95]})
    monkeypatch.setitem(LOCALIZERS._items, "spy", Spy)
    monkeypatch.setattr(Spy, "name", "spy")
    monkeypatch.setattr(Spy, "seen", [])
    return StubTrigger


def test_the_first_alarm_inside_each_fault_starts_it_and_a_fault_without_one_is_missed(data):
    alarms = np.zeros(len(data.metrics), dtype=bool)
    alarms[[55, ALARM, 66, 95]] = True  # before, inside (twice), after: only the first inside counts
    cpu, memory = alarm_starts(data, alarms, labelled_segments(data), analysis_steps=10)
    assert (cpu.alarm, cpu.end, cpu.delay_s) == (ALARM, CPU_FAULT[1], 15.0), "10 steps, but no further than the fault"
    assert memory.alarm is None and np.isnan(memory.delay_s)
    short = alarm_starts(data, alarms, labelled_segments(data), analysis_steps=4)[0]
    assert short.end == ALARM + 4


def test_the_localizer_reads_nothing_after_the_alarm_plus_its_window(data, stub):
    score_localizer(data, MethodSpec("spy", {"trigger": "stub_trigger", "analysis_steps": 4}), 0, RCA_METRICS)
    from_alarm = [s for s in Spy.seen if s[1] == ALARM]
    assert len(from_alarm) == 1, "one from-alarm call: the memory leak had no alarm"
    steps, start, end, normal = from_alarm[0]
    assert (steps, start, end) == (ALARM + 4, ALARM, ALARM + 4), "the data itself ends where the analysis ends"
    assert normal.max() == CPU_FAULT[0] - 1, "the fault's steps before the alarm are not normal"


def test_what_happens_after_the_window_cannot_change_the_answer(data, stub):
    spec = MethodSpec("cpu_change", {"trigger": "stub_trigger"})
    poisoned = data.metrics.copy()
    poisoned.iloc[CPU_FAULT[1]:, poisoned.columns.get_loc("gateway:cpu_cores")] *= 100  # gateway "explodes" later
    later = replace(data, metrics=poisoned)
    clean = [repr(r) for r in score_localizer(data, spec, 0, RCA_METRICS) if r["protocol"] == FROM_ALARM]
    after = [repr(r) for r in score_localizer(later, spec, 0, RCA_METRICS) if r["protocol"] == FROM_ALARM]
    assert clean == after
    cut = upto(later, ALARM + 10)
    assert len(cut.metrics) == len(cut.labels) == ALARM + 10


def test_a_missed_fault_scores_zero_and_is_counted(data, stub, monkeypatch):
    monkeypatch.setattr(StubTrigger, "alarm_at", {data.timestamps[83]})  # the leak only: the CPU fault is missed
    rows = score_localizer(data, MethodSpec("cpu_change", {"trigger": "stub_trigger"}), 0, RCA_METRICS)
    got = {(r["metric"], r["protocol"], r["breakdown"]): r for r in rows}
    assert got[("ac@1", SEGMENTS, "fault_type=cpu")]["value"] == 1.0, "the oracle question: cart's CPU, ranked right"
    assert got[("ac@1", FROM_ALARM, "fault_type=cpu")]["value"] == 0.0, "from the alarm: missed, so 0"
    assert got[("ac@3", FROM_ALARM, "fault_type=cpu")]["value"] == 0.0
    assert got[("rca_missed", FROM_ALARM, "all")]["value"] == 1.0
    assert got[("rca_missed", FROM_ALARM, "fault_type=memory_leak")]["value"] == 0.0
    assert got[("rca_delay_s", FROM_ALARM, "fault_type=memory_leak")]["value"] == 15.0
    delay = got[("rca_delay_s", FROM_ALARM, "fault_type=cpu")]
    assert np.isnan(delay["value"]) and delay["reason"] == "no fault of this kind was detected"
    assert got[("n_faults", FROM_ALARM, "all")]["value"] == 2.0, "the miss stays in the denominator"


def test_the_default_trigger_is_zscore_and_another_is_a_parameter(data, stub):
    assert make_localizer("cpu_change").params.trigger == "zscore"
    with pytest.raises(BadInput, match="localizer 'cpu_change': parameter 'trigger'.*names no detector"):
        make_localizer("cpu_change", {"trigger": "nope"})
    rows = score_localizer(data, MethodSpec("cpu_change"), 0, RCA_METRICS)  # zscore alarms in both faults
    got = {(r["metric"], r["protocol"], r["breakdown"]): r["value"] for r in rows}
    assert got[("rca_missed", FROM_ALARM, "all")] == 0.0 and got[("ac@1", FROM_ALARM, "fault_type=cpu")] == 1.0


def test_a_trigger_that_cannot_run_leaves_the_labelled_segment_rows(data, stub, capsys):
    rows = score_localizer(data, MethodSpec("cpu_change", {"trigger": "broken_trigger"}), 0, RCA_METRICS)
    segments = [r for r in rows if r["protocol"] == SEGMENTS and r["metric"] == "ac@1" and r["breakdown"] == "all"]
    alarmed = [r for r in rows if r["protocol"] == FROM_ALARM]
    assert segments[0]["value"] == 0.5, "cpu_change finds the CPU fault, not the memory leak"
    assert alarmed and all(np.isnan(r["value"]) for r in alarmed)
    assert all(r["reason"] == "from the alarm: broken_trigger cannot be fitted here" for r in alarmed)
    assert "from-alarm" in capsys.readouterr().err


def test_a_detector_that_localizes_uses_its_own_alarms(data):
    table = run_evaluation(data, ["zscore"], [], [0], ["ac@1", "ac@3", "avg@5"], floors=False).table
    mine = table[(table["model"] == "zscore") & (table["protocol"] == FROM_ALARM)].set_index(["metric", "breakdown"])["value"]
    assert mine[("ac@1", "fault_type=cpu")] == 1.0 and mine[("rca_missed", "all")] == 0.0
    assert mine[("n_faults", "fault_type=cpu")] == 1.0


def test_the_board_shows_from_alarm_columns_next_to_the_oracle_and_n_per_fault_type(data, tmp_path):
    evaluation = run_evaluation(data, ["zscore"], [], [0], ["ac@1", "ac@3", "avg@5"], localizers=["cpu_change", "random"])
    board = write_reports(evaluation, tmp_path)["markdown"].read_text()
    detectors, localizers = board.split("### Detectors", 1)[1].split("### Root-cause localizers", 1)
    header = next(line for line in localizers.splitlines() if line.startswith("| rank"))
    labels = [c.strip().split(" (floor")[0] for c in header.strip("|").split("|")]
    assert labels[2:4] == ["ac@1", "ac@1 [from alarm]"], "end to end beside the oracle"
    assert "rca_missed [from alarm]" in labels and "rca_delay_s [from alarm]" in labels
    assert "ac@1 [from alarm]" in next(line for line in detectors.splitlines() if line.startswith("| rank"))
    assert "#### ac@1 [from alarm] per fault type" in localizers
    for section in (detectors, localizers):
        table = section.split("#### ac@1 per fault type", 1)[1]
        assert "| cpu (n=1) | memory_leak (n=1) |" in table.splitlines()[2]


def test_the_rankers_classes_keep_their_trigger_parameters():
    assert {"trigger", "analysis_steps", "normal_steps"} <= set(CpuChange.Params.model_fields)
