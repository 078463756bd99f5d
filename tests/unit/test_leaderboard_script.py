"""scripts/leaderboard.py (regenerates docs/leaderboard.md): fast-mode parameters and the page."""

from __future__ import annotations

import pytest
from faultlab.detectors import DETECTORS
from faultlab.harness.datasets.index import resolve_dataset
from faultlab.harness.evaluation import run_evaluation
from tests.repofiles import import_file


@pytest.fixture(scope="module")
def script():
    return import_file("scripts/leaderboard.py", "leaderboard_script")


def test_fast_mode_shrinks_only_declared_parameters(script):
    assert script.fast_params(DETECTORS.get("iforest").Params) == {"n_estimators": 30}
    assert script.fast_params(DETECTORS.get("static_threshold").Params) == {}
    names = [s["name"] for s in script.method_specs(DETECTORS, fast=True)]
    assert "iforest" in names and "always_alarm" not in names and "random" not in names  # floors come once


def test_a_failing_method_is_reported_not_fatal(script):
    ev, error = script.evaluate_one(resolve_dataset("synthetic"), "detector", {"name": "iforest", "params": {"nope": 1}}, [0])
    assert ev is None and "unknown parameter 'nope'" in error


def test_page_starts_with_the_command_and_lists_failures(script, tmp_path):
    ev = run_evaluation(resolve_dataset("synthetic"), ["static_threshold"], [], [0], ["f1", "vus_pr"])
    (tmp_path / "leaderboard").mkdir()
    plot = tmp_path / "leaderboard" / "timelines-synthetic.png"
    plot.write_bytes(b"png")
    text = script.page(ev, [("synthetic", "broken", "ValueError: x")], "python scripts/leaderboard.py --fast", True,
                       {"timelines-synthetic.png": plot}, tmp_path)
    assert text.startswith("# Leaderboard\n\nRegenerate with:\n\n```bash\npython scripts/leaderboard.py --fast\n```")
    assert "fast mode" in text and "always_alarm (floor)" in text and "VUS buffer" in text
    assert "![timelines-synthetic.png](leaderboard/timelines-synthetic.png)" in text
    assert "| synthetic | broken | ValueError: x |" in text


def test_method_params_override_a_methods_configuration(script):
    specs = {s["name"]: s["params"] for s in script.method_specs(DETECTORS, fast=True, overrides={"iforest": {"n_estimators": 7}})}
    assert specs["iforest"] == {"n_estimators": 7}


def test_parallel_mode_strips_its_own_options_and_indexes_each_dataset(script, tmp_path):
    assert script._strip(["--datasets", "a,b", "--jobs=2", "--fast", "--out", "x", "--seeds", "0"],
                         ("--datasets", "--out", "--jobs")) == ["--fast", "--seeds", "0"]
    from faultlab.harness.reports.scores_file import write_scores

    ev = run_evaluation(resolve_dataset("synthetic"), ["static_threshold"], [], [0], ["f1", "vus_pr", "roc_auc", "alarm_rate"])
    write_scores(ev.table, tmp_path / "leaderboard" / "synthetic" / "scores.json")
    (tmp_path / "leaderboard" / "synthetic" / "leaderboard.md").write_text("# page")
    text = script.index_page(["synthetic", "gone"], {"synthetic": 0, "gone": 1}, "cmd --jobs 2", tmp_path)
    assert "```bash\ncmd --jobs 2\n```" in text and "[Full page](leaderboard/synthetic/leaderboard.md)" in text
    assert "| static_threshold |" in text and "| always_alarm |" in text and "| random |" in text
    assert "## gone" in text and "Could not be generated (exit 1)" in text


def test_the_regenerate_command_can_be_pasted_into_a_shell(script):
    import shlex

    params = '{"telesto": {"max_epochs": 6}}'
    argv = ["--datasets", "bench-mixed", "--out", str(script.ROOT / "docs" / "leaderboard" / "bench-mixed"),
            "--method-params", params]
    command = script.regenerate_command(argv)
    assert "--out docs/leaderboard/bench-mixed" in command
    assert shlex.split(command)[2:] == ["--datasets", "bench-mixed", "--out", "docs/leaderboard/bench-mixed",
                                        "--method-params", params]
    assert script.regenerate_command(["--out", "/elsewhere/x"]).endswith("--out /elsewhere/x")
