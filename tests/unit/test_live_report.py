"""The live figures of a run folder, worked out by hand on a small folder, and end to end on a replay.

The hand-made folder has three faults: one before the live detectors were ready (not counted),
one detected 5.2 s after its onset with the right suspect, one missed; and one false alarm.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faultlab.detectors import make_detector
from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.live.files import LiveFiles
from faultlab.harness.live.journal import AlertJournal, ScoreLog
from faultlab.harness.live.models import save_model
from faultlab.harness.live.replay import ReplaySource
from faultlab.harness.live.report import (
    board_section,
    build_report,
    markdown,
    read_report,
    write_live_board,
    write_report,
)
from faultlab.harness.live.scorer import LiveDetector, LiveScorer, buffer_capacity, run_stream
from faultlab.harness.live.stream import StreamBuffer
from faultlab.injectors.ground_truth import iso_ms

T0 = pd.Timestamp("2026-03-01T12:00:00Z")
STEP = 5.0


def at(seconds: float) -> str:
    return iso_ms(T0 + pd.Timedelta(seconds=seconds))


def _fault(fault_id, kind, target, applied, reverted, onset, returned=None):
    detail = {"returned_to_baseline_at": at(returned)} if returned is not None else None
    return {"event": "reverted", "fault_id": fault_id, "type": kind, "targets": [target], "params": {},
            "mechanism": "test", "scheduled_start": at(applied), "scheduled_end": at(reverted),
            "applied_at": at(applied), "reverted_at": at(reverted), "effect_onset": at(onset), "effect_offset": at(reverted),
            "outcome": "reverted", "effect": None, "error": None, **({"detail": detail} if detail else {})}


@pytest.fixture
def run(tmp_path) -> Path:
    folder = tmp_path / "20260301T120000Z-live"
    files = LiveFiles(folder)
    files.dir.mkdir(parents=True)
    records = [_fault("f000", "cpu", "cart", -50, -20, -49),
               _fault("f001", "cpu", "cart", 100, 160, 101.2, returned=162),
               _fault("f002", "memory_alloc", "payment", 300, 360, 300.8)]
    (folder / "ground_truth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    files.config.write_text(json.dumps({"step_s": STEP}))
    files.status.write_text(json.dumps({"state": "stopped", "train_steps": 60, "series": 12, "skipped": 0,
                                        "fits": {"zscore": {"fit_s": 0.2, "fit_cpu_s": 0.19, "threshold": 4.5}}}))
    files.usage.write_text(json.dumps({"cpu_bound": {"mode": "cgroup-v1", "detail": "cpu cgroup x with cpu.shares 2"},
                                       "cpu_s": 3.0, "cores": {"training": 0.01, "faults": 0.02}}))
    alarms = {105: ["cart", "gateway"], 110: ["cart"], 500: ["gateway"]}
    alerts, scores = AlertJournal(files.alerts), ScoreLog(files.scores)
    for k in range(121):
        s = k * STEP
        alarm = s in alarms
        record = {"time": at(s), "raised_at": at(s + 1.4), "detector": "zscore", "seed": 0, "score": 9.0 if alarm else 1.0,
                  "threshold": 4.5, "alarm": alarm, "scoring_ms": 2.0 + (k % 3), "cpu_ms": 1.0, "fetch_ms": 80.0}
        scores.append(record)
        if alarm:
            alerts.append({**record, "onset": s - STEP not in alarms, "alarm_steps": 1,
                           "suspects": [{"service": n, "score": 5.0} for n in alarms[s]]})
    scores.close()
    return folder


def test_time_to_detect_missed_faults_and_root_cause_at_the_first_alarm(run):
    report = build_report(run)
    [row] = report.detectors
    assert (row["faults"], row["detected"], row["missed"]) == (2, 1, 1)  # f000 began before the live scores
    assert report.meta["not_live"] == ["f000"]
    f001 = next(r for r in report.faults if r["fault_id"] == "f001")
    assert f001["ttd_s"] == pytest.approx(106.4 - 101.2) and f001["ttd_scrapes"] == pytest.approx(5.2 / STEP, abs=0.01)
    assert f001["top_suspect"] == "cart" and f001["ac1"] is True and f001["before_onset"] is False
    assert f001["from_start_s"] == pytest.approx(106.4 - 100)
    assert row["ttd_median_s"] == pytest.approx(5.2) and row["ac1_first_alarm"] == 1.0
    by_type = {r["fault_type"]: r for r in report.per_type}
    assert by_type["cpu"]["detected"] == 1 and by_type["cpu"]["ttd_median_scrapes"] == pytest.approx(1.04)
    assert by_type["memory_alloc"]["missed"] == 1 and by_type["memory_alloc"]["ttd_median_s"] is None


def test_false_alarms_per_hour_count_events_on_fault_free_live_steps(run):
    [row] = build_report(run).detectors
    # 121 live steps; anomalous: 13 (f001, 100..160 s) + 13 (f002); recovering: f001 until its return
    # at 162 s + 4 steps (165..180 s), f002 until its revert + 4 steps (365..375 s): 88 fault-free steps.
    assert row["false_alarm_events"] == 1
    assert row["fault_free_h"] == pytest.approx(88 * STEP / 3600, abs=1e-3)
    assert row["false_alarms_per_h"] == pytest.approx(1 / (88 * STEP / 3600), rel=1e-3)


def test_cost_and_the_cpu_bound_are_reported(run):
    report = build_report(run)
    [row] = report.detectors
    assert row["scoring_ms_median"] == 3.0 and row["scoring_ms_p95"] == pytest.approx(4.0)
    assert row["cpu_share"] == pytest.approx(121 * 1.0 / 1000 / (121 * STEP), rel=1e-3)
    assert row["fit_s"] == 0.2 and report.meta["cpu_mode"] == "cgroup-v1"
    assert "cpu.shares 2" in markdown(report) and "0.02 cores during faults" in markdown(report)


def test_the_report_is_kept_and_renders_the_board_section(run):
    write_report(build_report(run), run)
    assert read_report(run).detectors[0]["detector"] == "zscore"
    md, page = board_section(run)
    assert "## Live detection" in md and "### Per fault type" in md and "memory_alloc" in md
    assert "<h2>Live detection</h2>" in page and "cpu.shares 2" in page
    assert (run / "live" / "report.md").read_text().startswith("# Live detection: ")
    assert board_section(run.parent) == ("", "")  # not a run folder with live detectors


def test_the_run_leaderboard_gets_the_live_section(run):
    from faultlab.harness.evaluation import run_evaluation
    from faultlab.harness.reports.leaderboard import write_reports

    write_report(build_report(run), run)
    evaluation = run_evaluation(generate(train_steps=100, faults_per_type=1), ["zscore"], floors=False, metrics=["f1"])
    paths = write_reports(evaluation, run)
    assert "## Live detection" in paths["markdown"].read_text()
    assert "<h2>Live detection</h2>" in paths["html"].read_text() and paths["html"].read_text().endswith("</body></html>")


def test_a_run_without_offline_detectors_gets_the_live_board_alone(run):
    paths = write_live_board(build_report(run), run)
    assert "## Live detection" in paths["markdown"].read_text()


def test_a_replayed_run_matches_its_offline_scores_and_detects_on_time(tmp_path):
    """End to end without Prometheus: replay a recording through the live scorer into a run folder."""
    data = generate(train_steps=200, faults_per_type=1, scrape_interval_s=5.0)
    folder = tmp_path / "run"
    files = LiveFiles(folder)
    files.dir.mkdir(parents=True)
    (folder / "ground_truth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data.meta["faults"]))
    detector = make_detector("zscore").fit(data.train())
    model = save_model(detector, files.models / "zscore", step_s=5.0, label="zscore")
    files.config.write_text(json.dumps({"step_s": 5.0}))
    files.status.write_text(json.dumps({"fits": {"zscore": {"model": str(model), "threshold": detector.threshold_}}}))
    buffer = StreamBuffer(detector.columns_, detector.column_table_, capacity=buffer_capacity([detector]), step_s=5.0,
                          graph=data.graph, candidates=data.candidates, fill=detector.fill_values_)
    scorer = LiveScorer([LiveDetector("zscore", detector)], buffer, alerts=AlertJournal(files.alerts),
                        scores=ScoreLog(files.scores), clock=lambda: buffer.last_time.timestamp() + 0.5)
    run_stream(ReplaySource(data, start=len(data.train().metrics)), scorer)
    scorer.close()
    [row] = build_report(folder, data).detectors
    assert row["offline_steps"] == len(data.test().metrics)
    assert row["offline_same_alarm"] == 1.0 and row["offline_equal_scores"] == 1.0
    assert row["faults"] == len(data.meta["faults"]) and row["detected"] >= row["faults"] - 2
    assert row["ttd_median_s"] is not None and row["ttd_median_s"] < 4 * 5.0
    assert np.isfinite(row["false_alarms_per_h"])


def test_a_detector_that_could_not_be_fitted_is_named_not_scored(run):
    status = json.loads((run / "live" / "status.json").read_text())
    status["fits"]["lstm_ae"] = {"error": "BadInput: needs at least window=10 steps"}
    (run / "live" / "status.json").write_text(json.dumps(status))
    report = build_report(run)
    assert [r["detector"] for r in report.detectors] == ["zscore"]
    assert "lstm_ae could not be fitted, so it did not run live: BadInput" in markdown(report)


def test_an_alarm_before_the_measured_onset_counts_as_zero_and_is_flagged(run):
    records = [json.loads(line) for line in (run / "ground_truth.jsonl").read_text().splitlines()]
    records[1]["effect_onset"] = at(108.0)  # the effect check crossed half-way after the first alarm (106.4 s)
    (run / "ground_truth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    f001 = next(r for r in build_report(run).faults if r["fault_id"] == "f001")
    assert f001["ttd_s"] == 0.0 and f001["before_onset"] is True
