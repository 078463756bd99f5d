"""The radiography (seed 003 sec. III-C): KDE points are the flagged steps of one group, drawn as a PNG."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from faultlab.detectors import make_detector
from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.reports.radiography import radiography, radiography_png, service_series, write_radiography
from tests import multiservice

FAST = {"max_epochs": 4, "hidden_units": 8, "latent_units": 4, "progress_after_s": 1e9}


@pytest.fixture(scope="module")
def data():
    return multiservice.make(seed=5)


def test_points_are_the_steps_above_the_group_threshold(data):
    det = make_detector("lstm_ae", FAST).fit(data.train())
    test = data.test()
    r = radiography(det, test, "cpu", "request_rate")
    g = det.groups_.index("cpu")
    mse = det.group_mse(test)[:, g]
    assert r.only_anomalous
    np.testing.assert_array_equal(r.mse, mse[mse > det.group_threshold_[g]])
    assert len(r.service_values) == len(r.mse)
    assert radiography_png(r).startswith(b"\x89PNG")
    with pytest.raises(BadInput, match="groups"):
        radiography(det, test, "gpu", "request_rate")


def test_service_metric_is_a_column_or_a_sum_over_services(data):
    one = service_series(data, "cart:request_rate")
    total = service_series(data, "request_rate")
    assert np.all(total > one)
    with pytest.raises(BadInput, match="neither a column nor a metric"):
        service_series(data, "failed_calls")


def test_write_and_command(data, tmp_path):
    out = write_radiography(data, "network", "request_rate", tmp_path / "r.png", FAST)
    assert out.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(BadInput, match="not a metric group"):
        write_radiography(data, "gpu", "request_rate", tmp_path / "x.png", FAST)
    folder = data.save(tmp_path / "run" / "dataset").parent
    assert main(["radiography", str(folder), "--group", "cpu", "--service-metric", "request_rate",
                 "--params", '{"max_epochs": 2, "hidden_units": 4, "latent_units": 2}']) == 0
    assert (folder / "plots" / "radiography-cpu.png").exists()
    assert main(["radiography", str(folder), "--group", "cpu", "--params", "[1]"]) == 2


def test_leaderboard_embeds_the_radiographies_when_lstm_ae_runs(data, tmp_path):
    from faultlab.harness.evaluation.grid import run_evaluation
    from faultlab.harness.evaluation.table import MethodSpec
    from faultlab.harness.reports.leaderboard import write_reports

    frame = data.metrics.copy()
    for svc in multiservice.SERVICES:  # a failed-requests series, as the testbed records it
        frame[f"{svc}:error_rate"] = data.labels["anomaly"].to_numpy() * 2.0
    cols = data.meta["columns"] + [
        {"name": f"{s}:error_rate", "service": s, "metric": "error_rate", "group": "application", "kind": "counter", "unit": ""}
        for s in multiservice.SERVICES
    ]
    with_errors = replace(data, metrics=frame, meta={**data.meta, "columns": cols})
    result = run_evaluation(with_errors, detectors=[MethodSpec("lstm_ae", FAST), MethodSpec("zscore")], classifiers=[],
                            metrics=["roc_auc"], floors=False)
    paths = write_reports(result, tmp_path / "out")
    pngs = sorted(p.name for p in paths["plots"].glob("radiography-*.png"))
    assert len(pngs) == 4 and all("lstm_ae" in p for p in pngs)  # one per group, none for zscore
    page = paths["html"].read_text()
    assert "<h3>Radiographies</h3>" in page and page.count('alt="radiography-') == 4
