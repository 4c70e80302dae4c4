"""``image-ops logs report PATH...``: the CloudFront access-log report.

Usage errors (missing path, non-log file, bad --since) print one line to stderr
and exit 2; the report never crashes on a bad log line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import duckdb

from image_ops.accesslogs import duckdb_engine, report, sources
from image_ops.accesslogs.inputs import Inputs
from image_ops.accesslogs.render import to_json, to_text
from image_ops.accesslogs.s3stream import DEFAULT_BATCH_FILES, MAX_BATCH_FILES

EXIT_USAGE = 2
T = TypeVar("T")


class UsageError(Exception):
    """A mistake in the command line; reported on one line, exit 2."""


def parse_time(value: str, flag: str) -> dt.datetime:
    """ISO 8601 date or date-time; an offset is converted to UTC, none means UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag}: not an ISO 8601 date or time: {value!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _add_report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="log file, folder, or s3://bucket/prefix"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--since", help="only requests at or after this UTC time (ISO 8601)")
    p.add_argument("--until", help="only requests before this UTC time (ISO 8601)")
    p.add_argument("--memory-limit", default="192MB", help="DuckDB memory_limit (default 192MB)")
    p.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all cores)")
    p.add_argument("--endpoint-url", help="S3 endpoint (e.g. a local S3 stand-in)")
    p.add_argument("--scratch-dir", type=Path, help="where to put downloads and DuckDB spill files")
    p.add_argument(
        "--s3-batch-files",
        type=_batch_files,
        default=DEFAULT_BATCH_FILES,
        help=f"S3 objects per load batch; at most twice this many are on disk at once "
        f"(default {DEFAULT_BATCH_FILES})",
    )
    p.set_defaults(func=run_report)


def _batch_files(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_BATCH_FILES:
        raise argparse.ArgumentTypeError(f"want an integer 1..{MAX_BATCH_FILES}, got {value!r}")
    return n


def build_report(
    paths: Sequence[str],
    window: duckdb_engine.Window,
    *,
    endpoint_url: str | None = None,
    memory_limit: str = "192MB",
    threads: int = 0,
    scratch_dir: Path | None = None,
    s3_batch_files: int = DEFAULT_BATCH_FILES,
    extra: Callable[[duckdb.DuckDBPyConnection], T] | None = None,
) -> tuple[dict[str, Any], T | None]:
    """Collect, load, query: the report dict, plus what `extra` computed on the loaded logs
    (e.g. the rollout gates' per-region percentiles). Raises UsageError, SourceError,
    duckdb.Error."""
    with tempfile.TemporaryDirectory(prefix="cf-logs-", dir=scratch_dir) as tmp:
        scratch = Path(tmp)
        found = Inputs(paths, scratch, endpoint_url=endpoint_url, s3_batch_files=s3_batch_files)
        con = duckdb_engine.connect(
            scratch / "report.duckdb", memory_limit=memory_limit, threads=threads
        )
        batches = found.batches()
        try:
            stats = duckdb_engine.load(con, batches, scratch)
            results = duckdb_engine.run_queries(con, window)
            more = extra(con) if extra is not None else None
        finally:
            batches.close()  # on an error: stop the S3 downloader before scratch goes away
            con.close()
    return report.build(results, stats, window, skipped=found.skipped), more


def run_report(args: argparse.Namespace) -> int:
    """Collect files, load them into DuckDB, run the shared queries, print."""
    try:
        window = duckdb_engine.Window(
            parse_time(args.since, "--since") if args.since else None,
            parse_time(args.until, "--until") if args.until else None,
        )
        if window.since and window.until and window.since >= window.until:
            raise UsageError("--since must be before --until")
        rep, _ = build_report(
            args.paths,
            window,
            endpoint_url=args.endpoint_url,
            memory_limit=args.memory_limit,
            threads=args.threads,
            scratch_dir=args.scratch_dir,
            s3_batch_files=args.s3_batch_files,
        )
    except (UsageError, sources.SourceError) as exc:
        print(f"image-ops logs report: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"image-ops logs report: error: {first}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(to_json(rep) + "\n" if args.json else to_text(rep))
    return 0


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports usage errors on a single stderr line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``logs report`` to the top-level ``image-ops`` CLI."""
    logs = subparsers.add_parser("logs", help="CloudFront access-log tools")
    logs_sub = logs.add_subparsers(dest="logs_command", required=True)
    _add_report_args(
        logs_sub.add_parser(
            "report",
            help="hit ratio, latency, errors and cost from CloudFront standard logs",
            description=__doc__,
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m image_ops.accesslogs.cli report PATH...``."""
    parser = _OneLineParser(prog="image-ops logs")
    sub = parser.add_subparsers(dest="logs_command", required=True, parser_class=_OneLineParser)
    _add_report_args(sub.add_parser("report", description=__doc__))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
