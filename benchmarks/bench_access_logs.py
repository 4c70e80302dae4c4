"""Access-log report vs gunzip and GoAccess, on one file, many small files and Parquet, in one run.

    python benchmarks/bench_access_logs.py [--lines 1000000] [--files 24] [--repeat 3] [--keep DIR]

Generates a gzip standard log (wishlist_dev.synth_logs) and splits the same lines
into ``--files`` gzip files (CloudFront delivers many small files per hour). Then,
each as a subprocess under a small wrapper that reads its own peak RSS:

* gunzip speed: ``zcat FILE | wc -l`` on the single file (the goal's baseline);
* the report on the single file, and on the folder of many files
  (``python -m image_ops.accesslogs.cli report PATH --json``);
* the report on the same requests as one Parquet file (standard logging v2's ``parquet``
  format, the templates' default), against the report on the gzip W3C file, and as
  ``--parquet-files`` Parquet files (a day of CloudFront delivery is hundreds of them:
  per-file costs show here);
* GoAccess 1.7 (``zcat FILE | goaccess - --log-format=CLOUDFRONT``) if installed
  (``apt-get install -y goaccess``), skipped if absent.

Times are the best of ``--repeat`` runs (the machine is shared); prints lines/s,
the ratios, and peak RSS. Never fails on timing or on a missed goal; only a crash fails.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from wishlist_dev import synth_logs as synth

GOAL_GUNZIP_RATIO = 1.0
GOAL_MANY_RATIO = 1.6
GOAL_PARQUET_RATIO = 5.0
GOAL_RSS_MB = 300

# Runs a shell pipeline with stdout to a file, then prints its wall time and the
# peak RSS (KiB) of its children: RUSAGE_CHILDREN is a maximum over all children,
# so each measured command gets a fresh wrapper and its RSS is its own; the time
# leaves out the wrapper's own start-up.
_WRAPPER = """
import resource, subprocess, sys, time
with open(sys.argv[2], "wb") as out:
    start = time.perf_counter()
    subprocess.run(sys.argv[1], shell=True, check=True, stdout=out, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@dataclass(frozen=True)
class Run:
    """Best wall time of the repeats, the highest peak RSS seen, and the last output."""

    seconds: float
    rss_mb: float
    output: str

    def rate(self, lines: int) -> float:
        return lines / self.seconds


def measure(pipeline: str, out: Path, repeat: int) -> Run:
    best, rss = float("inf"), 0.0
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, "-c", _WRAPPER, pipeline, str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed, max_kib = proc.stdout.split()
        best = min(best, float(elapsed))
        rss = max(rss, int(max_kib) / 1024)
    return Run(best, rss, out.read_text())


def report_pipeline(path: Path) -> str:
    cmd = [sys.executable, "-m", "image_ops.accesslogs.cli", "report", str(path), "--json"]
    return shlex.join(cmd)


def goaccess_pipeline(log: Path, out: Path) -> str | None:
    goaccess = shutil.which("goaccess")
    if goaccess is None:
        return None
    return (
        f"zcat {shlex.quote(str(log))} | {goaccess} - --log-format=CLOUDFRONT"
        f" --no-progress -o {shlex.quote(str(out))}"
    )


def split_parquet(parquet: Path, folder: Path, files: int) -> None:
    """The rows of ``parquet`` dealt round-robin into ``files`` Parquet files."""
    import duckdb

    folder.mkdir()
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE t AS SELECT *, (row_number() OVER ()) % ? AS part FROM read_parquet(?)",
            [files, str(parquet)],
        )
        for i in range(files):
            out = folder / f"E2EXAMPLE0DIST.2026-01-28-00.{i:08x}.parquet"
            con.execute(
                f"COPY (SELECT * EXCLUDE part FROM t WHERE part = {i}) TO '{out}' (FORMAT parquet)"
            )


def prepare(work: Path, lines: int, files: int, seed: int) -> tuple[Path, Path, Path]:
    """The single gzip log, a folder with the same lines in ``files`` gzip files, and the
    same requests as one Parquet file."""
    log = work / f"E2EXAMPLE0DIST.2026-01-28-00.{lines}.gz"
    folder = work / f"many-{lines}-{files}"
    parquet = work / f"E2EXAMPLE0DIST.2026-01-28-00.{lines}.parquet"
    if not log.exists():
        t0 = time.perf_counter()
        synth.write_gzip(log, synth.render(synth.generate(lines, seed=seed)))
        print(f"generated {lines:,} lines in {time.perf_counter() - t0:.1f} s: {log}")
    if not folder.exists():
        synth.split_gzip(log, folder, files)
    if not parquet.exists():
        synth.write_parquet(parquet, synth.generate(lines, seed=seed))
    return log, folder, parquet


