#!/usr/bin/env bash
# Install what Faultlab needs on a fresh Debian/Ubuntu machine, idempotently:
# system packages (as root), then a virtual environment in .venv with the project.
# The Docker engine itself is installed/started on demand by `faultlab` (testbed/engine.py).
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the board's HTML pages are checked in a headless browser (tests/unit/test_board_html.py).
SYSTEM_PACKAGES=(docker.io debootstrap prometheus iptables iproute2 ca-certificates chromium)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "setup: not root on Debian/Ubuntu; make sure these are installed: ${SYSTEM_PACKAGES[*]}" >&2
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PYTHON" -m venv .venv
fi
# pip, quietly: keep errors, drop the notes about configured-but-absent local indexes.
pip_install() {
  .venv/bin/python -m pip install -q "$@" 2>&1 | { grep -v "is neither a file nor a directory" || true; }
}
# torch first and pinned: an unpinned torch pulls several GB of CUDA packages.
pip_install "torch==2.13.0"
pip_install -e ".[test]"   # the project and its dependencies (scikit-posthocs for the board's diagram among them)
# Reference implementations our metrics are checked against (test-only; they pin numpy<2,
# which we do not want, so they come without their dependencies).
pip_install --no-deps tsb-ad prts
# Optional extras: PyOD's detectors (pyod:*) and the Dask bench grid (bench --workers/--scheduler).
pip_install -e ".[pyod,dask]"
# Optional extra: TSB-AD's models (tsbad:*), their own dependencies (tsb-ad itself came above, --no-deps).
pip_install -e ".[tsbad]"
# Optional extra: RCAEval's root-cause methods (rcaeval:*); --no-deps keeps its huge "default" extra out.
pip_install --no-deps rcaeval
pip_install causal-learn pingouin scikit-network tigramite gcastle
echo "setup: ready (.venv/bin/faultlab)" >&2
