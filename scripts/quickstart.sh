#!/usr/bin/env bash
# Set up, then run the quickstart: bring the testbed up, drive load for a minute, print a
# health and metrics summary, and take everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/faultlab testbed smoke --load-s 60 "$@"
