"""Regenerate the CI gates on the shipped recordings, on purpose (then review and commit the diff).

    .venv/bin/python scripts/ci_baselines.py            # every gate
    .venv/bin/python scripts/ci_baselines.py bench-mixed

Each gate re-scores, with one seed, the baselines, the floors and every seed method at its
``ci_params`` (the configuration that trains in seconds; the full-size figures are in
docs/leaderboard.md), so `faultlab check --baseline ci/baselines/<name>.json` in CI catches a
regression in any of them without hours of training.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

# CI checks these gates with one CPU thread (scripts/test.sh) and torch's sums depend on the
# thread count: record them the same way. Set before torch is imported.
os.environ["OMP_NUM_THREADS"] = "1"

from faultlab.detectors import CLASSIFIERS, DETECTORS  # noqa: E402
from faultlab.harness.gate.check import run_check  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DETECTOR_NAMES = ["static_threshold", "zscore", "iforest", "lstm_ae", "attae", "gnn_lstm_vae", "dcrnn"]
CLASSIFIER_NAMES = ["random_forest", "telesto", "gcn", "gin"]
GATES = ("telesto-catalog", "bench-mixed", "ladder")


def spec(registry, name: str) -> dict:
    return {"name": name, "params": dict(registry.get(name).ci_params), "seeds": [0]}


def main(names: list[str]) -> None:
    for name in names or GATES:
        path = ROOT / "ci" / "baselines" / f"{name}.json"
        started = time.perf_counter()
        # --update: methods, params and scores as listed here; the file's tolerances are kept
        result = run_check(path, name, update=True,
                           detectors=[spec(DETECTORS, n) for n in DETECTOR_NAMES],
                           classifiers=[spec(CLASSIFIERS, n) for n in CLASSIFIER_NAMES])
        print(f"{path}: {len(result.diff)} scores in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
