"""Access-log report vs GoAccess on the same generated CloudFront log, in one run.

    python benchmarks/bench_access_logs.py [--lines 1000000] [--keep DIR]

Generates a gzip standard log (synth.py), runs the full report
(`python -m image_resolver.accesslogs.cli report FILE --json`) as a subprocess,
timing it and reading its peak RSS from RUSAGE_CHILDREN, then runs GoAccess 1.7
(`zcat FILE | goaccess - --log-format=CLOUDFRONT`) if installed, and prints
lines/s for both and the ratio. Never fails because GoAccess is missing.
Install it with: apt-get install -y goaccess
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wishlist_dev import synth_logs as synth

GOAL_LINES_PER_S = 500_000
GOAL_RSS_MB = 300


def _child_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux


def run_report(log: Path) -> tuple[float, float, dict[str, object]]:
    """Seconds, peak RSS (MB) of the child, and the parsed JSON report."""
    before = _child_maxrss_mb()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "image_resolver.accesslogs.cli", "report", str(log), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - start
    rss = _child_maxrss_mb()
    if rss <= before:
        print(f"  note: RSS of this child did not exceed an earlier child's ({before:.0f} MB)")
    report: dict[str, object] = json.loads(proc.stdout)
    return elapsed, rss, report


_WRAPPER = """
import resource, subprocess, sys
subprocess.run(sys.argv[1], shell=True, check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_goaccess(log: Path, out_dir: Path) -> tuple[float, float, int] | None:
    """Seconds, peak RSS (MB) and valid-request count of GoAccess on the same log, or None.

    GoAccess runs under a small Python wrapper so its RSS is measured on its own,
    not mixed with the report's (RUSAGE_CHILDREN is a maximum over all children).
    """
    goaccess = shutil.which("goaccess")
    if goaccess is None:
        return None
    out = out_dir / "goaccess.json"
    pipeline = (
        f"zcat {shlex.quote(str(log))} | {goaccess} - --log-format=CLOUDFRONT"
        f" --no-progress -o {shlex.quote(str(out))}"
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, pipeline], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - start
    valid = int(json.loads(out.read_text())["general"]["valid_requests"])
    return elapsed, int(proc.stdout.strip()) / 1024, valid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--keep", type=Path, help="write the log here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-access-logs-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        log = work / f"E2EXAMPLE0DIST.2026-01-28-00.{args.lines}.gz"
        if not log.exists():
            t0 = time.perf_counter()
            synth.write_gzip(log, synth.render(synth.generate(args.lines, seed=args.seed)))
            print(f"generated {args.lines:,} lines in {time.perf_counter() - t0:.1f} s: {log}")
        size_mb = log.stat().st_size / 1e6
        print(f"log: {size_mb:.1f} MB gzip")

        # The report runs first so its RSS is the children's maximum at that point.
        secs, rss, report = run_report(log)
        summary = report["summary"]
        assert isinstance(summary, dict)
        rate = args.lines / secs
        print(
            f"report (DuckDB): {secs:.2f} s, {rate:,.0f} lines/s, peak RSS {rss:.0f} MB"
            f"  [goal >= {GOAL_LINES_PER_S:,} lines/s, <= {GOAL_RSS_MB} MB]"
        )
        print(
            f"  requests {summary['requests']:,}, hit ratio {summary['hit_ratio']:.3f}, "
            f"p95 {summary['time_taken_p95']:.3f} s"
        )

        ga = run_goaccess(log, work)
        if ga is None:
            print("goaccess: skipped (not installed; apt-get install -y goaccess)")
            return 0
        ga_secs, ga_rss, ga_valid = ga
        ga_rate = args.lines / ga_secs
        print(
            f"goaccess --log-format=CLOUDFRONT: {ga_secs:.2f} s, {ga_rate:,.0f} lines/s, "
            f"peak RSS {ga_rss:.0f} MB, valid requests {ga_valid:,} (no cache-hit ratio)"
        )
        print(f"ratio: report is {rate / ga_rate:.1f}x GoAccess lines/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
