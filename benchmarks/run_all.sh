#!/usr/bin/env bash
# Run every benchmark; each prints ratios against a baseline measured in the same run.
#   bash benchmarks/run_all.sh            (quick sizes)
#   FULL=1 bash benchmarks/run_all.sh     (the sizes quoted in the README)
# GoAccess, the baseline of the log report, comes from Debian: apt-get install goaccess.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
py=.venv/bin/python
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m), $($py --version)"
if [ "${FULL:-0}" = 1 ]; then lines=1000000; calls=6000; else lines=200000; calls=3000; fi
echo; echo "## resolver vs echo RPC"; $py benchmarks/bench_resolver.py --calls "$calls"
echo; echo "## aio vs sync grpc server, separate client processes"; $py benchmarks/bench_server_kinds.py
echo; echo "## presigned fallback vs botocore"; $py benchmarks/bench_presign.py
echo; echo "## access-log report vs GoAccess"; $py benchmarks/bench_access_logs.py --lines "$lines"
if [ -f benchmarks/bench_wishlist_api.py ]; then
  echo; echo "## wishlist API page of 50, images on vs off"; $py benchmarks/bench_wishlist_api.py
fi
