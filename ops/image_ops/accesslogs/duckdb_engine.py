"""Run the report queries locally on DuckDB.

DuckDB reads the gzip TSV itself into a narrow on-disk table holding only the
report's columns, so memory stays within ``memory_limit`` even for many files.
One scan reads its files in parallel, one thread per gzip file (a single gzip
stream cannot be split), so a folder of hourly files uses every core. Rows that
don't parse (wrong column count, bad numbers, a cut-off last line, a line longer
than ``max_line``) are skipped by ``ignore_errors``; they are counted by a pass of
our own beside the scan (linescan.py): malformed = data lines - rows loaded.

Percentiles are exact (``quantile_cont``'s interpolation between order statistics)
but computed from a histogram of the values (a GROUP BY, which DuckDB spills to
disk), not with ``quantile_cont`` itself, whose state holds every value in memory:
with it, 4.5M lines did not fit in the default 192MB.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb

from image_ops.accesslogs import linescan
from image_ops.accesslogs.fields import REPORT_COLUMNS, column_for
from image_ops.accesslogs.queries import (
    PERCENTILE_COLUMNS,
    PERCENTILES,
    QUERIES,
    REQUESTS_VIEW,
    WINDOW_CTE,
    requests_select,
)
from image_ops.accesslogs.readers import group_select, typed
from image_ops.accesslogs.sources import LogFile, SourceError

# Trino's approx_percentile as the exact interpolated quantile: what the Athena-shaped
# tests run the committed Athena SQL with, and what the local engine's percentiles equal.
PERCENTILE_MACRO = "CREATE OR REPLACE MACRO approx_percentile(x, q) AS quantile_cont(x, q)"
# The local engine computes percentile columns itself (``percentiles``); in the shared
# query texts they are placeholders, so no holistic aggregate holds the rows in memory.
LOCAL_PERCENTILE_MACRO = "CREATE OR REPLACE MACRO approx_percentile(x, q) AS CAST(NULL AS DOUBLE)"
MAX_LINE_BYTES = 64 * 1024  # default --max-line-bytes: a longer line is malformed


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
    data_lines: int = 0  # every line after the files' headers (linescan.py)
    rows: int = 0
    malformed_lines: int = 0  # of which over_long_lines were longer than max_line
    over_long_lines: int = 0
    max_line_bytes: int = MAX_LINE_BYTES
    truncated_files: list[str] = field(default_factory=list)
    unreadable_files: list[str] = field(default_factory=list)  # left out: would not decode
    formats: dict[str, int] = field(default_factory=dict)  # files read per format
    # report column -> files without it (fields.REPORT_NEEDS says what that leaves empty)
    missing_fields: dict[str, int] = field(default_factory=dict)

    def count_files(self, files: Sequence[LogFile]) -> None:
        """Add a batch's files to the per-format and missing-field counts."""
        self.files += len(files)
        for f in files:
            self.formats[f.fmt] = self.formats.get(f.fmt, 0) + 1
            present = {column_for(name) for name in f.fields}
            for column in REPORT_COLUMNS:
                if column not in present:
                    self.missing_fields[column] = self.missing_fields.get(column, 0) + 1


