"""Score-timeline axes as pure logic: the scale and limits fit the scores present, ticks never crowd,
and a threshold far off the scores is marked at the edge instead of flattening them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from faultlab.harness.evaluation import ScoreTimeline
from faultlab.harness.reports.plots import MAX_TICKS, ScoreAxis, score_axis, short_number, timelines_png


def quiet_with_spike(quiet: np.ndarray, spike: float, at: int = 300) -> np.ndarray:
    scores = quiet.copy()
    scores[at:at + 10] = spike
    return scores


def assert_readable_ticks(axis: ScoreAxis) -> None:
    ticks = list(axis.ticks)
    assert 2 <= len(ticks) <= MAX_TICKS
    assert ticks == sorted(ticks) and all(axis.low <= t <= axis.high for t in ticks)
    positions = [axis.position(t) for t in ticks]
    assert min(np.diff(positions)) >= 1 / (MAX_TICKS - 1) - 1e-6  # 7 pt labels on a 2-inch panel never touch


def test_a_z_score_spike_gets_symlog_starting_at_zero_not_half_a_panel_of_negatives():
    rng = np.random.default_rng(0)
    scores = quiet_with_spike(np.abs(rng.normal(0, 1, 1000)), 400.0)
    axis = score_axis(scores, 4.0)
    assert axis.scale == "symlog" and axis.low == pytest.approx(scores.min())
    assert all(t >= 0 for t in axis.ticks)
    assert axis.position(np.quantile(scores, 0.75)) > 0.15  # the quiet part keeps a readable share of the panel
    assert axis.threshold_side == "" and axis.low <= 4.0 <= axis.high
    assert_readable_ticks(axis)


def test_negative_scores_with_a_spike_get_symlog_down_to_their_minimum():
    rng = np.random.default_rng(1)
    scores = quiet_with_spike(rng.normal(0, 1, 1000), 1e4)
    axis = score_axis(scores, 3.0)
    assert axis.scale == "symlog" and axis.low == pytest.approx(scores.min()) and axis.low < 0
    assert 0.1 < axis.position(0.0) < 0.5  # the negatives that occur get their share, no more
    assert_readable_ticks(axis)


def test_positive_errors_spanning_decades_get_a_log_axis():
    rng = np.random.default_rng(2)
    scores = quiet_with_spike(rng.uniform(0.01, 0.02, 1000), 50.0)
    axis = score_axis(scores, 0.03)
    assert axis.scale == "log" and 0 < axis.low < 0.01 and 50 < axis.high < 200
    assert_readable_ticks(axis)


def test_bounded_scores_stay_linear_with_the_threshold_drawn():
    scores = np.random.default_rng(3).uniform(0, 1, 500)
    axis = score_axis(scores, 0.7)
    assert axis.scale == "linear" and axis.threshold_side == ""
    assert -0.1 < axis.low < 0.01 and 0.99 < axis.high < 1.1
    assert_readable_ticks(axis)


@pytest.mark.parametrize(("threshold", "side"), [(2.6e36, "above"), (math.inf, "above"), (-1e9, "below")])
def test_a_threshold_far_off_the_scores_is_marked_not_plotted(threshold, side):
    scores = np.random.default_rng(4).uniform(0, 10, 500)
    axis = score_axis(scores, threshold)
    assert axis.threshold_side == side
    assert axis.scale == "linear" and axis.high < 20 and axis.low > -5  # the limits fit the scores, not the threshold


def test_a_threshold_near_the_scores_widens_the_axis():
    axis = score_axis(np.random.default_rng(5).uniform(0, 10, 500), 12.0)
    assert axis.threshold_side == "" and axis.high >= 12.0


def test_a_log_axis_marks_a_non_positive_threshold_below():
    scores = quiet_with_spike(np.random.default_rng(6).uniform(0.01, 0.02, 1000), 50.0)
    assert score_axis(scores, 0.0).threshold_side == "below"


def test_degenerate_scores_still_give_an_axis():
    flat = score_axis(np.full(100, 3.0), 3.0)
    assert flat.scale == "linear" and flat.low < 3.0 < flat.high
    empty = score_axis(np.array([np.nan, np.inf]), float("nan"))
    assert empty.low < empty.high and empty.threshold_side == ""


def test_short_numbers():
    assert [short_number(v) for v in (2.6e36, 1e-5, 400.0, 0.001, 12345.0)] == ["2.6e36", "1e-5", "400", "0.001", "1.23e4"]


def test_a_panel_with_the_threshold_off_the_scores_renders():
    index = pd.date_range("2026-01-01", periods=200, freq="5s", tz="UTC")
    anomaly = np.zeros(200, dtype=np.int8)
    anomaly[80:100] = 1
    scores = np.where(anomaly > 0, 8.0, 1.0) + np.random.default_rng(7).normal(0, 0.1, 200)
    far = ScoreTimeline("d", "far", 0, index, scores, 2.6e36, anomaly, np.where(anomaly > 0, "cpu", ""))
    spiky = ScoreTimeline("d", "spiky", 0, index, quiet_with_spike(np.abs(scores - 1), 400.0, 80), 4.0, anomaly,
                          np.where(anomaly > 0, "cpu", ""))
    huge = ScoreTimeline("d", "huge", 0, index, np.where(anomaly > 0, 1e308, -1e308), 1e308, anomaly,
                         np.where(anomaly > 0, "cpu", ""))  # a TSB-AD model's scores on a real recording
    assert timelines_png([far, spiky, huge], "t").startswith(b"\x89PNG")


def test_scores_near_the_float_limit_still_give_a_finite_axis():
    axis = score_axis(np.array([0.0, 1e308, -1e308]), 1e308)
    assert np.isfinite([axis.low, axis.high]).all() and axis.low < 0 < axis.high
