"""TELESTO's evaluation protocol: repetitions, 3/1/1 splits that keep injections whole, rows, n/a."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.evaluation import COLUMNS, MethodSpec, run_evaluation
from faultlab.harness.evaluation.protocol import (
    NORMAL,
    TELESTO_PROTOCOL,
    ProtocolOptions,
    injections,
    protocol_windows,
    split_roles,
)
from faultlab.harness.evaluation.protocol_rows import score_protocol, split_table
from faultlab.harness.scoring import select_metrics
from tests import telesto_data

OPTS = ProtocolOptions(window_steps=10, stride=2)
FOREST = MethodSpec("random_forest", {"n_estimators": 20})


@pytest.fixture(scope="module")
def data():
    return telesto_data.make(seed=2)


def test_repetitions_come_from_the_recorded_groups(data):
    found = injections(data)
    assert len(found) == len(telesto_data.TYPES) * len(telesto_data.GROUPS) * 5
    for cell in {(e.fault_type, e.group) for e in found}:
        reps = [e.repetition for e in found if (e.fault_type, e.group) == cell]
        assert reps == [0, 1, 2, 3, 4]  # in time order
    assert {e.group for e in found} == set(telesto_data.GROUPS)


def test_group_falls_back_to_the_generator_id_then_the_targets(data):
    no_groups = replace(data, meta={**data.meta, "faults": []})
    assert {e.group for e in injections(no_groups)} == set(telesto_data.GROUPS)  # from f012-cpu-back
    labels = data.labels.copy()
    labels["fault_id"] = labels["fault_id"].str.replace(r"-(front|back)$", "", regex=True)
    plain = replace(no_groups, labels=labels)
    assert {e.group for e in injections(plain)} == {"a", "b,c"}  # the target sets
    assert {e.group for e in injections(plain, "type")} == {"*"}


@pytest.mark.parametrize("options", [OPTS, replace(OPTS, include_normal=True), replace(OPTS, node="all")])
def test_one_injection_never_lands_in_two_folds(data, options):
    cut = protocol_windows(data, options)
    for source in set(cut.sources.tolist()):
        assert len(set(cut.folds[cut.sources == source].tolist())) == 1, source
    for split in range(cut.n_splits):
        train, val, test = split_roles(cut.folds, split, cut.n_splits)
        assert not (train & val).any() and not (train & test).any() and not (val & test).any()
        assert (train | val | test).all()
        roles = [set(cut.sources[m].tolist()) for m in (train, val, test)]
        assert not (roles[0] & roles[1]) and not (roles[0] & roles[2]) and not (roles[1] & roles[2])
        assert 0.5 < train.mean() < 0.7  # 3/1/1
    assert cut.n_splits == 5


def test_target_node_gives_one_sample_per_service_of_the_group(data):
    cut = protocol_windows(data, OPTS)
    back = np.array([s.endswith("-back") for s in cut.sources])
    assert set(cut.nodes[back].tolist()) == {"b", "c"} and set(cut.nodes[~back].tolist()) == {"a"}
    assert cut.windows.shape[1:] == (10, len(telesto_data.METRICS))
    only_b = protocol_windows(data, replace(OPTS, node="b"))
    assert set(only_b.nodes.tolist()) == {"b"} and all(s.endswith("-back") for s in only_b.sources)
    with pytest.raises(BadInput, match="node 'nope'"):
        protocol_windows(data, replace(OPTS, node="nope"))


def test_normal_class_comes_from_the_fault_free_period(data):
    cut = protocol_windows(data, replace(OPTS, include_normal=True))
    normal = cut.labels == NORMAL
    assert normal.any() and set(cut.folds[normal].tolist()) == set(range(cut.n_splits))
    per_class = {c: int((cut.labels == c).sum()) for c in set(cut.labels.tolist())}
    assert per_class[NORMAL] <= 2 * min(v for c, v in per_class.items() if c != NORMAL)


def test_rows_report_every_split_and_their_mean(data):
    rows = score_protocol(data, FOREST, 0, select_metrics(["accuracy", "macro_f1"]), OPTS)
    assert {r["protocol"] for r in rows} == {TELESTO_PROTOCOL}
    acc = {r["breakdown"]: r["value"] for r in rows if r["metric"] == "accuracy" and r["breakdown"].startswith(("split=", "all"))}
    assert set(acc) == {"all", *(f"split={i}" for i in range(1, 6))}
    assert acc["all"] == pytest.approx(np.mean([acc[f"split={i}"] for i in range(1, 6)]))
    assert acc["all"] > 0.9  # the shapes are distinct: a forest on window statistics separates them
    metrics = {r["metric"] for r in rows}
    assert {"macro_precision", "macro_recall", "confusion", "class_recall"} <= metrics
    assert any(r["breakdown"] == "node=b" for r in rows)


def test_too_few_repetitions_is_na_with_the_reason():
    rows = score_protocol(telesto_data.make(repetitions=2), FOREST, 0, select_metrics(["accuracy"]), OPTS)
    assert len(rows) == 1 and np.isnan(rows[0]["value"]) and "repetitions" in rows[0]["reason"]


def test_evaluation_mode_and_bench_flag(data, tmp_path, monkeypatch):
    table = run_evaluation(data, [], [FOREST], [0, 1], ["accuracy"], protocol=OPTS).table
    assert list(table.columns[: len(COLUMNS)]) == COLUMNS and set(table["seed"]) == {0, 1}
    data.save(tmp_path / "ds")
    code = main(["bench", "--dataset", str(tmp_path / "ds"), "--detectors", "none", "--classifiers", "random_forest",
                 "--metrics", "accuracy,macro_f1", "--protocol", "telesto", "--out", str(tmp_path / "out")])
    assert code == 0
    text = (tmp_path / "out" / "scores.json").read_text()
    assert TELESTO_PROTOCOL in text and "split=5" in text
    splits = (tmp_path / "out" / "telesto_splits.csv").read_text()
    assert "random_forest" in splits and "paper (cassandra)" in splits  # ours next to Table 3


def test_cmsf_gan_augmentation_adds_generated_windows_to_training_folds_only(data, monkeypatch):
    from faultlab.harness.evaluation import protocol_rows as module

    seen = []
    real = module.augment

    def spy(windows, labels, spec, seed):
        out_w, out_y = real(windows, labels, spec, seed)
        seen.append((len(windows), len(out_w)))
        return out_w, out_y

    monkeypatch.setattr(module, "augment", spy)
    options = replace(OPTS, splits=3, augment="cmsf_gan", augment_params={"max_epochs": 2, "per_class": 5})
    rows = score_protocol(telesto_data.make(seed=3, repetitions=3), FOREST, 0, select_metrics(["accuracy"]), options)
    assert len(seen) == 3 and all(after == before + 5 * 4 for before, after in seen)
    assert {r["protocol"] for r in rows} == {TELESTO_PROTOCOL + "+cmsf_gan"}
    assert all(np.isfinite(r["value"]) for r in rows if r["breakdown"].startswith("split="))


def test_split_table_puts_splits_side_by_side_with_the_paper(data):
    import pandas as pd

    rows = [r for seed in (0, 1) for r in score_protocol(data, FOREST, seed, select_metrics(["accuracy", "macro_f1"]), OPTS)]
    out = split_table(pd.DataFrame(rows))
    ours = out[out["model"] == FOREST.label]
    assert set(ours["metric"]) == {"accuracy", "macro_f1"} and (ours["seeds"] == 2).all()
    assert {"split=1", "split=5", "mean", "std"} <= set(out.columns)
    np.testing.assert_allclose(ours[[f"split={i}" for i in range(1, 6)]].mean(axis=1), ours["mean"])
    paper = out[(out["protocol"] == "Table 3") & (out["model"] == "telesto") & (out["metric"] == "accuracy")]
    assert paper["mean"].item() == 0.851
