"""No look-ahead, proved: a detector streamed over a recorded dataset, one step at a time, gives
every step the offline score of that step, and no step's score depends on anything later.

A recorded dataset is replayed step by step (no Prometheus: :class:`ReplaySource`) into the
rolling buffer a live scorer keeps (``history_steps`` long); each step is scored with
``Detector.score_latest``. Two claims, for zscore (incremental form), static_threshold (the
base class's default form) and a seed window model (lstm_ae, tiny):

1. the streamed score of step t equals ``detector.score(whole recording)[t]`` (float tolerance),
   from the first step whose window is complete (``warmup_steps``); before it the stream says
   NaN instead of borrowing the first window's score from the future, as offline padding does;
2. scoring only the prefix up to t gives step t the same score as the whole recording, and
   scrambling every step after t changes nothing at t: a score never reads later data.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from faultlab.dataset import Dataset
from faultlab.detectors import Detector, make_detector
from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.live.replay import ReplaySource, buffer_for, stream_scores

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

#: (detector, params, steps of the recording streamed, relative tolerance): the deep model streams
#: fewer steps, and computes in float32 (one window at a time vs. batches: rounding differs)
CASES = [
    ("zscore", {}, 420, 1e-9),
    ("zscore", {"smooth_steps": 3, "aggregate": "max"}, 420, 1e-9),
    ("static_threshold", {}, 420, 1e-9),
    ("lstm_ae", {"window": 6, "hidden_units": 4, "latent_units": 2, "max_epochs": 1, "dropout": 0.0}, 320, 1e-5),
]


@pytest.fixture(scope="module")
def recording() -> Dataset:
    """A labelled recording: 200 fault-free training steps, then faults of every synthetic type."""
    return generate(train_steps=200, faults_per_type=1, scrape_interval_s=5.0)


def _prefix(data: Dataset, steps: int) -> Dataset:
    return replace(data, metrics=data.metrics.iloc[:steps], labels=data.labels.iloc[:steps],
                   mask=None if data.mask is None else data.mask.iloc[:steps])


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}{'+' if c[1] and c[0] == 'zscore' else ''}")
def case(request, recording):
    name, params, steps, rtol = request.param
    detector = make_detector(name, params, seed=0).fit(recording.train())
    stream = recording if steps is None else _prefix(recording, steps)
    return detector, stream, rtol


def test_streamed_scores_equal_offline_scores_at_every_step(case):
    detector, stream, rtol = case
    offline = detector.score(stream)
    streamed = stream_scores(detector, stream)
    first = detector.warmup_steps - 1
    assert np.isnan(streamed[:first]).all()
    np.testing.assert_allclose(streamed[first:], offline[first:], rtol=rtol, atol=1e-9)
    assert len(stream.metrics) > detector.history_steps + 50  # the buffer did roll over


def test_a_prefix_scores_its_last_step_as_the_whole_recording_does(case):
    detector, stream, rtol = case
    offline = detector.score(stream)
    n = len(stream.metrics)
    ends = sorted({detector.warmup_steps - 1, detector.history_steps - 1, detector.history_steps,
                   n // 3, n // 2, n - 2, n - 1})
    for t in ends:
        assert detector.score(_prefix(stream, t + 1))[t] == pytest.approx(offline[t], rel=rtol, abs=1e-9), t


def test_scrambling_the_future_changes_no_earlier_score(case):
    detector, stream, rtol = case
    t = len(stream.metrics) // 2
    rng = np.random.default_rng(7)
    scrambled = stream.metrics.copy()
    later = scrambled.iloc[t + 1 :]
    scrambled.iloc[t + 1 :] = later.to_numpy() * rng.uniform(0.0, 50.0, size=later.shape)
    poisoned = replace(stream, metrics=scrambled)
    before, after = stream_scores(detector, _prefix(stream, t + 1)), stream_scores(detector, poisoned)
    np.testing.assert_allclose(after[: t + 1], before, rtol=rtol, atol=1e-9, equal_nan=True)
    assert not np.allclose(after[t + 1 :], detector.score(stream)[t + 1 :])  # the future did change


def test_the_buffer_holds_only_what_the_detector_needs(case):
    detector, stream, _ = case
    buffer = buffer_for(detector, stream)
    for step in ReplaySource(stream):
        buffer.push(step.time, step.values)
    assert len(buffer) == detector.history_steps
    assert buffer.dataset().timestamps[-1] == stream.timestamps[-1]


@pytest.mark.skipif("drift" not in Detector.shared_params, reason="no drift option on Detector")
def test_the_drift_option_streams_too(recording):
    """The ``drift`` option removes a trailing median before the method sees the data: its steps
    are part of the history, and the streamed scores still equal the offline ones."""
    detector = make_detector("static_threshold", {"drift": "trailing_median"}).fit(recording.train())
    assert detector.history_steps == detector.drift_.steps + detector.drift_steps_ + 1
    stream = _prefix(recording, 420)
    first = detector.warmup_steps - 1
    np.testing.assert_allclose(stream_scores(detector, stream)[first:], detector.score(stream)[first:], rtol=1e-9, atol=1e-9)


def test_history_steps_cover_the_window_and_the_drift_baseline(recording):
    zscore = make_detector("zscore", {"smooth_steps": 3}).fit(recording.train())
    assert zscore.warmup_steps == 1
    assert zscore.history_steps == zscore.drift_steps_ + 3  # 120 drift steps at 5 s, plus the rolling median
    iforest = make_detector("iforest", {"n_estimators": 10}).fit(recording.train())
    assert iforest.history_steps == 1  # a point detector without a drifting baseline
    lstm = make_detector("lstm_ae", {"window": 6, "max_epochs": 1, "hidden_units": 4, "latent_units": 2})
    assert lstm.warmup_steps == 6
