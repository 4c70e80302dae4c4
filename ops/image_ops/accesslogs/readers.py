"""The DuckDB SELECT that reads one group of log files (one format, one field list) into
the report's columns (``fields.REPORT_COLUMNS``), NULL where the files lack a field.

* ``w3c`` and ``plain``: ``read_csv`` with the file's own field names as columns, typed
  at parse time, so a line with a bad number is malformed (skipped and counted).
  ``strict_mode=false`` keeps a line with *more* fields than its header names (AWS adds
  fields at the end of the record) with the fields the header names; a line with fewer
  is still malformed.
* ``json``: ``read_json`` of the keys the first record carries, as text, then cast.
* ``parquet``: ``read_parquet``, only the report's columns (columnar: the rest is never
  read), then cast: CloudFront writes every column as a string.

A cast that fails there gives NULL for that column, not a dropped row. Column and key
names come from the files themselves; they are quoted as identifiers, never spliced.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from image_ops.accesslogs.fields import BY_COLUMN, REPORT_COLUMNS, column_for


def read_buffer(max_line: int) -> int:
    """DuckDB's CSV read buffer per file being read: 4 MiB scans as fast as its default
    32 MB here, and a small --memory-limit can still hold one per thread."""
    return max(4 * 1024 * 1024, 4 * max_line)


def sql_type(column: str) -> str:
    """The type the report reads ``column`` as; anything it does not read stays text."""
    f = BY_COLUMN.get(column)
    if f is None or column not in REPORT_COLUMNS:
        return "VARCHAR"  # never cast what the report doesn't read: no false rejects
    return "VARCHAR" if f.sql_type == "STRING" else f.sql_type


def quote(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def ident(s: str) -> str:
    """A SQL identifier (DuckDB and Trino both quote with double quotes)."""
    return '"' + s.replace('"', '""') + '"'


def _columns(fields: Sequence[str]) -> dict[str, str]:
    """Our column name for each field, in file order (a repeated name gets ``_dup``)."""
    out: dict[str, str] = {}
    for name in fields:
        col = column_for(name)
        while col in out.values():
            col += "_dup"
        out[name] = col
    return out


def typed(source: dict[str, str]) -> str:
    """The report's columns cast from source columns of any type (``column -> source
    column name``): ``-`` is CloudFront's empty value; a column the source lacks is NULL.
    Shared with Athena's Parquet view (athena.py), whose columns are all strings."""
    picks = []
    for c in REPORT_COLUMNS:
        t = sql_type(c)
        if c not in source:
            picks.append(f"CAST(NULL AS {t}) AS {ident(c)}")
            continue
        text = f"nullif(CAST({ident(source[c])} AS VARCHAR), '-')"
        picks.append(f"{text if t == 'VARCHAR' else f'try_cast({text} AS {t})'} AS {ident(c)}")
    return ", ".join(picks)


def _files(paths: Sequence[Path]) -> str:
    return "[" + ", ".join(quote(str(p)) for p in paths) + "]"


def _delimited(fields: Sequence[str], paths: Sequence[Path], gzipped: bool, max_line: int) -> str:
    columns = _columns(fields)
    spec = "{" + ", ".join(f"{quote(c)}: {quote(sql_type(c))}" for c in columns.values()) + "}"
    reader = (
        f"read_csv({_files(paths)}, delim='\\t', quote='', escape='', header=false, "
        f"comment='#', columns={spec}, nullstr='-', auto_detect=false, ignore_errors=true, "
        f"strict_mode=false, max_line_size={int(max_line)}, "
        f"buffer_size={read_buffer(max_line)}, "
        f"compression={quote('gzip' if gzipped else 'none')})"
    )
    present = set(columns.values())
    picks = [
        ident(c) if c in present else f"CAST(NULL AS {sql_type(c)}) AS {ident(c)}"
        for c in REPORT_COLUMNS
    ]
    return f"SELECT {', '.join(picks)} FROM {reader}"  # noqa: S608 - quoted names only


def _report_sources(fields: Sequence[str]) -> dict[str, str]:
    """Report column -> the source name it is read from (first spelling wins)."""
    out: dict[str, str] = {}
    for name, col in _columns(fields).items():
        if col in REPORT_COLUMNS and col not in out:
            out[col] = name
    return out


def _json(fields: Sequence[str], paths: Sequence[Path], gzipped: bool, max_line: int) -> str:
    source = _report_sources(fields)
    spec = "{" + ", ".join(f"{quote(name)}: 'VARCHAR'" for name in source.values()) + "}"
    reader = (
        f"read_json({_files(paths)}, format='newline_delimited', columns={spec}, "
        f"ignore_errors=true, maximum_object_size={int(max_line)}, "
        f"compression={quote('gzip' if gzipped else 'none')})"
    )
    return f"SELECT {typed(source)} FROM {reader}"  # noqa: S608 - quoted names only


def _parquet(fields: Sequence[str], paths: Sequence[Path]) -> str:
    source = _report_sources(fields)
    return f"SELECT {typed(source)} FROM read_parquet({_files(paths)})"  # noqa: S608


def group_select(
    fmt: str, fields: Sequence[str], paths: Sequence[Path], gzipped: bool, max_line: int
) -> str:
    """The SELECT of the report's columns from ``paths``, all of format ``fmt`` with the
    field list ``fields`` and the same compression."""
    if fmt in ("w3c", "plain"):
        return _delimited(fields, paths, gzipped, max_line)
    if fmt == "json":
        return _json(fields, paths, gzipped, max_line)
    if fmt == "parquet":
        return _parquet(fields, paths)
    raise ValueError(f"unknown log format {fmt!r}")
