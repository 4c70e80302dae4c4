"""Run the report queries locally on DuckDB.

DuckDB reads the gzip TSV itself into a narrow on-disk table holding only the
report's columns, so memory stays within ``memory_limit`` even for many files.
One scan reads its files in parallel, one thread per gzip file (a single gzip
stream cannot be split), so a folder of hourly files uses every core. Rows that
don't parse (wrong column count, bad numbers, a cut-off last line) are skipped
by ``ignore_errors`` and counted from ``reject_errors``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from image_ops.accesslogs.fields import BY_COLUMN, REPORT_COLUMNS, column_for
from image_ops.accesslogs.queries import (
    DT_EXPRESSION,
    QUERIES,
    REQUESTS_VIEW,
    requests_select,
)
from image_ops.accesslogs.sources import LogFile, SourceError, recover_truncated_gzip

# Trino's approx_percentile; locally the exact interpolated quantile, which is
# also what lets tests check percentiles against a Python computation.
PERCENTILE_MACRO = "CREATE OR REPLACE MACRO approx_percentile(x, q) AS quantile_cont(x, q)"

_MIN_TS = dt.datetime(1970, 1, 1)
_MAX_TS = dt.datetime(9999, 12, 31)


@dataclass(frozen=True)
class Window:
    """Half-open time window ``[since, until)`` in UTC (naive datetimes); None = open."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def params(self) -> list[Any]:
        """The four positional parameters every report query takes (see queries.py).

        Partition days get a day of slack each side: CloudFront can deliver a
        request's log line up to a day late.
        """
        day = dt.timedelta(days=1)
        lo = (self.since - day).strftime("%Y/%m/%d") if self.since else "0000/01/01"
        hi = (self.until + day).strftime("%Y/%m/%d") if self.until else "9999/12/31"
        return [lo, hi, self.since or _MIN_TS, self.until or _MAX_TS]


@dataclass
class LoadStats:
    """What went into the table, and what was skipped on the way."""

    files: int = 0
    rows: int = 0
    malformed_lines: int = 0
    truncated_files: list[str] = field(default_factory=list)


def _sql_type(column: str) -> str:
    f = BY_COLUMN.get(column)
    if f is None or column not in REPORT_COLUMNS:
        return "VARCHAR"  # never cast what the report doesn't read: no false rejects
    return "VARCHAR" if f.sql_type == "STRING" else f.sql_type


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _group_select(fields: tuple[str, ...], paths: Sequence[Path], gzipped: bool) -> str:
    columns: dict[str, str] = {}
    for name in fields:
        col = column_for(name)
        while col in columns:  # a repeated header name must not collapse two columns
            col += "_dup"
        columns[col] = _sql_type(col)
    spec = "{" + ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in columns.items()) + "}"
    files = "[" + ", ".join(_quote(str(p)) for p in paths) + "]"
    reader = (
        f"read_csv({files}, delim='\\t', quote='', escape='', header=false, comment='#', "
        f"columns={spec}, nullstr='-', auto_detect=false, ignore_errors=true, "
        f"store_rejects=true, compression={_quote('gzip' if gzipped else 'none')})"
    )
    picks = [
        f'"{c}"' if c in columns else f'CAST(NULL AS {_sql_type(c)}) AS "{c}"'
        for c in REPORT_COLUMNS
    ]
    # Column names come from fields.py, file paths are quoted: no user SQL here.
    return f"SELECT {', '.join(picks)} FROM {reader}"  # noqa: S608


def connect(db_path: Path, *, memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    """An on-disk scratch database: spills instead of growing past ``memory_limit``."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "temp_directory": str(db_path.parent / "duckdb-tmp"),
        "preserve_insertion_order": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    con = duckdb.connect(str(db_path), config=config)
    con.execute(PERCENTILE_MACRO)
    return con


_GZIP_ERROR = re.compile(r"gzip|inflate|compress", re.IGNORECASE)


def load(
    con: duckdb.DuckDBPyConnection, batches: Iterable[Sequence[LogFile]], scratch: Path
) -> LoadStats:
    """Create the ``cloudfront_requests`` table from batches of log files.

    The first batch creates the table, later ones append to it: one SQL scan per
    batch, so DuckDB reads a batch's files in parallel while the caller may
    fetch the next batch (S3) and drop the previous one.
    """
    stats = LoadStats()
    for batch in batches:
        _load_batch(con, batch, scratch, stats, create=stats.files == 0)
        stats.files += len(batch)
    if stats.files == 0:
        raise SourceError("no CloudFront log files found in the given paths")
    row = con.execute(
        f"SELECT count(*), count_if(ts IS NULL) FROM {REQUESTS_VIEW}"  # noqa: S608 (constant)
    ).fetchone()
    assert row is not None
    rejected = con.execute(
        "SELECT count(*) FROM (SELECT DISTINCT scan_id, file_id, line FROM reject_errors)"
    ).fetchone()
    assert rejected is not None
    # Lines that parsed but carry no usable timestamp are malformed too.
    stats.rows = int(row[0]) - int(row[1])
    stats.malformed_lines = int(rejected[0]) + int(row[1])
    return stats


def _load_batch(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[LogFile],
    scratch: Path,
    stats: LoadStats,
    *,
    create: bool,
) -> None:
    """One scan over ``files`` into the table.

    A gzip object that ends early makes DuckDB fail the whole scan; the file is
    then replaced by its readable prefix (see ``recover_truncated_gzip``) and the
    scan retried, so one damaged object costs its tail, not the report.
    """
    current = list(files)
    recovered: list[Path] = []
    head = f"CREATE TABLE {REQUESTS_VIEW} AS\n" if create else f"INSERT INTO {REQUESTS_VIEW}\n"
    try:
        for _attempt in range(len(files) + 1):
            groups: dict[tuple[tuple[str, ...], bool], list[Path]] = defaultdict(list)
            for f in current:
                groups[(f.fields, f.gzipped)].append(f.path)
            union = "\nUNION ALL\n".join(
                _group_select(fields, paths, gz) for (fields, gz), paths in groups.items()
            )
            sql = head + requests_select(
                f"(\n{union}\n) AS cloudfront_logs", dt_expression=DT_EXPRESSION
            )
            try:
                con.execute(sql)
                return
            except duckdb.IOException as exc:
                message = str(exc)
                bad = [f for f in current if f.gzipped and str(f.path) in message]
                if not bad or not _GZIP_ERROR.search(message):
                    raise SourceError(f"cannot read logs: {message.splitlines()[0]}") from exc
                for f in bad:
                    plain = scratch / f"recovered-{len(stats.truncated_files)}.log"
                    recover_truncated_gzip(f.path, plain)
                    recovered.append(plain)
                    stats.truncated_files.append(f.origin)
                    current[current.index(f)] = LogFile(plain, f.fields, False, f.origin)
        raise SourceError("cannot read logs: repeated decompression failures")  # pragma: no cover
    finally:
        for plain in recovered:  # only needed for the scan: keep scratch bounded
            plain.unlink(missing_ok=True)


def run_queries(con: duckdb.DuckDBPyConnection, window: Window) -> dict[str, list[dict[str, Any]]]:
    """Execute every report query; rows come back as dicts keyed by column name."""
    results: dict[str, list[dict[str, Any]]] = {}
    params = window.params()
    for q in QUERIES:
        cur = con.execute(q.sql, params)
        names = [d[0] for d in cur.description or ()]
        results[q.name] = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return results
