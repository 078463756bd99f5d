"""The live scorer on a replayed recording: alarms journalled as they happen, with suspects, and a score per step."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faultlab.detectors import fault_segments, make_detector
from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.live.journal import AlertJournal, ScoreLog, read_alerts, read_scores
from faultlab.harness.live.replay import ReplaySource, buffer_for, stream_scores
from faultlab.harness.live.scorer import LiveDetector, LiveScorer, buffer_capacity, run_stream
from faultlab.harness.live.stream import StreamBuffer

ALERT_FIELDS = {"time", "raised_at", "detector", "seed", "score", "threshold", "onset", "alarm_steps", "suspects"}


@pytest.fixture(scope="module")
def recording():
    return generate(train_steps=200, faults_per_type=1, scrape_interval_s=5.0)


@pytest.fixture(scope="module")
def zscore(recording):
    return make_detector("zscore").fit(recording.train())


def _scorer(detector, data, tmp_path, **kwargs):
    buffer = StreamBuffer(detector.columns_, detector.column_table_, capacity=buffer_capacity([detector]),
                          step_s=data.scrape_interval_s, graph=data.graph, candidates=data.candidates,
                          fill=detector.fill_values_)
    return LiveScorer([LiveDetector("zscore", detector, 0)], buffer, alerts=AlertJournal(tmp_path / "alerts.jsonl"),
                      scores=ScoreLog(tmp_path / "scores.jsonl"), **kwargs)


def test_every_alarm_is_on_disk_before_the_next_step(recording, zscore, tmp_path):
    test = recording.test()
    start = len(recording.train().metrics)
    scorer = _scorer(zscore, recording, tmp_path)
    source = ReplaySource(recording, start=start)
    scorer.prime(source.history(scorer.buffer.capacity))
    alarms = 0
    for step in source:
        verdicts = scorer.step(step)
        alarms += sum(v.alarm for v in verdicts)
        assert len(read_alerts(tmp_path / "alerts.jsonl")) == alarms  # written (and fsynced) within the step
    scorer.close()
    assert alarms > 0 and scorer.alarms == alarms and scorer.steps == len(test.metrics)
    records = read_alerts(tmp_path / "alerts.jsonl")
    assert all(ALERT_FIELDS <= set(r) for r in records)
    assert all(r["score"] > r["threshold"] for r in records)
    onsets = [r for r in records if r["onset"]]
    assert onsets and all(r["alarm_steps"] == 1 for r in onsets)


def test_live_scores_are_the_offline_scores_and_alarms_follow_the_threshold(recording, zscore, tmp_path):
    scorer = _scorer(zscore, recording, tmp_path)
    source = ReplaySource(recording, start=len(recording.train().metrics))
    steps = run_stream(source, scorer)
    scorer.close()
    log = read_scores(tmp_path / "scores.jsonl")
    assert steps == len(log) == len(recording.test().metrics)
    offline = zscore.score(recording)[len(recording.train().metrics):]  # the stream begins with training
    np.testing.assert_allclose(log["score"].to_numpy(), offline, rtol=1e-9)
    assert (log["alarm"].to_numpy() == (offline > zscore.threshold_)).all()
    assert (log["scoring_ms"] >= 0).all() and log["scoring_ms"].median() < 100


def test_an_alarm_names_the_faulty_service_first(recording, zscore, tmp_path):
    scorer = _scorer(zscore, recording, tmp_path, top_k=2)
    run_stream(ReplaySource(recording, start=len(recording.train().metrics)), scorer)
    scorer.close()
    alerts = read_alerts(tmp_path / "alerts.jsonl")
    test = recording.test()
    hits, checked = 0, 0
    for segment in fault_segments(test):
        start, end = test.timestamps[segment.start], test.timestamps[segment.end - 1]
        first = next((a for a in alerts if start <= pd.Timestamp(a["time"]) <= end), None)
        if first is None:
            continue
        checked += 1
        named = [s["service"] for s in first["suspects"]]
        # top_k=2 of more than two candidates: exactly two, distinct, both candidates
        assert len(named) == 2 and len(set(named)) == 2 and set(named) <= set(recording.candidates), named
        hits += first["suspects"][0]["service"] in segment.root_cause
    assert checked >= 3 and hits / checked >= 0.5


def test_a_detector_that_does_not_localize_names_no_suspects(recording, tmp_path):
    static = make_detector("static_threshold").fit(recording.train())
    assert static.suspects_latest(buffer_for(static, recording).dataset(), 3) == []


def test_run_stream_stops_at_max_steps_and_when_told(recording, zscore, tmp_path):
    scorer = _scorer(zscore, recording, tmp_path)
    assert run_stream(ReplaySource(recording, start=300), scorer, max_steps=7) == 7
    scorer2 = _scorer(zscore, recording, tmp_path / "b")
    calls = iter([True, True, False])
    assert run_stream(ReplaySource(recording, start=300), scorer2, keep_going=lambda: next(calls)) == 2


def test_the_score_log_reads_back_with_nan_as_null(tmp_path):
    log = ScoreLog(tmp_path / "s.jsonl")
    log.append({"time": "2026-01-01T00:00:00.000Z", "detector": "x", "score": None, "alarm": False})
    log.close()
    assert json.loads((tmp_path / "s.jsonl").read_text())["score"] is None
    assert np.isnan(read_scores(tmp_path / "s.jsonl")["score"].iloc[0])


def test_a_warming_up_window_model_never_alarms(recording, tmp_path):
    import torch

    torch.set_num_threads(1)
    lstm = make_detector("lstm_ae", {"window": 4, "hidden_units": 4, "latent_units": 2, "max_epochs": 1}).fit(recording.train())
    scores = stream_scores(lstm, recording.test().slice(end=recording.test().timestamps[10]))
    assert np.isnan(scores[:3]).all() and np.isfinite(scores[3:]).all()


def test_zscore_names_the_same_suspects_incrementally_as_the_generic_ranking(recording, zscore):
    from faultlab.detectors import Detector

    stream = recording.test()
    buffer = buffer_for(zscore, recording)
    buffer.capacity = buffer_capacity([zscore])
    checked = 0
    for i, step in enumerate(ReplaySource(recording)):
        buffer.push(step.time, step.values)
        if i % 37 or i < 5:
            continue
        data = buffer.dataset()
        for steps in (1, 4):
            fast, generic = zscore.suspects_latest(data, steps, 3), Detector.suspects_latest(zscore, data, steps, 3)
            assert [s for s, _ in fast] == [s for s, _ in generic]
            np.testing.assert_allclose([v for _, v in fast], [v for _, v in generic], rtol=1e-9)
            checked += 1
    assert checked > 20 and len(stream.metrics)
