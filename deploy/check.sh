#!/usr/bin/env bash
# Lints and scans everything under deploy/ plus the Dockerfile, offline.
#   deploy/check.sh [VENV_BIN_DIR]
# Tools: cfn-lint, hadolint (from VENV_BIN_DIR if given, else PATH); checkov in its own venv.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ $# -ge 1 && -n "$1" ]]; then
  PATH="$(cd "$1" && pwd):$PATH"
fi
export PATH

fail=0
step() { printf '\n== %s\n' "$*"; }

for tool in cfn-lint hadolint; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done

step "cfn-lint deploy/cloudformation"
cfn-lint deploy/cloudformation/*.yaml || fail=1

step "hadolint Dockerfile"
hadolint Dockerfile || fail=1

# checkov must not phone home: no policy download, no guideline/ID mapping, no SCA scan.
export BC_SKIP_MAPPING=TRUE
export CHECKOV_SKIP_DOWNLOAD=TRUE
export CKV_NO_GUIDE=TRUE
export ENABLE_SCA_PACKAGE_SCAN=FALSE
export PYTHONWARNINGS=ignore

# checkov pins its own fork of hcl2 (bc-python-hcl2), which clashes with python-hcl2 used
# by the tests (both install a package named `hcl2`), so checkov gets its own venv.
checkov_env="${CHECKOV_ENV:-$root/.local/checkov}"
if [[ ! -x "$checkov_env/bin/checkov" ]]; then
  echo "installing checkov into $checkov_env (PyPI, once)" >&2
  if command -v uv >/dev/null; then
    uv venv --quiet "$checkov_env"
    VIRTUAL_ENV="$checkov_env" uv pip install --quiet "checkov>=3.2,<4"
  else
    python3 -m venv "$checkov_env"
    "$checkov_env/bin/python" -m pip install --quiet "checkov>=3.2,<4"
  fi
fi
checkov() { "$checkov_env/bin/checkov" "$@"; }

step "checkov (cloudformation, terraform, kubernetes)"
checkov --quiet --compact --skip-download \
  --framework cloudformation terraform kubernetes \
  --directory deploy/cloudformation \
  --directory deploy/terraform \
  --directory deploy/kubernetes || fail=1

# Separate run: checkov drops --file targets when --directory targets are also given.
step "checkov (dockerfile)"
checkov --quiet --compact --skip-download --framework dockerfile --file Dockerfile || fail=1

if [[ $fail -ne 0 ]]; then
  echo "deploy checks FAILED" >&2
  exit 1
fi
echo "deploy checks passed"
