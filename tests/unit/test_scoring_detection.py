"""Detection metrics from binary predictions and the event helpers, on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from faultlab.errors import BadInput
from faultlab.harness.scoring import (
    detected_event_fraction,
    detection_delays_s,
    false_alarms_per_hour,
    mean_detection_delay_s,
    pa_f1,
    pa_precision,
    pa_recall,
    point_adjust,
    point_f1,
    point_precision,
    point_recall,
    range_f1,
    range_precision,
    range_recall,
    segment_events,
    segment_runs,
)

Y = np.array([0, 1, 1, 0, 0, 1, 0, 0])
P = np.array([0, 1, 0, 0, 1, 1, 1, 0])


# ---- events --------------------------------------------------------------------------------
def test_segment_events_inclusive_and_at_edges() -> None:
    assert segment_events([1, 1, 0, 0, 1, 0, 1]).tolist() == [[0, 1], [4, 4], [6, 6]]
    assert segment_events([0, 0, 0]).shape == (0, 2)
    assert segment_events([1, 1, 1]).tolist() == [[0, 2]]
    assert segment_events([]).shape == (0, 2)


def test_segment_runs_splits_back_to_back_faults() -> None:
    events, keys = segment_runs(["a", "a", "b", "", "b", "b"])
    assert events.tolist() == [[0, 1], [2, 2], [4, 5]]
    assert keys == ["a", "b", "b"]


def test_segment_events_rejects_non_binary() -> None:
    with pytest.raises(BadInput, match="only 0 and 1"):
        segment_events([0, 2, 1])


# ---- point-wise ----------------------------------------------------------------------------
def test_point_metrics_by_hand() -> None:
    # TP = 2 (steps 1 and 5), 4 alarms, 3 anomalous steps.
    assert point_precision(Y, P) == pytest.approx(0.5)
    assert point_recall(Y, P) == pytest.approx(2 / 3)
    assert point_f1(Y, P) == pytest.approx(4 / 7)


def test_point_metrics_no_anomalies_and_no_alarms() -> None:
    zeros = np.zeros(6, dtype=int)
    alarms = np.array([0, 1, 0, 0, 0, 0])
    assert math.isnan(point_recall(zeros, alarms))
    assert math.isnan(point_f1(zeros, alarms))
    assert point_precision(zeros, alarms) == 0.0
    # Anomalies but a silent detector: precision 0, recall 0, F1 0 (rankable, not nan).
    assert point_precision(Y, np.zeros_like(Y)) == 0.0
    assert point_recall(Y, np.zeros_like(Y)) == 0.0
    assert point_f1(Y, np.zeros_like(Y)) == 0.0


def test_point_metrics_all_anomalies() -> None:
    ones = np.ones(4, dtype=int)
    half = np.array([1, 1, 0, 0])
    assert point_precision(ones, half) == 1.0
    assert point_recall(ones, half) == 0.5
    assert point_f1(ones, half) == pytest.approx(2 / 3)


def test_length_mismatch_is_bad_input() -> None:
    with pytest.raises(BadInput, match="differ in length"):
        point_f1([0, 1], [0, 1, 1])


# ---- point adjustment ----------------------------------------------------------------------
def test_point_adjust_fills_detected_events_only() -> None:
    y = np.array([1, 1, 1, 0, 0, 1, 1, 0, 1])
    p = np.array([0, 0, 1, 0, 1, 0, 0, 0, 1])
    assert point_adjust(y, p).astype(int).tolist() == [1, 1, 1, 0, 1, 0, 0, 0, 1]


def test_pa_metrics_by_hand() -> None:
    # Both events hit -> adjusted alarms at 1, 2, 4, 5, 6: TP = 3 of 5 alarms, 3 anomalies.
    assert pa_precision(Y, P) == pytest.approx(0.6)
    assert pa_recall(Y, P) == pytest.approx(1.0)
    assert pa_f1(Y, P) == pytest.approx(0.75)
    assert pa_f1(Y, P) > point_f1(Y, P)


# ---- range-based (Tatbul et al. 2018) ------------------------------------------------------
def test_range_defaults_by_hand() -> None:
    # Real ranges [1,2], [5,5]; predicted [1,1], [4,6].
    # Recall: [1,2] half covered, [5,5] fully -> 0.75. Precision: [1,1] fully, [4,6] one third.
    assert range_recall(Y, P) == pytest.approx(0.75)
    assert range_precision(Y, P) == pytest.approx(2 / 3)
    assert range_f1(Y, P) == pytest.approx(12 / 17)


def test_range_recall_cardinality_and_alpha() -> None:
    y = np.array([1] * 10)
    p = np.array([1, 1, 0, 0, 0, 1, 1, 0, 0, 0])  # two alarms inside one event
    assert range_recall(y, p) == pytest.approx(0.4)
    assert range_recall(y, p, cardinality="reciprocal") == pytest.approx(0.2)
    assert range_recall(y, p, alpha=1.0) == pytest.approx(1.0)
    assert range_recall(y, p, alpha=0.5, cardinality="reciprocal") == pytest.approx(0.6)


def test_range_recall_positional_bias() -> None:
    y = np.array([1, 1, 1, 1, 0])
    first = np.array([1, 0, 0, 0, 0])
    middle = np.array([0, 1, 1, 0, 0])
    assert range_recall(y, first, bias="front") == pytest.approx(4 / 10)  # weights 4,3,2,1
    assert range_recall(y, first, bias="back") == pytest.approx(1 / 10)  # weights 1,2,3,4
    assert range_recall(y, middle, bias="middle") == pytest.approx(4 / 6)  # weights 1,2,2,1


def test_range_metrics_edge_cases() -> None:
    assert math.isnan(range_recall([0, 0, 0], [0, 1, 0]))
    assert math.isnan(range_f1([0, 0, 0], [0, 1, 0]))
    assert range_precision([0, 1, 0], [0, 0, 0]) == 0.0
    assert range_f1([0, 1, 0], [0, 0, 0]) == 0.0
    assert range_f1([1, 1, 1], [1, 1, 1]) == pytest.approx(1.0)
    # One-point events at both edges, each caught.
    assert range_recall([1, 0, 0, 1], [1, 0, 0, 1]) == pytest.approx(1.0)
    with pytest.raises(BadInput, match="positional bias"):
        range_recall([1, 0], [1, 0], bias="sideways")
    with pytest.raises(BadInput, match="alpha"):
        range_recall([1, 0], [1, 0], alpha=2.0)


# ---- delay and false alarms ----------------------------------------------------------------
YD = np.array([0, 0, 1, 1, 1, 0, 0, 1, 1, 0])
PD = np.array([1, 0, 0, 0, 1, 1, 0, 0, 0, 0])


def test_detection_delays_by_hand() -> None:
    delays = detection_delays_s(YD, PD, step_s=5.0)
    assert delays[0] == pytest.approx(10.0)  # event starts at 2, first alarm inside at 4
    assert math.isnan(delays[1])  # never alarmed inside [7, 8]; the alarm at 0 is too early
    assert mean_detection_delay_s(YD, PD, step_s=5.0) == pytest.approx(10.0)
    assert detected_event_fraction(YD, PD) == pytest.approx(0.5)


def test_detection_delays_from_timestamps() -> None:
    t = np.datetime64("2026-01-01T00:00:00") + np.arange(10) * np.timedelta64(5, "s")
    assert detection_delays_s(YD, PD, timestamps_s=t)[0] == pytest.approx(10.0)
    seconds = np.array([0, 5, 10, 15, 40, 45, 50, 55, 60, 65], dtype=float)
    assert detection_delays_s(YD, PD, timestamps_s=seconds)[0] == pytest.approx(30.0)


def test_detection_delay_at_series_edges() -> None:
    y = np.array([1, 1, 0, 0, 1])
    p = np.array([1, 0, 0, 0, 1])
    assert detection_delays_s(y, p, step_s=1.0).tolist() == [0.0, 0.0]
    assert math.isnan(mean_detection_delay_s(y, np.zeros(5, dtype=int), step_s=1.0))


def test_false_alarms_per_hour_by_hand() -> None:
    # Alarm runs [0,0] (starts in normal time: counted) and [4,5] (starts inside an event).
    # Fault-free time: 5 steps x 5 s = 25 s.
    assert false_alarms_per_hour(YD, PD, step_s=5.0) == pytest.approx(1 / (25 / 3600))


def test_false_alarms_count_runs_not_steps() -> None:
    y = np.zeros(3600, dtype=int)
    p = np.zeros(3600, dtype=int)
    p[10:500] = 1  # one long false alarm
    p[1000] = 1
    assert false_alarms_per_hour(y, p, step_s=1.0) == pytest.approx(2.0)
    assert math.isnan(false_alarms_per_hour(np.ones(3, dtype=int), np.ones(3, dtype=int), step_s=1.0))


def test_delay_needs_a_clock() -> None:
    with pytest.raises(BadInput, match="step_s"):
        detection_delays_s(YD, PD)


def test_false_alarms_unobserved_gap_does_not_count_as_fault_free_time() -> None:
    t = np.array([0, 5, 10, 15, 20, 100, 105], dtype=float)  # 80 s without scrapes
    y = np.zeros(7, dtype=int)
    p = np.array([0, 0, 1, 0, 0, 0, 0])
    # Each step counts at most the usual 5 s: 7 x 5 s = 35 s observed.
    assert false_alarms_per_hour(y, p, timestamps_s=t) == pytest.approx(3600 / 35)
