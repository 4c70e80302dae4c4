#!/usr/bin/env bash
# Lints and scans everything under deploy/ plus the Dockerfile, offline.
#   deploy/check.sh [VENV_BIN_DIR]
# Tools: cfn-lint, checkov, hadolint (from VENV_BIN_DIR if given, else PATH).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ $# -ge 1 && -n "$1" ]]; then
  PATH="$(cd "$1" && pwd):$PATH"
fi
export PATH

fail=0
step() { printf '\n== %s\n' "$*"; }

for tool in cfn-lint checkov hadolint; do
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

# checkov imports `hcl2` from its pinned fork bc-python-hcl2; python-hcl2 (used by the
# tests) installs a package of the same name. If the venv's copy is the wrong one, put the
# fork on PYTHONPATH for checkov only.
checkov_python="$(head -n1 "$(command -v checkov)" | sed -e 's/^#!//' -e 's/ .*//')"
if ! "$checkov_python" -c 'from hcl2 import START_LINE' 2>/dev/null; then
  shim="${CHECKOV_HCL2_SHIM:-${XDG_CACHE_HOME:-$HOME/.cache}/wishlist-image-cdn/bc-python-hcl2-0.4.3}"
  if [[ ! -f "$shim/hcl2/__init__.py" ]]; then
    echo "checkov needs bc-python-hcl2; installing it into $shim (PyPI, once)" >&2
    installed=0
    for installer in "uv pip" "pip3" "pip" "python3 -m pip"; do
      # shellcheck disable=SC2086  # the installer is a command plus subcommand
      if $installer --version >/dev/null 2>&1 &&
        $installer install --quiet --no-deps --target "$shim" bc-python-hcl2==0.4.3; then
        installed=1
        break
      fi
    done
    [[ $installed -eq 1 ]] || { echo "could not install bc-python-hcl2 for checkov" >&2; exit 2; }
  fi
  export PYTHONPATH="$shim${PYTHONPATH:+:$PYTHONPATH}"
fi

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
