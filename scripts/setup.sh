#!/usr/bin/env bash
# Create .venv and install the project with its dev extras. Idempotent; used by
# .ci/run and scripts/demo.sh. Needs only python3 (>= 3.11) with venv and pip.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
extras=${INSTALL_EXTRAS:-dev}
VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install --quiet -e ".[$extras]"
