#!/usr/bin/env bash
# Set up (first run only) and start the local demo: moto's S3 on loopback, the resolver
# and the wishlist API with seeded items. No AWS account needed. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
INSTALL_GROUPS=none bash scripts/setup.sh
exec .venv/bin/wishlist-dev demo "$@"
