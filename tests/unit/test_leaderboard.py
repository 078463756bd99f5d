"""Leaderboard views from a hand-made tidy table, the written reports, and `faultlab bench`."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from faultlab.harness.cli import main
from faultlab.harness.evaluation import ADJUSTED, ALL, COLUMNS, EVENT_SPLIT, FREE, ORACLE, OWN, ScoreTimeline
from faultlab.harness.reports.leaderboard import confusion, csv_frame, display_frame, headline, markdown, per_group, write_reports


def rows(model: str, metric: str, protocol: str, values: list[float], breakdown: str = ALL, kind: str = "detector") -> list[dict]:
    return [{"kind": kind, "model": model, "dataset": "d", "seed": s, "metric": metric, "protocol": protocol,
             "breakdown": breakdown, "value": v} for s, v in enumerate(values)]


@pytest.fixture()
def table() -> pd.DataFrame:
    data = (
        rows("good", "f1", OWN, [0.5, 0.7]) + rows("bad", "f1", OWN, [0.1, 0.1])
        + rows("good", "vus_pr", FREE, [0.9, 0.9]) + rows("bad", "vus_pr", FREE, [0.95, 0.95])
        + rows("good", "best_f1", ORACLE, [0.8, 0.8]) + rows("good", "pa_f1", ADJUSTED, [0.99, 0.99])
        + rows("good", "f1", OWN, [1.0, 0.0], "fault_type=cpu") + rows("good", "f1", OWN, [0.25, 0.25], "fault_type=disk")
        + rows("bad", "f1", OWN, [0.0, 0.0], "fault_type=cpu")
        + rows("rf", "accuracy", EVENT_SPLIT, [0.5, 0.5], kind="classifier")
        + rows("rf", "confusion", EVENT_SPLIT, [2, 4], "true=cpu,pred=cpu", "classifier")
        + rows("rf", "confusion", EVENT_SPLIT, [1, 1], "true=cpu,pred=disk", "classifier")
        + rows("rf", "confusion", EVENT_SPLIT, [0, 2], "true=disk,pred=cpu", "classifier")
    )
    return pd.DataFrame(data, columns=COLUMNS)


def test_headline_ranks_by_vus_pr_the_one_ranking_key_with_mean_and_std(table):
    head = headline(table, "detector")
    assert list(head["model"]) == ["bad", "good"]  # VUS-PR ranks (the index's key too), although good has the higher f1
    assert head.loc[1, "f1 [own] mean"] == pytest.approx(0.6)
    assert head.loc[1, "f1 [own] std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    shown = display_frame(head)
    assert list(shown.columns[:3]) == ["rank", "dataset", "model"]
    assert shown.loc[1, "f1 [own]"] == "0.600 ± 0.141"
    assert shown.loc[0, "f1 [own]"].startswith("0.100 ± —")  # the same value with both seeds
    assert shown.loc[0, "best_f1 [oracle]"] == "n/a"
    assert "pa_f1 [optimistic]" in shown.columns


def test_per_fault_type_and_confusion_views(table):
    grid = per_group(table, "detector", "f1", OWN)["d"]
    assert grid.loc["good", "cpu"] == 0.5 and grid.loc["good", "disk"] == 0.25
    assert np.isnan(grid.loc["bad", "disk"])
    matrix = confusion(table)[("d", "rf")]
    assert matrix.loc["cpu", "cpu"] == 3.0 and matrix.loc["cpu", "disk"] == 1.0
    assert matrix.loc["disk", "cpu"] == 1.0 and matrix.loc["disk", "disk"] == 0.0  # missing cell -> 0


def test_markdown_and_csv_label_every_protocol(table):
    text = markdown(table)
    for label in ("f1 [own]", "best_f1 [oracle]", "pa_f1 [optimistic]", "vus_pr", "accuracy"):
        assert label in text
    assert "#### f1 [own] per fault type" in text
    frame = csv_frame(table)
    assert set(frame["kind"]) == {"detector", "classifier"}
    assert frame.loc[frame["model"] == "rf", "accuracy mean"].item() == 0.5


def test_write_reports_makes_a_self_contained_page(tmp_path, table):
    index = pd.date_range("2026-01-01", periods=50, freq="5s", tz="UTC")
    anomaly = np.zeros(50, dtype=np.int8)
    anomaly[20:30] = 1
    timeline = ScoreTimeline("d", "good", 0, index, np.r_[np.zeros(20), np.full(10, 5.0), np.zeros(20)], 1.0,
                             anomaly, np.where(anomaly > 0, "cpu", ""))
    paths = write_reports(table, tmp_path / "out", [timeline])
    page = paths["html"].read_text()
    assert "<script" not in page and not re.search(r'src="(?!data:)', page)  # nothing fetched
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3  # the detector heat map, the timeline, the confusion matrix (no class_recall rows)
    assert all(base64.b64decode(img).startswith(b"\x89PNG") for img in images)
    plots = sorted(p.name for p in paths["plots"].iterdir())
    assert plots == ["confusion-rf-d.png", "heatmap-detector-d.png", "timelines-d.png"]
    assert paths["scores"].exists() and paths["markdown"].read_text().startswith("# Leaderboard")
    assert pd.read_csv(paths["csv"]).shape[0] == 3


def test_bench_cli_writes_the_leaderboard(tmp_path, capsys):
    out = tmp_path / "bench"
    code = main(["bench", "--dataset", "synthetic", "--detectors", "static_threshold", "--classifiers", "none",
                 "--seeds", "0,1", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.strip().splitlines()[-1] == str(out)
    assert "static_threshold" in printed
    for name in ("scores.json", "leaderboard.md", "leaderboard.csv", "leaderboard.html", "plots/timelines-synthetic.png"):
        assert (out / name).is_file(), name


@pytest.mark.parametrize(("args", "message"), [
    (["--detectors", "nope"], "unknown detector 'nope'"),
    (["--seeds", "0,x"], "'x' is not a non-negative integer"),
])
def test_bench_cli_bad_input_exits_2(tmp_path, capsys, args, message):
    code = main(["bench", "--dataset", "synthetic", "--classifiers", "none", "--out", str(tmp_path), *args])
    assert code == 2
    assert message in capsys.readouterr().err
