#!/usr/bin/env bash
# Lint protos/ with buf (npm @bufbuild/buf), offline: google/rpc/*.proto come from the
# googleapis-common-protos wheel of the Python environment given as $1 (default: .venv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${1:-"$here/../.venv/bin/python"}
tools=${BUF_TOOLS_DIR:-"$here/../.local/buf"}
if [ ! -x "$tools/node_modules/.bin/buf" ]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --silent --no-audit --no-fund @bufbuild/buf@1 >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
googleapis=$("$python" -c 'import google.rpc, os; print(os.path.dirname(os.path.dirname(list(google.rpc.__path__)[0])))')
mkdir -p "$work/contract" "$work/vendor/google/rpc"
cp -r "$here/wishlist" "$work/contract/"
cp "$googleapis"/google/rpc/status.proto "$work/vendor/google/rpc/"
cat > "$work/buf.yaml" <<YAML
version: v2
modules:
  - path: contract
    lint:
      use: [STANDARD]
  - path: vendor
    lint:
      use: [MINIMAL]
      ignore: [vendor/google]
YAML
cd "$work"
"$tools/node_modules/.bin/buf" lint
echo "buf lint: protos/ clean"