def summary_line(report: dict[str, object]) -> str:
    s = report["summary"]
    assert isinstance(s, dict)
    return (
        f"requests {s['requests']:,}, hit ratio {s['hit_ratio']:.3f}, "
        f"p95 {s['time_taken_p95']:.3f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=24, help="files in the many-file case")
    parser.add_argument(
        "--parquet-files", type=int, default=240, help="files in the many-Parquet-file case"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; best time kept")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--keep", type=Path, help="write the logs here and keep them")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-access-logs-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        log, folder, parquet = prepare(work, args.lines, args.files, args.seed)
        many_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        print(
            f"logs: {log.stat().st_size / 1e6:.1f} MB gzip; the same {args.lines:,} lines in"
            f" {args.files} gzip files, {many_mb:.1f} MB; best of {args.repeat} runs each"
        )
        n = args.lines
        gunzip = measure(f"zcat {shlex.quote(str(log))} | wc -l", work / "wc.txt", args.repeat)
        single = measure(report_pipeline(log), work / "single.json", args.repeat)
        many = measure(report_pipeline(folder), work / "many.json", args.repeat)
        columnar = measure(report_pipeline(parquet), work / "parquet.json", args.repeat)
        pq_folder = work / f"parquet-{n}-{args.parquet_files}"
        if not pq_folder.exists():
            split_parquet(parquet, pq_folder, args.parquet_files)
        pq_many = measure(report_pipeline(pq_folder), work / "parquet-many.json", args.repeat)
        single_rep, many_rep = json.loads(single.output), json.loads(many.output)
        parquet_rep = json.loads(columnar.output)

        print(
            f"gunzip (zcat | wc -l): {gunzip.seconds:.2f} s, {gunzip.rate(n):,.0f} lines/s,"
            f" peak RSS {gunzip.rss_mb:.0f} MB"
        )
        print(
            f"report, 1 file:        {single.seconds:.2f} s, {single.rate(n):,.0f} lines/s,"
            f" peak RSS {single.rss_mb:.0f} MB  [goal <= {GOAL_RSS_MB} MB]"
        )
        print(f"  {summary_line(single_rep)}")
        print(
            f"report, {args.files} files:      {many.seconds:.2f} s, {many.rate(n):,.0f} lines/s,"
            f" peak RSS {many.rss_mb:.0f} MB  [goal <= {GOAL_RSS_MB} MB]"
        )
        print(f"  {summary_line(many_rep)}")
        same = {k: v for k, v in single_rep.items() if k != "input"} == {
            k: v for k, v in many_rep.items() if k != "input"
        }
        print(f"  same report as the single file: {'yes' if same else 'NO (a bug)'}")
        print(
            f"report, Parquet:       {columnar.seconds:.2f} s, {columnar.rate(n):,.0f} lines/s,"
            f" peak RSS {columnar.rss_mb:.0f} MB  [goal <= {GOAL_RSS_MB} MB]"
            f" ({parquet.stat().st_size / 1e6:.1f} MB file)"
        )
        print(f"  {summary_line(parquet_rep)}")
        same_parquet = {k: v for k, v in parquet_rep.items() if k != "input"} == {
            k: v for k, v in single_rep.items() if k != "input"
        }
        print(f"  same report as the gzip W3C file: {'yes' if same_parquet else 'NO (a bug)'}")
        pq_many_rep = json.loads(pq_many.output)
        print(
            f"report, Parquet in {args.parquet_files} files: {pq_many.seconds:.2f} s,"
            f" {pq_many.rate(n):,.0f} lines/s, peak RSS {pq_many.rss_mb:.0f} MB"
        )
        same_pq_many = {k: v for k, v in pq_many_rep.items() if k != "input"} == {
            k: v for k, v in parquet_rep.items() if k != "input"
        }
        print(f"  same report as the one Parquet file: {'yes' if same_pq_many else 'NO (a bug)'}")
        print(
            f"ratio: Parquet report / gzip W3C report = {columnar.rate(n) / single.rate(n):.2f}"
            f"  [goal >= {GOAL_PARQUET_RATIO}]"
        )
        print(
            f"ratio: 1-file report / gunzip = {single.rate(n) / gunzip.rate(n):.2f}"
            f"  [goal >= {GOAL_GUNZIP_RATIO}]"
        )
        print(
            f"ratio: {args.files}-file report / 1-file report = "
            f"{many.rate(n) / single.rate(n):.2f}  [goal >= {GOAL_MANY_RATIO}]"
        )
        print(
            f"ratio: {args.parquet_files}-Parquet-file report / gzip W3C report = "
            f"{pq_many.rate(n) / single.rate(n):.2f}"
        )

        pipeline = goaccess_pipeline(log, work / "goaccess.json")
        if pipeline is None:
            print("goaccess: skipped (not installed; apt-get install -y goaccess)")
            return 0
        ga = measure(pipeline, work / "goaccess.out", 1)
        valid = int(json.loads((work / "goaccess.json").read_text())["general"]["valid_requests"])
        print(
            f"goaccess --log-format=CLOUDFRONT: {ga.seconds:.2f} s, {ga.rate(n):,.0f} lines/s, "
            f"peak RSS {ga.rss_mb:.0f} MB, valid requests {valid:,} (no cache-hit ratio)"
        )
        print(f"ratio: 1-file report is {single.rate(n) / ga.rate(n):.1f}x GoAccess lines/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
