"""The regression gate: diff rules by hand, the baseline file, JUnit XML, and the real CLI both ways."""

from __future__ import annotations

import json
import math
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from faultlab.errors import BadInput
from faultlab.harness.cli import main
from faultlab.harness.gate.check import (
    KEY,
    Baseline,
    compare_to_baseline,
    junit_xml,
    load_baseline,
    render_diff,
    unscored_methods,
)

CI_BASELINE = Path(__file__).resolve().parents[2] / "ci" / "baselines" / "synthetic.json"


def scores(*items: tuple[str, str, float]) -> pd.DataFrame:
    return pd.DataFrame([("detector", "m", metric, protocol, value) for metric, protocol, value in items],
                        columns=[*KEY, "value"])


def baseline(frame: pd.DataFrame, **kw) -> Baseline:
    return Baseline(dataset="d", detectors=[], classifiers=[], scores=frame, **kw)


def status(result, metric: str) -> str:
    return result.diff.set_index("metric").loc[metric, "status"]


def test_drop_beyond_tolerance_fails_within_passes():
    base = baseline(scores(("f1", "own", 0.80), ("roc_auc", "free", 0.90), ("pr_auc", "free", 0.50)), tolerance=0.05)
    now = scores(("f1", "own", 0.70), ("roc_auc", "free", 0.86), ("pr_auc", "free", 0.60))
    result = compare_to_baseline(now, base)
    assert status(result, "f1") == "regressed"  # -0.10 < -0.05
    assert status(result, "roc_auc") == "ok"  # -0.04 within 0.05
    assert status(result, "pr_auc") == "improved"
    assert not result.passed and len(result.failures) == 1
    assert result.diff.loc[0, "delta"] == pytest.approx(-0.10)  # failures sort first


def test_lower_is_better_metrics_regress_upwards_with_their_own_tolerance():
    base = baseline(scores(("mean_delay_s", "own", 10.0), ("false_alarms_per_h", "own", 4.0)),
                    tolerances={"mean_delay_s": 5.0, "false_alarms_per_h": 1.0})
    result = compare_to_baseline(scores(("mean_delay_s", "own", 14.0), ("false_alarms_per_h", "own", 5.5)), base)
    assert status(result, "mean_delay_s") == "ok"  # +4 s within 5 s
    assert status(result, "false_alarms_per_h") == "regressed"  # +1.5 > 1.0
    assert compare_to_baseline(scores(("mean_delay_s", "own", 2.0), ("false_alarms_per_h", "own", 4.0)), base).passed


def test_missing_undefined_and_new_scores():
    base = baseline(scores(("f1", "own", 0.8), ("recall", "own", 0.5), ("vus_pr", "free", math.nan)))
    now = scores(("recall", "own", math.nan), ("vus_pr", "free", 0.1), ("ac@1", "segments", 0.2))
    result = compare_to_baseline(now, base)
    assert status(result, "f1") == "missing"  # the method or metric disappeared
    assert status(result, "recall") == "missing"  # became undefined
    assert status(result, "vus_pr") == "ok"  # was undefined: nothing to hold it to
    assert status(result, "ac@1") == "new"  # not in the baseline: reported, never failing
    assert sorted(result.failures["metric"]) == ["f1", "recall"]


def test_a_method_without_a_headline_score_is_named_unscored():
    frame = pd.DataFrame([("detector", "dcrnn", "vus_pr", "free", math.nan), ("detector", "dcrnn", "alarm_rate", "own", 0.1),
                          ("detector", "zscore", "vus_pr", "free", 0.8), ("classifier", "gin", "macro_f1", "folds", math.nan),
                          ("classifier", "rf", "macro_f1", "folds", 1.0), ("detector", "lone", "f1", "own", math.nan)],
                         columns=[*KEY, "value"])
    assert unscored_methods(frame) == ["dcrnn", "gin"]  # "lone" gates no headline at all: not judged


def test_update_refuses_to_write_a_gate_that_cannot_hold_a_method(tmp_path, monkeypatch):
    import faultlab.harness.gate.check as check

    monkeypatch.setattr(check, "unscored_methods", lambda current: ["zscore"])
    path = tmp_path / "gate.json"
    with pytest.raises(BadInput, match="not written: no .*vus_pr.* for zscore"):
        check.run_check(path, "synthetic", update=True, detectors=["zscore"], classifiers=[], log=lambda line: None)
    assert not path.exists()


def test_diff_text_and_junit_report_name_the_failure():
    base = baseline(scores(("f1", "own", 0.8), ("roc_auc", "free", 0.9)))
    result = compare_to_baseline(scores(("f1", "own", 0.5), ("roc_auc", "free", 0.9)), base)
    text = render_diff(result)
    assert "regressed  detector  m      f1      own       0.8       0.5      -0.3" in text
    assert "FAILED (1 regressed, 0 missing, 0 improved, 0 new, 1 ok)" in text
    suite = ET.fromstring(junit_xml(result)).find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["f1 [own]"]


