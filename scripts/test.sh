#!/usr/bin/env bash
# Set up, then run every test: unit tests (fast, no Docker) first, then the integration
# tests (they install/start Docker if needed, build the images and run the stack).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest tests/unit -q "$@"
.venv/bin/python -m pytest tests/integration -q -m "integration or prometheus" "$@"
