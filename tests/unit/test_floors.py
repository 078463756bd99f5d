"""Reference floors, the derived VUS buffer, recovering steps, n/a with reasons, root cause over
candidates: on hand-made labels where the right answer is known."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

from faultlab.dataset import Dataset, ServiceGraph
from faultlab.detectors import RootCauseRanking, make_detector
from faultlab.detectors.floors import FLOORS, is_floor
from faultlab.harness.evaluation import (
    ALL,
    EVENT_SPLIT,
    FREE,
    OWN,
    REASON,
    SEGMENTS,
    MethodSpec,
    run_evaluation,
)
from faultlab.harness.evaluation.detector_rows import root_cause_rows
from faultlab.harness.evaluation.reference import BELOW, WITHIN, FloorRef, verdict
from faultlab.harness.reports.leaderboard import markdown, write_reports
from faultlab.harness.scoring import METRICS, ac_at_k, derive_window, segment_events
from faultlab.harness.scoring.rootcause import random_ranking_ac_at_k
from faultlab.harness.scoring.vus import _existence_ratio, shortest_gap_steps

STATIC = {"name": "static_threshold", "params": {"metric": "a:cpu_cores", "value": 2.0}}


def dataset(recovering: list[int] | None = None, faults: list[tuple[int, int, str, str]] | None = None,
            n: int = 60, train: int = 30) -> Dataset:
    """``n`` steps at 5 s, train = the first ``train``; faults are (start, end inclusive, type, target).

    a:cpu_cores is 5 inside each fault and at step ``train + 20`` (a false alarm), 1 elsewhere.
    """
    index = pd.date_range("2026-01-01", periods=n, freq="5s", tz="UTC", name="timestamp")
    faults = faults if faults is not None else [(train + 5, train + 7, "cpu", "a"), (train + 12, train + 14, "disk", "b")]
    a = 1.0 + 0.05 * np.sin(np.arange(n))
    a[train + 20] = 5.0
    labels = pd.DataFrame({"anomaly": 0, "fault_type": "", "root_cause": "", "fault_id": "", "recovering": 0}, index=index)
    for i, (start, end, kind, target) in enumerate(faults):
        a[start : end + 1] = 5.0
        labels.iloc[start : end + 1, :4] = [1, kind, target, f"f{i}"]
    for step in recovering or []:
        labels.iloc[step, 4] = 1
    labels["anomaly"] = labels["anomaly"].astype(np.int8)
    labels["recovering"] = labels["recovering"].astype(np.int8)
    meta = {"name": "hand", "scrape_interval_s": 5.0, "train_end": str(index[train]), "candidates": ["a", "b"]}
    b = 1.0 + 0.05 * np.cos(np.arange(n))
    return Dataset(pd.DataFrame({"a:cpu_cores": a, "b:cpu_cores": b, "host:cpu_cores": b}, index=index), labels,
                   ServiceGraph(["a", "b"], []), meta)


def value(table: pd.DataFrame, model: str, metric: str, protocol: str = OWN, breakdown: str = ALL) -> float:
    rows = table[(table["model"] == model) & (table["metric"] == metric) & (table["protocol"] == protocol)
                 & (table["breakdown"] == breakdown) & (table["seed"] == table["seed"].min())]
    assert len(rows) == 1, rows
    return float(rows["value"].iloc[0])


# ---- floors --------------------------------------------------------------------------------
def test_floors_are_added_with_every_seed_and_score_as_defined():
    data = dataset()
    table = run_evaluation(data, [STATIC], seeds=[0, 1], metrics=["f1", "alarm_rate", "roc_auc", "pr_auc"]).table
    assert {m for m in table["model"] if is_floor(m)} == set(FLOORS)
    assert sorted(table.loc[table["model"] == "random", "seed"].unique()) == [0, 1]
    y = data.test().y
    p = y.mean()
    assert value(table, "always_alarm", "f1") == pytest.approx(2 * p / (1 + p))  # precision p, recall 1
    assert value(table, "always_alarm", "alarm_rate") == 1.0
    assert value(table, "always_alarm", "roc_auc", FREE) == pytest.approx(0.5)
    assert value(table, "always_alarm", "pr_auc", FREE) == pytest.approx(p)
    assert value(table, "always_alarm", "train_alarm_rate") == 1.0
    assert set(run_evaluation(data, [STATIC], metrics=["f1"], floors=False).table["model"]) == {
        'static_threshold(metric="a:cpu_cores", value=2.0)'
    }


def test_random_floor_is_seeded_and_independent_of_the_data():
    data = dataset()
    one = make_detector("random", seed=3).fit(data.train())
    again = make_detector("random", seed=3).fit(data.train())
    other = make_detector("random", seed=4).fit(data.train())
    np.testing.assert_array_equal(one.score(data.test()), again.score(data.test()))
    assert not np.array_equal(one.score(data.test()), other.score(data.test()))
    assert one.threshold_ == pytest.approx(np.quantile(one.train_scores_, 0.99))


def test_verdict_within_noise_and_below_the_floor():
    floor = FloorRef("always_alarm", 0.667, math.nan)
    assert verdict(0.68, math.nan, floor, True) == WITHIN  # |0.013| <= the 0.02 floor of noise
    assert verdict(0.70, 0.05, floor, True) == WITHIN  # within one seed std
    assert verdict(0.40, 0.01, floor, True) == BELOW
    assert verdict(0.90, 0.01, floor, True) == ""
    assert verdict(0.10, 0.0, floor, False) == ""  # lower-is-better columns get no verdict


def test_leaderboard_marks_floors_and_states_how_it_scored(tmp_path):
    ev = run_evaluation(dataset(), [STATIC, "always_alarm"], seeds=[0], metrics=["f1", "vus_pr", "alarm_rate"])
    text = markdown(ev.table, ev.settings)
    assert "always_alarm (floor)" in text and "random (floor)" in text
    assert "| floor | always_alarm (floor) |" in text  # floors are not ranked
    assert "f1 [own] (floor " in text and "VUS buffer: " in text and "Root-cause candidates (2): a, b" in text
    assert "Recovering steps (0): excluded from false alarms" in text
    paths = write_reports(ev, tmp_path)
    doc = json.loads(paths["scores"].read_text())
    assert doc["settings"]["hand"]["vus"]["window_steps"] == ev.settings["hand"]["vus"]["window_steps"]


# ---- VUS buffer ----------------------------------------------------------------------------
def test_derived_buffer_keeps_half_of_every_gap_and_respects_the_cap():
    y = np.zeros(200, dtype=int)
    y[[10, 11, 40, 41, 42, 62, 150]] = 1  # gaps of 28, 19 and 87 normal steps
    assert shortest_gap_steps(y) == 19
    assert derive_window([y], 5.0).steps == 9  # 0.5 x 19, under the 120 s cap (24 steps)
    assert derive_window([y], 60.0).steps == 2  # the cap: 120 s at 60 s a step
    assert derive_window([y[:30]], 5.0).steps == 24  # one event: the cap alone
    assert derive_window([y], 5.0, window_s=100.0).steps == 20  # explicit seconds


@pytest.mark.parametrize("seed", range(20))
def test_the_buffer_never_merges_two_events_separated_by_more_than_it(seed: int):
    """Events further apart than the buffer stay apart at every buffer length up to it: an alarm
    on the first event alone never counts as finding the second."""
    rng = np.random.default_rng(seed)
    y = (rng.random(300) < 0.04).astype(int)
    events = segment_events(y)
    if len(events) < 2:
        return
    window = derive_window([y], 5.0).steps
    gaps = events[1:, 0] - events[:-1, 1] - 1
    assert (gaps >= 2 * window).all()
    for a, b in itertools.pairwise(events):
        truth = np.zeros(300, dtype=int)
        truth[a[0] : a[1] + 1] = 1
        truth[b[0] : b[1] + 1] = 1
        first_k = np.where(np.arange(300) <= a[1], 0, 1)  # threshold 0 alarms up to the first event's end
        first_k[: a[0]] = 1
        pair = segment_events(truth)
        ratio = _existence_ratio(pair, first_k, window, 1, 300)
        assert np.allclose(ratio[:, 0], 0.5)  # one of two events found, at every w <= window


def test_a_fixed_long_buffer_merges_what_the_derived_one_keeps_apart():
    y = np.zeros(100, dtype=int)
    y[[20, 21, 30, 31]] = 1  # gap of 8 normal steps
    s = np.zeros(100)
    s[[20, 21]] = 1.0  # finds only the first event
    derived = derive_window([y], 5.0).steps
    vus = METRICS.get("vus_pr")
    assert vus(y, s, window=derived) < vus(y, s, window=100)


# ---- recovering steps ------------------------------------------------------------------------
def test_recovering_steps_are_left_out_of_false_alarms_unless_counted():
    data = dataset(recovering=[50])  # the false alarm at step 50 falls on a recovering step
    left_out = run_evaluation(data, [STATIC], metrics=["precision", "alarm_rate"], floors=False).table
    counted = run_evaluation(data, [STATIC], metrics=["precision", "alarm_rate"], floors=False, count_recovering=True).table
    model = 'static_threshold(metric="a:cpu_cores", value=2.0)'
    assert value(left_out, model, "precision") == 1.0
    assert value(counted, model, "precision") == pytest.approx(6 / 7)
    normal = int((data.test().y == 0).sum())
    assert value(counted, model, "alarm_rate") == pytest.approx(1 / normal)
    assert value(left_out, model, "alarm_rate") == 0.0


# ---- n/a with the reason -------------------------------------------------------------------
def test_classifier_on_single_event_types_is_na_with_the_reason():
    table = run_evaluation(dataset(), None, [{"name": "random_forest", "params": {"n_estimators": 5}}], window_steps=2).table
    row = table[(table["metric"] == "accuracy") & (table["breakdown"] == ALL)].iloc[0]
    assert math.isnan(row["value"]) and "one fault event only" in row[REASON]
    one = dataset(faults=[(35, 37, "cpu", "a")])
    row = run_evaluation(one, None, ["random_forest"], window_steps=2).table.iloc[0]
    assert row["protocol"] == EVENT_SPLIT and math.isnan(row["value"]) and "need at least 2" in row[REASON]


def test_a_detector_that_cannot_fit_gives_na_rows_and_the_others_still_run(tmp_path):
    short = dataset(train=5, n=40, faults=[(10, 12, "cpu", "a")])  # zscore needs more fault-free steps
    ev = run_evaluation(short, ["zscore"], seeds=[0], metrics=["f1"])
    row = ev.table[ev.table["model"] == "zscore"].iloc[0]
    assert math.isnan(row["value"]) and "fault-free step" in row[REASON]
    assert np.isfinite(value(ev.table, "always_alarm", "f1"))
    text = markdown(ev.table, ev.settings)
    assert "n/a [1]" in text and "[1] n/a: detector 'zscore'" in text
    doc = json.loads(write_reports(ev, tmp_path)["scores"].read_text())
    (kept,) = [r for r in doc["rows"] if r["model"] == "zscore"]
    assert kept["value"] is None and "fault-free step" in kept[REASON]


# ---- root cause over candidates --------------------------------------------------------------
class ContextFirst:
    """A localizer that always ranks the context service ``host`` first, then b, then a."""

    def localize(self, data: Dataset, segments: list[tuple[int, int]]) -> list[RootCauseRanking]:
        order = [("host", 3.0), ("b", 2.0), ("a", 1.0)]
        return [RootCauseRanking(s, e, "", "", order) for s, e in segments]


def test_root_cause_is_ranked_over_candidates_only():
    data = dataset()
    test = data.test()
    rows = root_cause_rows(ContextFirst(), test, data.candidates, MethodSpec("x"), "hand", 0,
                            [METRICS.get("ac@1"), METRICS.get("ac@3")])
    got = {(r["metric"], r["breakdown"]): r["value"] for r in rows if r["protocol"] == SEGMENTS}
    # Over candidates {a, b}: b is first; the disk fault on b is found, the cpu fault on a is second.
    assert got[("ac@1", ALL)] == pytest.approx(0.5)
    assert got[("ac@1", "target=b")] == 1.0 and got[("ac@1", "target=a")] == 0.0
    assert ac_at_k([["host", "b", "a"]], [{"b"}], 1) == 0.0  # what ranking every service would have given


def test_random_ranking_floor_is_the_expectation_over_all_orders():
    candidates = ["a", "b", "c", "d"]
    truth = [{"a"}, {"b", "c"}]
    for k in (1, 2, 3):
        orders = list(itertools.permutations(candidates))
        brute = np.mean([ac_at_k([list(o), list(o)], truth, k) for o in orders])
        assert random_ranking_ac_at_k(truth, candidates, k) == pytest.approx(brute)
    table = run_evaluation(dataset(), ["zscore"], metrics=["ac@1"]).table
    assert value(table, "random", "ac@1", SEGMENTS) == pytest.approx(1 / 2)  # two candidates


def test_default_detectors_are_every_registered_one_but_the_floors():
    from faultlab.detectors import DETECTORS
    from faultlab.detectors.floors import scored_detectors

    assert set(scored_detectors()) == set(DETECTORS.names()) - set(FLOORS)
