"""compare: sources side by side from scores.json files, folders and datasets."""

from __future__ import annotations

import pandas as pd
import pytest

from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.evaluation import ALL, COLUMNS, FREE, OWN
from faultlab.harness.reports.compare import Source, load_source, render_markdown, side_by_side
from faultlab.harness.reports.scores_file import write_scores


def table(model: str, f1: list[float], dataset: str = "d") -> pd.DataFrame:
    rows = [{"kind": "detector", "model": model, "dataset": dataset, "seed": s, "metric": "f1", "protocol": OWN,
             "breakdown": ALL, "value": v} for s, v in enumerate(f1)]
    rows += [{"kind": "detector", "model": model, "dataset": dataset, "seed": 0, "metric": "roc_auc",
              "protocol": FREE, "breakdown": "fault_type=cpu", "value": 0.7}]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_side_by_side_one_column_group_per_source():
    wide = side_by_side([Source("run-a", table("z", [0.5, 0.7])), Source("run-b", table("z", [0.9])),
                         Source("run-a", table("iforest", [0.1]))])
    assert wide.attrs["sources"] == ["run-a", "run-b", "run-a#2"]  # duplicate labels made unique
    z = wide[wide["model"] == "z"].iloc[0]
    assert z["run-a mean"] == pytest.approx(0.6) and z["run-b mean"] == pytest.approx(0.9)
    assert pd.isna(z["run-a#2 mean"])
    text = render_markdown(wide)
    assert "| detector | z | f1 [own] | 0.600 ± 0.141 | 0.900 | n/a |" in text


def test_breakdown_and_metric_filters_and_multi_dataset_sources():
    both = pd.concat([table("z", [0.5]), table("z", [0.8], dataset="e")])
    wide = side_by_side([Source("bench", both)], metrics=["roc_auc"], breakdown="fault_type=cpu")
    assert wide.attrs["sources"] == ["bench/d", "bench/e"]
    assert list(wide["metric"]) == ["roc_auc"]
    with pytest.raises(BadInput, match="no scores"):
        side_by_side([Source("x", table("z", [0.5]))], metrics=["vus_pr"])


def test_load_source_reads_files_and_folders_and_scores_datasets(tmp_path):
    write_scores(table("z", [0.5]), tmp_path / "run1" / "scores.json")
    assert load_source(tmp_path / "run1").label == "run1"
    assert load_source(tmp_path / "run1" / "scores.json").label == "run1"
    scored = load_source("synthetic", detectors=["static_threshold"], classifiers=[])
    assert scored.label == "synthetic" and set(scored.table["model"]) == {"static_threshold", "always_alarm", "random"}
    alone = load_source("synthetic", detectors=["static_threshold"], classifiers=[], floors=False)
    assert set(alone.table["model"]) == {"static_threshold"}
    with pytest.raises(BadInput, match="neither a run/bench folder"):
        load_source(tmp_path / "nothing-here")


def test_compare_cli_prints_the_table_and_writes_csv(tmp_path, capsys):
    write_scores(table("z", [0.5]), tmp_path / "a" / "scores.json")
    write_scores(table("z", [0.75]), tmp_path / "b" / "scores.json")
    csv = tmp_path / "cmp.csv"
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--csv", str(csv)]) == 0
    assert "| detector | z | f1 [own] | 0.500 | 0.750 |" in capsys.readouterr().out
    assert list(pd.read_csv(csv).columns[-4:]) == ["a mean", "a std", "b mean", "b std"]
    assert main(["compare", str(tmp_path / "missing")]) == 2
