#!/usr/bin/env bash
# Lints and scans everything under deploy/ plus the root Dockerfile (one target per deployable), offline.
#   deploy/check.sh [VENV_BIN_DIR]
# Tools: cfn-lint, hadolint (from VENV_BIN_DIR if given, else PATH); checkov in its own venv;
# terraform (fmt, init, validate, test with a mocked provider) when it is installed.
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

# Terraform: the engine, not only linters. `terraform test` plans the module with a mocked aws
# provider (deploy/terraform/tests/*.tftest.hcl); only the provider schema is needed, taken from a
# local filesystem mirror (TF_PLUGIN_MIRROR, else the first folder holding
# registry.terraform.io/hashicorp/aws). Runs on a copy so deploy/ gets no .terraform/ or lock file.
# This is the one place CI runs these checks (no pytest duplicates them).
terraform_checks() {
  local mirror="${TF_PLUGIN_MIRROR:-}" work rc=0
  if [[ -z "$mirror" ]]; then
    for candidate in /opt/tf-plugins /usr/share/terraform/plugins "$HOME/.terraform.d/plugins"; do
      if [[ -d "$candidate/registry.terraform.io/hashicorp/aws" ]]; then mirror=$candidate; break; fi
    done
  fi
  if [[ -z "$mirror" ]]; then
    echo "SKIPPED: terraform init/validate/test - no provider mirror with registry.terraform.io/hashicorp/aws (set TF_PLUGIN_MIRROR)" >&2
    return 0
  fi
  work="$(mktemp -d)"
  printf 'provider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n' "$mirror" >"$work/cli.tfrc"
  mkdir "$work/module"
  cp deploy/terraform/*.tf "$work/module/"
  cp -r deploy/terraform/tests "$work/module/tests"
  (
    export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
    cd "$work/module"
    terraform init -backend=false -input=false -no-color >"$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
    terraform validate -no-color
    terraform test -no-color
    # The README's adoption import blocks parse and validate (that every address exists and
    # every bucket setting is listed is tests/deploy/test_adoption.py's job: validate skips it).
    cp "$root/deploy/terraform/imports.tf.example" imports.tf
    terraform validate -no-color >/dev/null || { echo "imports.tf.example does not validate" >&2; terraform validate -no-color; exit 1; }
    rm imports.tf
  ) || rc=1
  rm -rf "$work"
  return $rc
}

if command -v terraform >/dev/null; then
  step "terraform fmt -check deploy/terraform"
  TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -diff -recursive deploy/terraform || fail=1
  step "terraform init -backend=false, validate, test (mock provider)"
  terraform_checks || fail=1
else
  step "terraform"
  echo "**********************************************************************" >&2
  echo "SKIPPED: terraform fmt/validate/test - terraform is not installed here." >&2
  echo "The Terraform module was NOT planned; only python-hcl2 tests and checkov ran." >&2
  echo "**********************************************************************" >&2
fi

# checkov must not phone home: no policy download, no guideline/ID mapping, no SCA scan.
export BC_SKIP_MAPPING=TRUE
export CHECKOV_SKIP_DOWNLOAD=TRUE
export CKV_NO_GUIDE=TRUE
export ENABLE_SCA_PACKAGE_SCAN=FALSE
export PYTHONWARNINGS=ignore

# checkov pins its own fork of hcl2 (bc-python-hcl2), which clashes with python-hcl2 used
# by the tests (both install a package named `hcl2`), so checkov gets its own venv, installed
# from deploy/checkov-requirements.txt (every version pinned, with hashes) and reinstalled
# when that file changes.
checkov_env="${CHECKOV_ENV:-$root/.local/checkov}"
pins="$root/deploy/checkov-requirements.txt"
want="$(sha256sum "$pins" | cut -d' ' -f1)"
if [[ ! -x "$checkov_env/bin/checkov" || "$(cat "$checkov_env/.pins" 2>/dev/null)" != "$want" ]]; then
  echo "installing checkov into $checkov_env from deploy/checkov-requirements.txt" >&2
  rm -rf "$checkov_env"
  if command -v uv >/dev/null; then
    uv venv --quiet --python "${PYTHON:-python3}" "$checkov_env"
    VIRTUAL_ENV="$checkov_env" uv pip install --quiet --require-hashes -r "$pins"
  else
    python3 -m venv "$checkov_env"
    "$checkov_env/bin/python" -m pip install --quiet --require-hashes -r "$pins"
  fi
  echo "$want" > "$checkov_env/.pins"
fi
checkov() { "$checkov_env/bin/checkov" --quiet --compact --skip-download "$@"; }

# One run per framework and folder: given several --directory targets, checkov scans each
# under every framework and prints the same results several times.
step "checkov cloudformation"
checkov --framework cloudformation --directory deploy/cloudformation || fail=1
step "checkov terraform"
# terraform test files (*.tftest.hcl) are not modules; checkov's HCL parser rejects them.
checkov --framework terraform --skip-path 'deploy/terraform/tests' \
  --directory deploy/terraform || fail=1
step "checkov kubernetes"
checkov --framework kubernetes --directory deploy/kubernetes || fail=1
step "checkov Dockerfile"
checkov --framework dockerfile --file Dockerfile || fail=1

if [[ $fail -ne 0 ]]; then
  echo "deploy checks FAILED" >&2
  exit 1
fi
echo "deploy checks passed"
