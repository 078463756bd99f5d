"""The bench's board: per-dataset pages and an index for several datasets, the command on top, one ranking key."""

from __future__ import annotations

import shlex

from faultlab.harness.cli import main
from faultlab.harness.commands.bench import command_line
from faultlab.harness.datasets.synthetic import generate
from faultlab.harness.evaluation import run_evaluation
from faultlab.harness.reports.board import provenance, summary_frame, write_board


def test_several_datasets_get_a_page_each_and_an_index(tmp_path):
    data = [generate(seed=s, train_steps=150, faults_per_type=1, fault_steps=(10, 20), gap_steps=(10, 20), name=n)
            for s, n in ((1, "a"), (2, "b"))]
    evaluation = run_evaluation(data, ["zscore", "static_threshold"], [], [0, 1])
    header = provenance("faultlab bench --dataset a --dataset b", notes="Two small synthetic sets.")
    paths = write_board(evaluation, tmp_path, header)
    index = paths["markdown"].read_text()
    assert index.startswith("# Leaderboard\n\nRegenerate with:\n\n```bash\nfaultlab bench --dataset a --dataset b\n```")
    assert "Two small synthetic sets." in index and "ranked by VUS-PR" in index
    assert "[Full page](a/leaderboard.md)" in index and "[Full page](b/leaderboard.md)" in index
    for name in ("a", "b"):
        page = (tmp_path / name / "leaderboard.md").read_text()
        assert "faultlab bench --dataset a --dataset b" in page and f"## {name}" in page
        assert (tmp_path / name / "leaderboard.html").exists() and (tmp_path / name / "scores.json").exists()
    html = paths["html"].read_text()
    assert "<a href='a/leaderboard.html'>" in html and "always_alarm (floor)" in html


def test_the_index_ranks_by_vus_pr_floors_last_and_marks_deterministic_methods():
    data = generate(seed=3, train_steps=150, faults_per_type=1, fault_steps=(10, 20), gap_steps=(10, 20))
    table = run_evaluation([data], ["zscore", "static_threshold"], [], [0, 1]).table
    frame = summary_frame(table, data.name)
    models = frame["model"].tolist()
    assert models[-2:] == sorted(models[-2:]) or all(m.endswith("(floor)") for m in models[-2:])
    vus = [float(v.split(" ")[0]) for v in frame["VUS-PR"][:2]]
    assert vus == sorted(vus, reverse=True)
    assert frame.loc[frame["model"] == "zscore", "VUS-PR"].item().endswith("± —")  # same value with both seeds


def test_the_command_on_a_page_can_be_pasted_into_a_shell():
    argv = ["bench", "--dataset", "bench-mixed", "--param", 'telesto.hidden=[64, 32]', "--out", "docs/leaderboard"]
    line = command_line(argv)
    assert shlex.split(line) == ["faultlab", *argv]


def test_bench_with_two_datasets_writes_the_index(tmp_path, capsys):
    out = tmp_path / "board"
    assert main(["bench", "--dataset", "synthetic", "--dataset", "quickstart-recorded", "--detectors", "zscore",
                 "--classifiers", "none", "--out", str(out)]) == 0
    assert (out / "index.md").exists() and (out / "synthetic" / "leaderboard.md").exists()
    assert (out / "quickstart-recorded" / "leaderboard.html").exists()
