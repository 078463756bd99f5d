"""Training made visible: deep methods' info rows (protocol ``training``), never gated, on the board
as headline columns, a training table, a still-improving flag and loss curves; lstm_ae's groups
scored one by one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faultlab.detectors.torchkit import TrainHistory
from faultlab.harness.evaluation import ALL, COLUMNS, FREE, OWN, MethodSpec, run_evaluation
from faultlab.harness.evaluation.table import TRAINING, FitRecord, training_rows
from faultlab.harness.gate.check import gated_scores
from faultlab.harness.reports.leaderboard import (
    STILL_IMPROVING,
    figures,
    group_frame,
    loss_curves,
    markdown,
    shown_headline,
    training_frame,
)
from tests import multiservice

SPEC = MethodSpec("deep", {}, (0, 1))


def _history(epochs: int, best: int, cap: int, fit_s: float = 1.0) -> TrainHistory:
    losses = [1.0 / (e + 1) for e in range(epochs)]
    return TrainHistory(train_loss=losses, val_loss=[v * 2 for v in losses], epoch_s=[fit_s / epochs] * epochs,
                        best_epoch=best, max_epochs=cap, fit_s=fit_s)


def _values(rows: list[dict]) -> dict[tuple[str, str], float]:
    return {(r["metric"], r["breakdown"]): r["value"] for r in rows}


def test_rows_average_networks_and_folds_and_keep_the_first_fits_curves():
    fits = [FitRecord({"cpu": _history(10, 10, 10), "memory": _history(4, 2, 10)}, 3.0, {"beta": 2.0}),
            FitRecord({"cpu": _history(6, 3, 10), "memory": _history(8, 5, 10)}, 5.0, {"beta": 4.0})]
    rows = training_rows("detector", SPEC, "d", 0, fits, curves=True)
    assert {r["protocol"] for r in rows} == {TRAINING}
    got = _values(rows)
    assert got[("epochs_run", ALL)] == 7.0 and got[("best_epoch", ALL)] == 5.0 and got[("epoch_cap", ALL)] == 10.0
    assert got[("still_improving", ALL)] == 0.25  # one network of four ended at its cap with its best epoch last
    assert got[("fit_time_s", ALL)] == 8.0 and got[("beta", ALL)] == 3.0
    assert got[("epochs_run", "group=cpu")] == 8.0 and got[("still_improving", "group=cpu")] == 0.5
    assert got[("train_loss", "group=memory,epoch=4")] == pytest.approx(0.25)  # the first fit's curve only
    assert ("train_loss", "group=memory,epoch=5") not in got
    assert training_rows("detector", SPEC, "d", 0, [FitRecord({}, 1.0)]) == []  # nothing trained by epochs: no rows


def _board_table() -> pd.DataFrame:
    fits = [FitRecord({ALL: _history(5, 5, 5)}, 2.0)]
    rows = [r for seed in (0, 1) for r in training_rows("detector", SPEC, "d", seed, fits, curves=seed == 0)]
    rows += [{"kind": "detector", "model": "deep", "dataset": "d", "seed": s, "metric": "vus_pr", "protocol": FREE,
              "breakdown": ALL, "value": 0.5} for s in (0, 1)]
    rows += [{"kind": "detector", "model": "deep", "dataset": "d", "seed": s, "metric": "f1", "protocol": OWN,
              "breakdown": "group=cpu", "value": 0.25} for s in (0, 1)]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_training_rows_are_info_never_gated():
    table = _board_table()
    gated = gated_scores(table)
    assert set(gated["metric"]) == {"vus_pr"}


def test_board_shows_epochs_fit_time_the_cap_flag_training_table_and_loss_curves():
    table = _board_table()
    shown = shown_headline(table, "d", "detector", [])
    assert shown is not None
    assert shown.loc[0, "epochs_run [training]"] == f"5.000 ± — ({STILL_IMPROVING})"
    assert shown.loc[0, "fit_time_s [training]"] == "2.000 ± —"
    frame = training_frame(table, "d")
    assert list(frame.columns[:4]) == ["kind", "model", "epochs_run", "best_epoch"] and frame.loc[0, "still_improving"] == "1.000 ± —"
    curves = loss_curves(table)[("d", "deep")]
    assert curves[ALL][0] == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.2]) and len(curves[ALL][1]) == 5
    pngs = figures(table)
    assert pngs["loss-deep-d.png"].startswith(b"\x89PNG")
    text = markdown(table)
    assert "### Training" in text and "plots/loss-deep-d.png" in text and STILL_IMPROVING in text
    assert group_frame(table, "d").to_dict("records") == [{"model": "deep", "group": "cpu", "f1 [own]": "0.250 ± —"}]


@pytest.fixture(scope="module")
def evaluated():
    data = multiservice.make(seed=4, train_steps=300, steps=700,
                             faults=((400, 430, "cpu", "cart", "cpu", 3.0), (550, 580, "memory_leak", "gateway", "memory", 2.0)))
    tiny = {"max_epochs": 2, "hidden_units": 4, "latent_units": 2, "window": 6, "progress_after_s": 1e9}
    return run_evaluation(data, [MethodSpec("lstm_ae", tiny, (0, 1)), MethodSpec("zscore")], [],
                          metrics=["f1", "alarm_rate", "vus_pr"], floors=False)


def test_evaluation_adds_training_rows_for_deep_detectors_only(evaluated):
    table = evaluated.table
    training = table[table["protocol"] == TRAINING]
    assert set(training["model"].str.split("(").str[0]) == {"lstm_ae"}
    epochs = training[(training["metric"] == "epochs_run") & (training["breakdown"] == ALL)]
    assert sorted(epochs["seed"]) == [0, 1] and set(epochs["value"]) == {2.0}  # patience 10 > the cap of 2
    groups = {b for b in training["breakdown"] if b.startswith("group=") and "epoch=" not in b}
    assert groups == {"group=cpu", "group=memory", "group=network", "group=application"}
    curves = training[training["breakdown"].str.contains("epoch=")]
    assert set(curves["seed"]) == {0}  # loss curves of the first seed only


def test_lstm_ae_groups_are_scored_each_at_its_own_threshold(evaluated):
    table = evaluated.table
    rows = table[table["breakdown"].str.startswith("group=") & (table["protocol"] != TRAINING)]
    assert set(rows["breakdown"]) == {"group=cpu", "group=memory", "group=network", "group=application"}
    assert set(zip(rows["metric"], rows["protocol"])) == {("f1", OWN), ("alarm_rate", OWN), ("vus_pr", FREE)}
    assert np.isfinite(rows["value"]).all()
    (timeline,) = [t for t in evaluated.timelines if t.model.startswith("lstm_ae")]
    assert timeline.figures["detection-groups"].startswith(b"\x89PNG")


@pytest.mark.parametrize("protocol", [None, "telesto"])
def test_classifiers_report_how_they_trained_over_their_folds(protocol):
    from faultlab.harness.evaluation.protocol import ProtocolOptions
    from tests import telesto_data

    data = telesto_data.make(seed=1, repetitions=3)
    options = ProtocolOptions(window_steps=10, stride=3) if protocol else None
    spec = MethodSpec("gcn", {"max_epochs": 2, "progress_after_s": 1e9})
    table = run_evaluation(data, [], [spec], metrics=["accuracy"], window_steps=10, folds=3, protocol=options).table
    training = table[table["protocol"] == TRAINING]
    got = {(m, b): v for m, b, v in zip(training["metric"], training["breakdown"], training["value"])}
    assert got[("epochs_run", ALL)] == 2.0 and got[("epoch_cap", ALL)] == 2.0 and got[("fit_time_s", ALL)] > 0
    assert ("train_loss", "epoch=2") in got and ("val_loss", "epoch=2") in got  # validation: the fold, or the last windows
    assert not any(b.startswith("group=") for b in training["breakdown"])
