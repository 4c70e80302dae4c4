"""``image-ops logs report PATH...``: the CloudFront access-log report.

Exit 0: the report. Exit 2: one line on stderr, for a usage error (missing path, a named
file that is not a log, bad --since, a bad --scratch-dir), an input that cannot be read,
or a setting too small for the input (the message names it, e.g. --memory-limit). No
input produces a traceback; a bad log line is skipped and counted, never fatal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import duckdb

from image_ops.accesslogs import duckdb_engine, report, sources
from image_ops.accesslogs.fields import BY_NORMALIZED, DELIVERY_FIELDS, normalized
from image_ops.accesslogs.formats import MAX_FIELD_NAME, MAX_FIELDS
from image_ops.accesslogs.inputs import Inputs
from image_ops.accesslogs.progress import Progress
from image_ops.accesslogs.render import safe_text, to_json, to_text
from image_ops.accesslogs.s3stream import DEFAULT_BATCH_FILES, MAX_BATCH_FILES

EXIT_USAGE = 2
DEFAULT_MEMORY_LIMIT = "192MB"
MIN_LINE_BYTES, MAX_LINE_LIMIT = 1024, 16 * 1024 * 1024
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
    p.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write the report as a self-contained HTML page with charts to FILE",
    )
    p.add_argument("--since", help="only requests at or after this UTC time (ISO 8601)")
    p.add_argument("--until", help="only requests before this UTC time (ISO 8601)")
    p.add_argument(
        "--memory-limit",
        default=DEFAULT_MEMORY_LIMIT,
        help=f"DuckDB memory_limit (default {DEFAULT_MEMORY_LIMIT}); beyond it DuckDB spills "
        "to the scratch folder",
    )
    p.add_argument(
        "--max-line-bytes",
        type=_max_line,
        default=duckdb_engine.MAX_LINE_BYTES,
        help=f"a longer log line is malformed: skipped and counted "
        f"(default {duckdb_engine.MAX_LINE_BYTES})",
    )
    p.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all cores)")
    p.add_argument("--endpoint-url", help="S3 endpoint (e.g. a local S3 stand-in)")
    p.add_argument(
        "--scratch-dir",
        type=Path,
        help="an existing folder for downloads and DuckDB spill files (default: TMPDIR)",
    )
    p.add_argument(
        "--s3-batch-files",
        type=_batch_files,
        default=DEFAULT_BATCH_FILES,
        help=f"S3 objects per load batch; at most twice this many are on disk at once "
        f"(default {DEFAULT_BATCH_FILES})",
    )
    p.add_argument(
        "--plain-fields",
        type=_plain_fields,
        default=DELIVERY_FIELDS,
        help="the comma-separated record fields of plain-format files, which carry no header "
        "(default: the 33 fields deploy/ configures, in order)",
    )
    p.set_defaults(func=run_report)


def _plain_fields(value: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in value.split(","))
    if any(not n or len(n) > MAX_FIELD_NAME or not n.isprintable() for n in names):
        raise argparse.ArgumentTypeError("want comma-separated field names, none empty")
    if len(names) > MAX_FIELDS or not any(normalized(n) in BY_NORMALIZED for n in names):
        raise argparse.ArgumentTypeError(
            f"want 1..{MAX_FIELDS} field names, at least one a CloudFront field"
        )
    return names


def _max_line(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not MIN_LINE_BYTES <= n <= MAX_LINE_LIMIT:
        raise argparse.ArgumentTypeError(
            f"want an integer {MIN_LINE_BYTES}..{MAX_LINE_LIMIT}, got {value!r}"
        )
    return n


def scratch_root(scratch_dir: Path | None) -> Path:
    """The folder the report's scratch folder goes in: an existing, writable folder
    whose path DuckDB will not read as a pattern. UsageError (one line) otherwise."""
    flag = "--scratch-dir" if scratch_dir is not None else "TMPDIR (the default scratch folder)"
    root = scratch_dir if scratch_dir is not None else Path(tempfile.gettempdir())
    if not root.exists():
        raise UsageError(f"{flag} {root}: no such folder")
    if not root.is_dir():
        raise UsageError(f"{flag} {root}: not a folder")
    if not os.access(root, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {root}: not writable")
    try:
        sources.check_glob_free(root.resolve(), flag)
    except sources.SourceError as exc:
        raise UsageError(str(exc)) from None
    return root


def _memory_error(exc: duckdb.Error, memory_limit: str, scratch: Path) -> sources.SourceError:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return sources.SourceError(
        f"DuckDB ran out of memory at --memory-limit {memory_limit} (spilling to {scratch}): "
        f"raise --memory-limit, lower --threads, or free space in --scratch-dir [{first}]"
    )


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
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    threads: int = 0,
    scratch_dir: Path | None = None,
    s3_batch_files: int = DEFAULT_BATCH_FILES,
    max_line: int = duckdb_engine.MAX_LINE_BYTES,
    plain_fields: Sequence[str] = DELIVERY_FIELDS,
    extra: Callable[[duckdb.DuckDBPyConnection], T] | None = None,
) -> tuple[dict[str, Any], T | None]:
    """Collect, load, query: the report dict, plus what `extra` computed on the loaded logs
    (e.g. the rollout gates' per-region percentiles; it runs after the report's queries,
    so their percentile histograms exist). Raises UsageError, SourceError, duckdb.Error."""
    root = scratch_root(scratch_dir)
    with (
        Progress() as progress,
        tempfile.TemporaryDirectory(prefix="cf-logs-", dir=root) as tmp,
    ):
        scratch = Path(tmp)
        found = Inputs(
            paths,
            scratch,
            endpoint_url=endpoint_url,
            s3_batch_files=s3_batch_files,
            plain_fields=plain_fields,
            on_download=progress.downloaded,
        )
        con = duckdb_engine.connect(scratch, memory_limit=memory_limit, threads=threads)
        batches = found.batches()
        try:
            stats = duckdb_engine.load(con, progress.batches(batches), scratch, max_line=max_line)
            progress.phase("querying")
            results = duckdb_engine.run_queries(con, window)
            more = extra(con) if extra is not None else None
        except duckdb.OutOfMemoryException as exc:
            raise _memory_error(exc, memory_limit, root) from exc
        finally:
            batches.close()  # on an error: stop the S3 downloader before scratch goes away
            con.close()
    rep = report.build(results, stats, window, skipped=found.skipped, not_regular=found.not_regular)
    return rep, more


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
            max_line=args.max_line_bytes,
            plain_fields=args.plain_fields,
        )
        if args.html is not None:
            from image_ops.accesslogs import html_report  # Jinja2 only when asked for

            html_report.write(rep, args.html)
            print(f"HTML report written to {safe_text(str(args.html))}", file=sys.stderr)
    except (UsageError, sources.SourceError) as exc:
        return _fail(str(exc))
    except duckdb.Error as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:  # the scratch folder filled up or went away, a file vanished
        return _fail(f"{exc.strerror or type(exc).__name__}: {exc.filename or exc}")
    sys.stdout.write(to_json(rep) + "\n" if args.json else to_text(rep))
    return 0


def _fail(message: str) -> int:
    """One escaped line on stderr (a file name or a log field may carry escape codes)."""
    print(f"image-ops logs report: error: {safe_text(message)}", file=sys.stderr)
    return EXIT_USAGE


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