def connect(scratch: Path, *, memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    """An in-memory database that spills to ``scratch`` instead of growing past
    ``memory_limit`` (DuckDB evicts an in-memory table's blocks to its temp folder too).
    Measured on 1M requests from Parquet: the table built in 0.18 s, against 0.39 s in an
    on-disk database file, which writes every block whether memory is short or not."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "temp_directory": str(scratch / "duckdb-tmp"),
        "preserve_insertion_order": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    con.execute(LOCAL_PERCENTILE_MACRO)
    return con


def load(
    con: duckdb.DuckDBPyConnection,
    batches: Iterable[Sequence[LogFile]],
    scratch: Path,
    *,
    max_line: int = MAX_LINE_BYTES,
) -> LoadStats:
    """Create the ``cloudfront_requests`` table from batches of log files.

    The first batch creates the table, later ones append to it: one SQL scan per
    batch, so DuckDB reads a batch's files in parallel while the caller may
    fetch the next batch (S3) and drop the previous one.
    """
    stats = LoadStats(max_line_bytes=max_line)
    for batch in batches:
        _load_batch(con, batch, scratch, stats, max_line, create=stats.files == 0)
        stats.count_files(batch)
    if stats.files == 0:
        raise SourceError("no CloudFront log files found in the given paths")
    row = con.execute(
        f"SELECT count(ts) FROM {REQUESTS_VIEW}"  # noqa: S608 (constant)
    ).fetchone()
    # Lines that parsed but carry no usable timestamp are malformed too.
    stats.rows = int(row[0]) if row and row[0] is not None else 0
    stats.malformed_lines = max(stats.data_lines - stats.rows, 0)
    return stats


# What DuckDB raises when one file of a scan is damaged (a cut-off gzip stream, a bare CR).
_SCAN_REFUSED = (duckdb.IOException, duckdb.InvalidInputException, duckdb.ConversionException)


def _first_line(exc: duckdb.Error) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _try_scan(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.Error | None:
    """Run ``sql``; the error if DuckDB refused it for its input, None if it ran. Any other
    error (memory, an interrupt) is raised. Refusals are _SCAN_REFUSED, and DuckDB's bare
    Error, which its Parquet reader raises for a page header that does not decode ("don't
    know what type")."""
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        if isinstance(exc, _SCAN_REFUSED) or type(exc) is duckdb.Error:
            return exc
        raise
    return None


def _scan_sql(files: Sequence[LogFile], max_line: int, create: bool) -> str:
    groups: dict[tuple[str, tuple[str, ...], bool], list[Path]] = {}
    for f in files:
        groups.setdefault((f.fmt, f.fields, f.gzipped), []).append(f.path)
    union = "\nUNION ALL\n".join(
        group_select(fmt, fields, paths, gz, max_line)
        for (fmt, fields, gz), paths in groups.items()
    )
    if not groups:  # every file of the batch was unreadable: no rows, the same columns
        union = f"SELECT {typed({})} WHERE false"
    head = f"CREATE TABLE {REQUESTS_VIEW} AS\n" if create else f"INSERT INTO {REQUESTS_VIEW}\n"
    return head + requests_select(f"(\n{union}\n) AS cloudfront_logs", local=True)


def _load_batch(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[LogFile],
    scratch: Path,
    stats: LoadStats,
    max_line: int,
    *,
    create: bool,
) -> None:
    """One scan over ``files`` into the table, with the line count beside it (added to
    ``stats``).

    DuckDB refuses a whole scan for one damaged file: a gzip object that ends early, a
    bare carriage return in a line, a Parquet file whose pages do not decode. Damaged text
    files (the line pass knows which) are then replaced by a sanitized plain copy
    (``linescan.sanitize``: the readable prefix, without the lines DuckDB chokes on);
    Parquet files that fail to decode alone are left out and named in
    ``stats.unreadable_files``; the scan is retried once. One damaged object costs its bad
    lines, not the report.
    """
    counting = _count_lines(files, max_line)
    try:
        failure = _try_scan(con, _scan_sql(files, max_line, create))
        scans = counting.result()
    finally:
        counting.stop()
    dropped: set[int] = set()
    if failure is not None:
        dropped = _retry_sanitized(
            con, files, scans, scratch, failure, max_line=max_line, create=create
        )
    for i, (f, sc) in enumerate(zip(files, scans, strict=True)):
        if i in dropped:
            stats.unreadable_files.append(f.origin)
            continue
        stats.data_lines += sc.data_lines
        stats.over_long_lines += sc.over_long
        if sc.truncated:
            stats.truncated_files.append(f.origin)


class _Counting:
    """The line pass over a batch's text files, in a child process (``linescan.main``)
    started before DuckDB's scan and read after it: the two run side by side. A thread
    would do the same work, but its moments holding the GIL slow DuckDB's threads down
    (measured: a folder of 24 files, 3.6 s with a thread against 3.0 s with a process and
    2.5 s without a pass). A Parquet file's rows are its footer's count, read when its
    format was told (LogFile.rows)."""

    def __init__(self, files: Sequence[LogFile], max_line: int) -> None:
        self.files = files
        text = [f for f in files if f.fmt != "parquet"]
        self.proc: subprocess.Popen[bytes] | None = None
        if text:
            items = [f"{'g' if f.gzipped else 'p'}:{f.path}" for f in text]
            argv = [sys.executable, "-m", "image_ops.accesslogs.linescan", str(max_line), *items]
            self.proc = subprocess.Popen(  # noqa: S603 - our own module, our own file list
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
            )

    def _text_scans(self) -> list[linescan.LineScan]:
        if self.proc is None:
            return []
        out, err = self.proc.communicate()
        if self.proc.returncode != 0:
            first = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            raise SourceError(f"cannot count log lines: {first[0][:200]}")
        return [linescan.LineScan(**json.loads(line)) for line in out.splitlines()]

    def result(self) -> list[linescan.LineScan]:
        """One LineScan per file, in the batch's order."""
        text = iter(self._text_scans())
        scans = []
        for f in self.files:
            scan = (
                linescan.LineScan(data_lines=f.rows or 0)
                if f.fmt == "parquet"
                else next(text, None)
            )
            if scan is None:
                raise SourceError("cannot count log lines: the line pass stopped early")
            scans.append(scan)
        return scans

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def _count_lines(files: Sequence[LogFile], max_line: int) -> _Counting:
    return _Counting(files, max_line)


def _retry_sanitized(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[LogFile],
    scans: Sequence[linescan.LineScan],
    scratch: Path,
    failure: duckdb.Error,
    *,
    max_line: int,
    create: bool,
) -> set[int]:
    """Retry the scan without what broke it; the indexes of the files left out."""
    dirty = [i for i, sc in enumerate(scans) if sc.truncated or sc.bare_cr]
    undecodable = {
        i for i, f in enumerate(files) if f.fmt == "parquet" and not _decodes(con, f, max_line)
    }
    if not dirty and not undecodable:
        raise SourceError(f"cannot read logs: {_first_line(failure)}") from failure
    current = list(files)
    cleaned: list[Path] = []
    try:
        for i in dirty:
            f = files[i]
            plain = scratch / f"sanitized-{len(cleaned)}.log"
            cleaned.append(plain)
            linescan.sanitize(f.path, f.gzipped, max_line, plain)
            current[i] = f.moved(plain, gzipped=False)
        current = [f for i, f in enumerate(current) if i not in undecodable]
        again = _try_scan(con, _scan_sql(current, max_line, create))
        if again is not None:
            raise SourceError(f"cannot read logs: {_first_line(again)}") from again
    finally:
        for plain in cleaned:  # only needed for the scan: keep scratch bounded
            plain.unlink(missing_ok=True)
    return undecodable


def _decodes(con: duckdb.DuckDBPyConnection, f: LogFile, max_line: int) -> bool:
    """Whether the load's own scan of Parquet file ``f`` alone succeeds, into a throwaway
    table (an aggregate would not do: DuckDB answers min() from the footer's statistics
    without decoding a page). Only run after a refused scan."""
    select = requests_select(
        f"({group_select(f.fmt, f.fields, [f.path], f.gzipped, max_line)}) AS l", local=True
    )
    try:
        return _try_scan(con, f"CREATE OR REPLACE TEMP TABLE decode_probe AS {select}") is None
    finally:
        con.execute("DROP TABLE IF EXISTS decode_probe")


def hist_table(column: str) -> str:
    """The temp table of (edge_code, v, c) counts for a percentile column (run_queries)."""
    return f"pct_hist_{column}"


def _histograms(con: duckdb.DuckDBPyConnection, params: list[Any]) -> None:
    for column, _ in PERCENTILE_COLUMNS:
        select = (
            f"SELECT edge_code, {column} AS v, count(*) AS c FROM w "  # noqa: S608 (constants)
            f"WHERE {column} IS NOT NULL GROUP BY ALL"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {hist_table(column)} AS\n{WINDOW_CTE}{select}", params
        )


_QUANTILES_SQL = """
WITH src AS ({source}),
s AS (
  SELECT g, v,
         sum(c) OVER (PARTITION BY g ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
           AS cum,
         sum(c) OVER (PARTITION BY g) AS n
  FROM src
),
p AS (
  SELECT k.g, t.q, (CAST(k.n AS DOUBLE) - 1) * t.q AS pos
  FROM (SELECT DISTINCT g, n FROM s) AS k,
       (SELECT unnest(CAST(? AS DOUBLE[])) AS q) AS t
)
SELECT p.g, p.q, any_value(p.pos - floor(p.pos)) AS d,
       min(s.v) FILTER (WHERE s.cum > floor(p.pos)) AS lo,
       min(s.v) FILTER (WHERE s.cum > ceil(p.pos)) AS hi
FROM p JOIN s ON s.g IS NOT DISTINCT FROM p.g
GROUP BY p.g, p.q
"""


def _interpolate(lo: float, d: float, hi: float) -> float:
    """DuckDB's quantile_cont between two order statistics: ``lo * (1 - d) + hi * d``, as
    its build computes it (the first product fused into the addition: one rounding),
    so the local engine's percentiles equal quantile_cont's to the bit (test_athena)."""
    if d == 0:
        return lo
    if not all(map(math.isfinite, (lo, hi))):
        return lo * (1.0 - d) + hi * d
    return float(Fraction(lo) * Fraction(1.0 - d) + Fraction(hi * d))


def percentiles(
    con: duckdb.DuckDBPyConnection, source: str, qs: Sequence[float] = PERCENTILES
) -> dict[Any, dict[float, float | None]]:
    """Exact quantiles per group from ``source``, a SELECT of (g, v, c): value v seen c
    times in group g. Equal to ``quantile_cont``: the order statistics at floor and ceil
    of (n - 1) * q, interpolated as DuckDB does (``_interpolate``). Memory: a GROUP BY
    and a window over the distinct values, both of which DuckDB spills to disk."""
    out: dict[Any, dict[float, float | None]] = {}
    rows = con.execute(_QUANTILES_SQL.format(source=source), [list(qs)]).fetchall()
    for g, q, d, lo, hi in rows:
        value = None if lo is None else lo if hi is None else _interpolate(lo, d, hi)
        out.setdefault(g, {})[q] = value
    return out


def _fill_percentiles(
    con: duckdb.DuckDBPyConnection, results: dict[str, list[dict[str, Any]]]
) -> None:
    for q in QUERIES:
        if q.percentiles_by is None:
            continue
        for column, prefix in PERCENTILE_COLUMNS:
            table = hist_table(column)
            if q.percentiles_by:
                key = q.percentiles_by
                source = f"SELECT {key} AS g, v, c FROM {table}"  # noqa: S608 (constants)
            else:
                key = ""
                source = f"SELECT 0 AS g, v, sum(c) AS c FROM {table} GROUP BY v"  # noqa: S608
            found = percentiles(con, source)
            for row in results[q.name]:
                got = found.get(row[key] if key else 0, {})
                for quantile in PERCENTILES:
                    row[f"{prefix}_p{round(quantile * 100)}"] = got.get(quantile)


def run_queries(con: duckdb.DuckDBPyConnection, window: Window) -> dict[str, list[dict[str, Any]]]:
    """Execute every report query; rows come back as dicts keyed by column name."""
    results: dict[str, list[dict[str, Any]]] = {}
    params = window.params()
    _histograms(con, params)
    for q in QUERIES:
        cur = con.execute(q.sql, params)
        names = [d[0] for d in cur.description or ()]
        results[q.name] = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    _fill_percentiles(con, results)
    return results
