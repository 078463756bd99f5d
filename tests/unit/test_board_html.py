"""The board's static HTML, opened in headless Chromium: every page renders its tables and dataset
names, the links between the index and the dataset pages resolve to files, and nothing is fetched.

Chromium comes with scripts/setup.sh (a system package), which CI runs first: a missing browser
fails this test rather than skipping it, so a board nobody can open never passes unnoticed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest

from faultlab.harness.evaluation import ALL, COLUMNS, FREE, OWN, Evaluation, ScoreTimeline
from faultlab.harness.reports.board import write_board

BROWSERS = ("chromium", "chromium-browser")
DATASETS = ("alpha", "beta", "gamma")
MODELS = {"sharp": 0.9, "blunt": 0.6, "random": 0.4}  # VUS-PR by model; random is a floor


def browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.fail("chromium is not installed: scripts/setup.sh installs it (apt-get install chromium)")
    return found


def dump_dom(page: Path, profile: Path) -> str:
    """The page's DOM after Chromium parsed and laid it out (what a reader's browser shows)."""
    done = subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "<body" in done.stdout, done.stderr[-3000:]
    return done.stdout


def table() -> pd.DataFrame:
    rows = [{"kind": "detector", "model": model, "dataset": dataset, "seed": seed, "metric": metric, "protocol": protocol,
             "breakdown": ALL, "value": value - d / 50 + seed / 100}
            for d, dataset in enumerate(DATASETS) for model, value in MODELS.items() for seed in (0, 1)
            for metric, protocol in (("vus_pr", FREE), ("f1", OWN))]
    return pd.DataFrame(rows, columns=COLUMNS)


def timeline(dataset: str) -> ScoreTimeline:
    index = pd.date_range("2026-01-01", periods=120, freq="5s", tz="UTC")
    anomaly = np.zeros(120, dtype=np.int8)
    anomaly[50:70] = 1
    scores = np.where(anomaly > 0, 6.0, 1.0)
    return ScoreTimeline(dataset, "sharp", 0, index, scores, 2.6e36, anomaly, np.where(anomaly > 0, "cpu", ""))


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("board")
    evaluation = Evaluation(table=table(), timelines=[timeline(d) for d in DATASETS])
    write_board(evaluation, out, {"command": "faultlab bench --dataset alpha --dataset beta --dataset gamma",
                                  "commit": "abc1234", "generated": "2026-12-05 00:00 UTC"})
    return out


def links(dom: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]*)"', dom)


def assert_local_links_resolve(dom: str, page: Path) -> None:
    """Every link is an inlined image or a file of the board; no http(s) request, no dead link."""
    for target in links(dom):
        assert not re.match(r"^[a-z]+://|^//", target), f"{page.name} fetches {target}"
        if target.startswith("data:"):
            continue
        assert (page.parent / unquote(target.split("#")[0])).resolve().is_file(), f"{page}: dead link {target}"


def test_the_index_renders_every_dataset_and_the_diagram(board, tmp_path):
    page = board / "index.html"
    dom = dump_dom(page, tmp_path / "profile")
    for dataset in DATASETS:
        assert f"<h2>{dataset}</h2>" in dom and f'href="{dataset}/leaderboard.html"' in dom
    assert re.search(r"<td>sharp</td>\s*<td>0\.\d+ ± ", dom) and "<td>random (floor)</td>" in dom
    assert "Critical difference over datasets" in dom and "Friedman test over 3 methods x 3 datasets" in dom
    assert re.search(r'<img alt="Critical-difference diagram" src="data:image/png;base64,', dom)
    assert_local_links_resolve(dom, page)


@pytest.mark.parametrize("dataset", DATASETS)
def test_each_dataset_page_renders_and_links_back(board, tmp_path, dataset):
    page = board / dataset / "leaderboard.html"
    dom = dump_dom(page, tmp_path / "profile")
    assert "<h2>Detectors</h2>" in dom and f"Datasets: {dataset}." in dom
    for model in ("sharp", "blunt", "random (floor)"):
        assert f"<td>{model}</td>" in dom
    assert 'href="../index.html"' in dom
    assert re.search(r'<img alt="timelines-[^"]+" src="data:image/png;base64,', dom)
    assert_local_links_resolve(dom, page)


def test_the_markdown_links_resolve_too(board):
    for page in [board / "index.md", *(board / d / "leaderboard.md" for d in DATASETS)]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            assert (page.parent / unquote(target)).resolve().is_file(), f"{page}: dead link {target}"
