#!/usr/bin/env bash
# Set up, then run the quickstart scenario end to end (about 9 minutes of load and faults,
# plus the first image build): testbed up, load, four faults (CPU, leak, packet loss, kill), collection,
# detectors scored, leaderboard printed, testbed down. The run folder's path is printed last.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/faultlab run scenarios/quickstart.yaml "$@"
