#!/usr/bin/env bash
# Run every benchmark; each prints ratios against a baseline measured in the same run.
#   bash benchmarks/run_all.sh            (quick sizes)
#   FULL=1 bash benchmarks/run_all.sh     (the sizes quoted in the README)
#   SMOKE=1 bash benchmarks/run_all.sh    (tiny sizes, seconds: CI checks every benchmark still
#                                          runs; ratios are printed but noise, and timing never
#                                          fails the run; only a crash does)
# GoAccess, the baseline of the log report, comes from Debian: apt-get install goaccess.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
py=.venv/bin/python
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m), $($py --version)"
if [ "${SMOKE:-0}" = 1 ]; then
  resolver=(--calls 100 --rounds 1); kinds=(--seconds 0.3 --clients 2 --rounds 1)
  presign=(--keys 300 --repeat 1); logs=(--lines 2000 --repeat 1); api=(--requests 30 --warmup 10)
  ab=(--rounds 1); replicas=(--seconds 0.5 --rounds 1 --clients 2)
elif [ "${FULL:-0}" = 1 ]; then
  resolver=(--calls 6000); kinds=(); presign=(); logs=(--lines 1000000); api=(); ab=()
  replicas=(--seconds 5 --rounds 5)
else
  resolver=(--calls 3000); kinds=(); presign=(); logs=(--lines 200000); api=(); ab=(--rounds 2)
  replicas=()
fi
echo; echo "## resolver vs echo RPC"; $py benchmarks/bench_resolver.py "${resolver[@]}"
echo; echo "## batch handler per key, this tree vs the revision before issue 16's changes"
$py benchmarks/ab_batch_handler.py "${ab[@]}"
echo; echo "## aio vs sync grpc server, separate client processes"
$py benchmarks/bench_server_kinds.py "${kinds[@]}"
echo; echo "## presigned fallback vs botocore"; $py benchmarks/bench_presign.py "${presign[@]}"
echo; echo "## access-log report vs gunzip and GoAccess, one file and many"; $py benchmarks/bench_access_logs.py "${logs[@]}"
echo; echo "## wishlist API page of 50, images on vs off"
$py benchmarks/bench_wishlist_api.py "${api[@]}"
echo; echo "## throughput with one and two resolver replicas, same client load"
$py benchmarks/bench_replicas.py "${replicas[@]}"
