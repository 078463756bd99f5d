"""The critical-difference diagram's input and rules: seed means of VUS-PR per dataset and method,
incomplete methods left out with a note, no diagram below three datasets (the index says why)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from faultlab.harness.evaluation import ALL, COLUMNS, FREE, OWN, Evaluation
from faultlab.harness.reports import critical_difference as cd
from faultlab.harness.reports.board import write_board


def rows(dataset: str, model: str, values: list[float], metric: str = "vus_pr", protocol: str = FREE) -> list[dict]:
    return [{"kind": "detector", "model": model, "dataset": dataset, "seed": s, "metric": metric, "protocol": protocol,
             "breakdown": ALL, "value": v} for s, v in enumerate(values)]


def board(scores: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """``{dataset: {model: per-seed VUS-PR}}`` as a tidy table (plus an F1 the diagram must ignore)."""
    data = [r for dataset, models in scores.items() for model, values in models.items()
            for r in rows(dataset, model, values) + rows(dataset, model, [0.5] * len(values), "f1", OWN)]
    return pd.DataFrame(data, columns=COLUMNS)


FOUR = {f"d{i}": {"best": [0.9 + i / 100, 0.92], "middle": [0.7, 0.72 + i / 100], "worst": [0.5, 0.5 - i / 100],
                  "random": [0.4, 0.41]} for i in range(1, 5)}


def test_the_matrix_holds_seed_means_of_the_ranking_key_with_floors_marked():
    data = cd.rank_input(board(FOUR))
    assert list(data.scores.index) == ["d1", "d2", "d3", "d4"]
    assert set(data.scores.columns) == {"best", "middle", "worst", "random (floor)"}
    assert data.scores.loc["d2", "best"] == pytest.approx((0.92 + 0.92) / 2)
    assert data.left_out == {} and data.skipped == {}


def test_a_method_missing_on_a_dataset_is_left_out_and_named():
    scores = {d: dict(models) for d, models in FOUR.items()}
    scores["d3"].pop("middle")
    scores["d4"]["worst"] = [math.nan, math.nan]  # n/a with every seed: no value either
    data = cd.rank_input(board(scores))
    assert data.left_out == {"middle": ["d3"], "worst": ["d4"]}
    assert set(data.scores.columns) == {"best", "random (floor)"}
    assert "No critical-difference diagram" in cd.no_diagram_reason(data)  # two methods left: too few
    text = cd.section_markdown(cd.compare(board(scores)))
    assert "middle (missing on d3)" in text and "worst (missing on d4)" in text


def test_datasets_that_rank_nothing_are_skipped_with_the_reason():
    scores = {**FOUR, "d5": {"best": [math.nan], "middle": [math.nan]},
              "d6": {"best": [1.0, 1.0], "middle": [1.0, 1.0], "worst": [1.0, 1.0], "random": [1.0, 1.0]}}
    data = cd.rank_input(board(scores))
    assert data.skipped == {"d5": "no detector has a VUS-PR there", "d6": "every detector ties there"}
    assert list(data.scores.index) == ["d1", "d2", "d3", "d4"] and data.left_out == {}
    assert "Datasets left out: d5 (no detector has a VUS-PR there); d6 (every detector ties there)." in \
        cd.section_markdown(cd.compare(board(scores)))


@pytest.mark.parametrize("n", [1, 2])
def test_fewer_than_three_datasets_give_no_diagram_and_say_why(n):
    few = {d: FOUR[d] for d in list(FOUR)[:n]}
    comparison = cd.compare(board(few))
    assert comparison.reason.startswith("No critical-difference diagram")
    assert f"at least {cd.MIN_DATASETS} datasets" in comparison.reason and f"has {n}" in comparison.reason
    assert comparison.ranks is None and "![" not in cd.section_markdown(comparison)
    assert "<img" not in cd.section_html(comparison, None)


def test_ties_everywhere_give_no_diagram():
    same = {f"d{i}": {"a": [1.0], "b": [1.0], "c": [1.0]} for i in range(3)}
    comparison = cd.compare(board(same))
    assert "has 0" in comparison.reason and "every detector ties there" in cd.section_markdown(comparison)


def test_friedman_and_nemenyi_rank_the_best_first():
    comparison = cd.compare(board(FOUR))
    assert comparison.reason == ""
    assert comparison.ranks is not None and comparison.nemenyi is not None
    assert list(comparison.ranks.index) == ["best", "middle", "worst", "random (floor)"]
    assert comparison.ranks["best"] == 1.0 and comparison.ranks["random (floor)"] == 4.0
    assert 0 < comparison.friedman_p < 0.05  # four datasets, a consistent order
    assert set(comparison.nemenyi.index) == set(comparison.ranks.index)
    assert comparison.nemenyi.loc["best", "random (floor)"] < comparison.nemenyi.loc["best", "middle"]
    text = cd.section_markdown(comparison)
    assert f"![Critical-difference diagram]({cd.IMAGE})" in text
    assert "Friedman test over 4 methods x 4 datasets: p = " in text and "Datasets used: d1, d2, d3, d4." in text
    assert cd.diagram_png(comparison).startswith(b"\x89PNG")


def test_the_index_shows_the_diagram_from_three_datasets_on(tmp_path):
    three = {d: FOUR[d] for d in ("d1", "d2", "d3")}
    paths = write_board(Evaluation(table=board(three)), tmp_path / "three", {"command": "faultlab bench"})
    assert (tmp_path / "three" / cd.IMAGE).read_bytes().startswith(b"\x89PNG")
    assert "Friedman test over" in paths["markdown"].read_text() and cd.IMAGE in paths["markdown"].read_text()
    page = paths["html"].read_text()
    assert "Critical difference over datasets" in page and 'src="data:image/png;base64,' in page
    two = {d: FOUR[d] for d in ("d1", "d2")}
    paths = write_board(Evaluation(table=board(two)), tmp_path / "two", {"command": "faultlab bench"})
    assert "it needs at least 3 datasets" in paths["markdown"].read_text()
    assert not (tmp_path / "two" / cd.IMAGE).exists()
