"""``faultlab watch`` without a Prometheus: bad input exits 2, an unreachable server exits 1, each with one line.

tests/integration/test_watch.py runs it against a real Prometheus (alarms, SIGTERM, Ctrl-C).
"""

from __future__ import annotations

from faultlab.detectors import make_detector
from faultlab.harness.cli import main
from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.live.models import save_model
from tests.prom_fixtures import free_port


def test_a_folder_without_a_model_is_bad_input(tmp_path, capsys):
    code = main(["watch", "--prometheus", "http://127.0.0.1:9", "--model", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "missing model.json" in err


def test_an_unreachable_prometheus_fails_at_once_with_one_line(tmp_path, capsys):
    data = generate(train_steps=60, faults_per_type=1)
    save_model(make_detector("zscore").fit(data.train()), tmp_path / "m", step_s=5.0)
    url = f"http://127.0.0.1:{free_port()}"
    code = main(["watch", "--prometheus", url, "--model", str(tmp_path / "m"), "--alerts", str(tmp_path / "a.jsonl")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[0].startswith("faultlab watch: zscore on " + url) and err[-1].startswith(f"faultlab: failed: Prometheus at {url}")
    assert len(err) == 2 and (tmp_path / "a.jsonl").exists()


def test_bad_numbers_are_bad_input(tmp_path, capsys):
    data = generate(train_steps=60, faults_per_type=1)
    save_model(make_detector("zscore").fit(data.train()), tmp_path / "m", step_s=5.0)
    assert main(["watch", "--prometheus", "http://x", "--model", str(tmp_path / "m"), "--max-steps", "0"]) == 2
    assert "--max-steps" in capsys.readouterr().err
