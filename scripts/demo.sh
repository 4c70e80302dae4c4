#!/usr/bin/env bash
# Set up (first run only) and start the local demo: moto's S3 on loopback, the local edge
# (Varnish + hitch, from Debian), the resolver and the wishlist API with seeded items.
# No AWS account needed. Ctrl-C stops it all. Arguments go to `wishlist-dev demo`
# (--port, --fresh, --help).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null 2>&1 || { echo "demo: needs python3 (3.11+): apt-get install -y python3 python3-venv" >&2; exit 2; }
bash scripts/system_packages.sh demo varnish:/usr/sbin/varnishd hitch:/usr/sbin/hitch
INSTALL_GROUPS=none bash scripts/setup.sh
exec .venv/bin/wishlist-dev demo "$@"
