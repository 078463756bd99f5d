"""benchmarks/attae_threshold.py: every threshold rule judged on the board's steps, the fitted rule included."""

from __future__ import annotations

import pytest

from faultlab.harness.evaluation import MethodSpec
from faultlab.harness.evaluation.detector_rows import score_detector
from faultlab.harness.evaluation.table import OWN
from faultlab.harness.scoring import select_metrics
from tests import multiservice
from tests.repofiles import import_file

pytestmark = pytest.mark.usefixtures("one_torch_thread")
PARAMS = {"max_epochs": 2, "hidden_units": 8, "latent_units": 4, "beta_grid": (2.0, 3.0), "window_grid": (20, 40)}


@pytest.fixture(scope="module")
def result():
    bench = import_file("benchmarks/attae_threshold.py", "attae_threshold_benchmark")
    return bench, bench.sweep(multiservice.make(seed=1), 0, PARAMS)


def test_the_rule_chosen_at_fit_scores_as_on_the_board(result):
    _, res = result
    rows, _ = score_detector(multiservice.make(seed=1), MethodSpec("attae", PARAMS), 0, select_metrics(["f1", "alarm_rate"]))
    board = {r["metric"]: r["value"] for r in rows if r["protocol"] == OWN and r["breakdown"] == "all"}
    chosen = res["rows"][0]
    assert chosen["kind"] == "chosen"
    assert chosen["f1"] == pytest.approx(board["f1"]) and chosen["alarm_rate"] == pytest.approx(board["alarm_rate"])


def test_every_family_is_swept_and_the_best_keeps_the_budget(result):
    bench, res = result
    kinds = {r["kind"] for r in res["rows"]}
    assert kinds == {"chosen", "rule-budget", "adaptive-all", "adaptive-normal", "fixed-quantile", "fixed-any"}
    at_default = [r for r in res["rows"] if r["kind"] == "rule-budget" and r["rule"].endswith("budget of 0.01 (no labels)")]
    assert [(r["f1"], r["alarm_rate"]) for r in at_default] == [(res["rows"][0]["f1"], res["rows"][0]["alarm_rate"])]
    assert len([r for r in res["rows"] if r["kind"] == "adaptive-all"]) == len(bench.BETAS) * len(bench.WINDOWS)
    top = bench.best(res["rows"], "adaptive-all", 0.05)
    assert top is None or top["alarm_rate"] <= 0.05
    assert 0 < res["always_alarm_f1"] < 1
    assert "acceptance F1 >=" in bench.table(res, 0.1)