def test_baseline_file_errors_name_the_file_and_field(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        load_baseline(tmp_path / "none.json")
    bad = tmp_path / "b.json"
    bad.write_text(json.dumps({"dataset": "synthetic", "tolerance": "big"}))
    with pytest.raises(BadInput, match=r"b\.json: field 'tolerance'"):
        load_baseline(bad)
    bad.write_text(json.dumps({"dataset": "synthetic", "scores": [{"kind": "detector"}]}))
    with pytest.raises(BadInput, match=r"scores\[0\] needs fields"):
        load_baseline(bad)


def test_committed_ci_baseline_loads():
    base = load_baseline(CI_BASELINE)
    assert base.dataset == "synthetic"
    assert {s.name for s in base.detectors} == {"iforest", "static_threshold", "zscore"}
    assert len(base.scores) > 50


# ---- through the real CLI ------------------------------------------------------------------
@pytest.mark.parametrize("committed", ["synthetic.json", "quickstart-recorded.json"])
def test_cli_passes_against_the_committed_baseline(committed, tmp_path, capsys):
    """Both gates this repository keeps: synthetic data, and a run recorded on the real testbed."""
    junit = tmp_path / "check.xml"
    assert main(["check", "--baseline", str(CI_BASELINE.with_name(committed)), "--junit", str(junit)]) == 0
    assert "PASSED" in capsys.readouterr().out
    assert ET.parse(junit).getroot().find("testsuite").get("failures") == "0"


def _cheap_copy(tmp_path: Path) -> Path:
    """The committed baseline with only static_threshold and zscore (fast to re-score)."""
    doc = json.loads(CI_BASELINE.read_text())
    doc["detectors"] = [d for d in doc["detectors"] if d["name"] in ("static_threshold", "zscore")]
    doc["classifiers"] = []
    doc["scores"] = [s for s in doc["scores"] if s["model"] in ("static_threshold", "zscore")]
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(doc))
    return path


def test_cli_fails_against_a_raised_baseline_and_update_repairs_it(tmp_path, capsys):
    path = _cheap_copy(tmp_path)
    doc = json.loads(path.read_text())
    for s in doc["scores"]:
        if (s["model"], s["metric"], s["protocol"]) == ("zscore", "f1", "own-threshold"):
            s["value"] += 0.1
    path.write_text(json.dumps(doc))
    junit = tmp_path / "check.xml"
    assert main(["check", "--baseline", str(path), "--junit", str(junit)]) == 1
    err = capsys.readouterr().err
    assert "regressed  detector  zscore" in err and "FAILED (1 regressed" in err
    assert ET.parse(junit).getroot().find("testsuite").get("failures") == "1"
    # A looser tolerance on that metric lets it through; --update rewrites it on purpose.
    assert main(["check", "--baseline", str(path), "--metric-tolerance", "f1=0.2"]) == 0
    assert main(["check", "--baseline", str(path), "--update"]) == 0
    assert main(["check", "--baseline", str(path)]) == 0
    assert load_baseline(path).tolerances["mean_delay_s"] == 5.0  # tolerances survive an update


def test_cli_update_creates_a_baseline_for_chosen_methods(tmp_path, capsys):
    path = tmp_path / "new" / "baseline.json"
    args = ["check", "--baseline", str(path), "--update", "--detectors", "static_threshold", "--classifiers", "none"]
    assert main(args) == 0
    base = load_baseline(path)
    assert [s.name for s in base.detectors] == ["static_threshold"] and base.classifiers == []
    assert main(["check", "--baseline", str(path)]) == 0


def test_cli_bad_input_exits_2(tmp_path, capsys):
    assert main(["check", "--baseline", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: no such file" in capsys.readouterr().err
    shutil.copy(CI_BASELINE, tmp_path / "b.json")
    assert main(["check", "--baseline", str(tmp_path / "b.json"), "--detectors", "zscore"]) == 2
    assert "use them with --update" in capsys.readouterr().err


def test_a_changed_configuration_is_shown_as_changed_not_missing_and_new(tmp_path, capsys):
    path = _cheap_copy(tmp_path)
    junit = tmp_path / "check.xml"
    code = main(["check", "--baseline", str(path), "--param", "zscore.threshold=9", "--junit", str(junit), "--all"])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "configuration of zscore changed: baseline zscore -> now zscore(threshold=9)" in text
    assert " missing " not in text and " new " not in text.replace("0 new", "")
    assert "zscore(threshold=9)" in text and ("regressed" in text or "improved" in text)
    assert code in (0, 1)
    with pytest.raises(SystemExit):  # the parser: a --param needs METHOD.KEY=VALUE
        main(["check", "--baseline", str(path), "--param"])
    assert main(["check", "--baseline", str(path), "--param", "lstm_ae.max_epochs=2"]) == 2
    assert "does not hold" in capsys.readouterr().err


def test_an_interrupted_check_marks_what_did_not_run_and_writes_the_junit_file(tmp_path, monkeypatch):
    from faultlab.harness.evaluation import bench
    from faultlab.harness.gate import check

    real = bench.run_bench

    def interrupted(plan, executor=None, log=print, timeout_s=None):
        class StopAfterOne:
            def run(self, tasks, datasets, metrics, options):
                from faultlab.harness.evaluation.tasks import TaskOutcome, run_task

                yield TaskOutcome(tasks[0], run_task(datasets[tasks[0].dataset], tasks[0], metrics, options), 0.1)
                raise KeyboardInterrupt

            def close(self):
                pass

        return real(plan, StopAfterOne(), log=log, timeout_s=timeout_s)

    monkeypatch.setattr(bench, "run_bench", interrupted)
    result = check.run_check(_cheap_copy(tmp_path), log=lambda line: None)
    assert result.interrupted == "SIGINT (Ctrl-C)" and not result.passed
    statuses = result.diff.groupby("model")["status"].agg(set).to_dict()
    assert statuses["static_threshold"] == {"ok"} and statuses["zscore"] == {"not run"}
    xml = junit_xml(result)
    assert 'type="not run"' in xml
    assert "interrupted by SIGINT (Ctrl-C)" in render_diff(result)
