#!/usr/bin/env bash
# Set up, lint (ruff), then run every test: unit tests (fast, no Docker) first, then the regression gates on
# the shipped real recordings (every method at its CI configuration; reports/ gets their JUnit
# files), then the integration tests (they install/start Docker if needed, build the images and
# run the stack).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .   # the linter (config in pyproject.toml)
.venv/bin/python -m pytest tests/unit -q "$@"
mkdir -p reports
for gate in ci/baselines/telesto-catalog.json ci/baselines/bench-mixed.json ci/baselines/ladder.json; do
  # one thread: the baselines were recorded so, and torch's CPU sums depend on the thread count
  OMP_NUM_THREADS=1 .venv/bin/faultlab check --baseline "$gate" --junit "reports/$(basename "$gate" .json).xml"
done
.venv/bin/python -m pytest tests/integration -q -m "integration or prometheus" "$@"
