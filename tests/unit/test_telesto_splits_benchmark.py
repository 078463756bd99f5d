"""benchmarks/telesto_splits.py: the board's protocol splits, one kept line per split, resumable."""

from __future__ import annotations

import json

import pytest

from faultlab.harness.evaluation import MethodSpec
from faultlab.harness.evaluation.protocol import ProtocolOptions
from faultlab.harness.evaluation.protocol_rows import score_protocol
from faultlab.harness.scoring import select_metrics
from tests import telesto_data
from tests.repofiles import import_file

OPTS = ProtocolOptions(window_steps=10, stride=2)
FOREST = {"n_estimators": 20}


@pytest.fixture(scope="module")
def splits():
    return import_file("benchmarks/telesto_splits.py", "telesto_splits_benchmark")


@pytest.fixture(scope="module")
def data():
    return telesto_data.make(seed=3)


def test_each_split_equals_the_boards_split_row(splits, data, tmp_path):
    out = tmp_path / "splits.jsonl"
    splits.run(data, "random_forest", [0], None, FOREST, out, OPTS)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["split"] for r in lines] == [1, 2, 3, 4, 5]
    board = score_protocol(data, MethodSpec("random_forest", FOREST), 0, select_metrics(["accuracy", "macro_f1"]), OPTS)
    for metric in ("accuracy", "macro_f1"):
        expected = {r["breakdown"]: r["value"] for r in board if r["metric"] == metric and r["breakdown"].startswith("split=")}
        assert {f"split={r['split']}": r[metric] for r in lines} == pytest.approx(expected)


def test_a_rerun_keeps_finished_splits_and_runs_only_the_missing(splits, data, tmp_path):
    out = tmp_path / "splits.jsonl"
    splits.run(data, "random_forest", [0], [2, 4], FOREST, out, OPTS)
    first = out.read_text()
    splits.run(data, "random_forest", [0], None, FOREST, out, OPTS)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert out.read_text().startswith(first)
    assert [r["split"] for r in lines] == [2, 4, 1, 3, 5]
    table = splits.summary(out)
    assert "| random_forest | accuracy |" in table and "not run" not in table


def test_a_deep_classifier_keeps_its_training_record(splits, data, tmp_path):
    out = tmp_path / "splits.jsonl"
    splits.run(data, "gcn", [0], [1], {"max_epochs": 2, "batch_size": 16, "device": "cpu"}, out, OPTS)
    (line,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert line["training"]["epochs"] == 2 and len(line["training"]["val_loss"]) == 2
    assert line["training"]["max_epochs"] == 2
    png = splits.plot(out, tmp_path / "loss.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
