"""The Athena files are generated from the same query definitions DuckDB runs, and run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from image_ops.accesslogs import athena, duckdb_engine
from image_ops.accesslogs.fields import FIELD_NAMES, FIELDS
from image_ops.accesslogs.queries import LOCAL_EXPRESSIONS, QUERIES, REQUESTS_COLUMNS
from image_ops.accesslogs.sources import LogFile, read_header
from wishlist_dev import synth_logs as synth

DEPLOY = Path(__file__).parents[3] / "deploy" / "athena"


def test_committed_files_are_regenerated_exactly(tmp_path: Path) -> None:
    assert athena.main(["--write", str(tmp_path)]) == 0
    fresh = {p.name: p.read_text() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_text() for p in DEPLOY.glob("*.sql")}
    assert fresh == committed, "run: python -m image_ops.accesslogs.athena --write deploy/athena"


def test_query_files_are_the_shared_definitions() -> None:
    for q in QUERIES:
        text = (DEPLOY / f"{q.name}.sql").read_text()
        assert athena.strip_comments(text) == q.sql


def test_ddl_lists_the_33_fields_in_log_order() -> None:
    ddl = (DEPLOY / "00_table_cloudfront_logs.sql").read_text()
    cols = [line.split("`")[1] for line in ddl.splitlines() if line.startswith("  `")]
    assert cols == [f.column for f in FIELDS]
    assert len(FIELD_NAMES) == 33
    for prop in ("'projection.enabled'='true'", "'skip.header.line.count'='2'", "${dt}"):
        assert prop in ddl


@pytest.fixture
def athena_like(tmp_path: Path, log_file: Path) -> duckdb.DuckDBPyConnection:
    """DuckDB holding a full 33-column ``cloudfront_logs`` table plus a ``dt`` column,
    shaped like the Athena table, with the committed view created on top."""
    con = duckdb.connect()
    con.execute(duckdb_engine.PERCENTILE_MACRO)
    spec = ", ".join(
        f"'{f.column}': '{'VARCHAR' if f.sql_type == 'STRING' else f.sql_type}'" for f in FIELDS
    )
    con.execute(
        "CREATE TABLE cloudfront_logs AS SELECT *, replace(CAST(\"date\" AS varchar), '-', '/')"
        f" AS dt FROM read_csv('{log_file}', delim='\\t', header=false, comment='#', "
        f"quote='', escape='', nullstr='-', auto_detect=false, columns={{{spec}}})"
    )
    con.execute((DEPLOY / "01_view_cloudfront_requests.sql").read_text())
    return con


@pytest.fixture
def athena_like_parquet(tmp_path: Path, records: list[synth.Record]) -> duckdb.DuckDBPyConnection:
    """DuckDB holding ``cloudfront_logs_parquet`` as Athena would see CloudFront's Parquet
    files (string columns named cs_host, ...) plus ``dt``, with the committed view on top."""
    path = tmp_path / "requests.parquet"
    synth.write_parquet(path, records)
    con = duckdb.connect()
    con.execute(duckdb_engine.PERCENTILE_MACRO)
    con.execute(
        "CREATE TABLE cloudfront_logs_parquet AS SELECT *, replace(\"date\", '-', '/') AS dt "
        f"FROM read_parquet('{path}')"
    )
    ddl = (DEPLOY / "00_table_cloudfront_logs_parquet.sql").read_text()
    table_cols = [line.split("`")[1] for line in ddl.splitlines() if line.startswith("  `")]
    file_cols = [r[0] for r in con.execute("DESCRIBE cloudfront_logs_parquet").fetchall()]
    assert file_cols == [*table_cols, "dt"]  # the DDL names the columns the files have
    con.execute((DEPLOY / "01_view_cloudfront_requests_parquet.sql").read_text())
    return con


_DAY = dt.datetime(2026, 1, 28)
WINDOWS = {
    "open": duckdb_engine.Window(),
    "one-hour": duckdb_engine.Window(_DAY.replace(hour=5), _DAY.replace(hour=6)),
    "until-noon": duckdb_engine.Window(None, _DAY.replace(hour=12)),
    "across-midnight": duckdb_engine.Window(_DAY.replace(hour=23), _DAY + dt.timedelta(hours=25)),
    "after-the-logs": duckdb_engine.Window(_DAY + dt.timedelta(days=2), None),
}


@pytest.mark.parametrize("window_name", list(WINDOWS))
@pytest.mark.parametrize("table", ["athena_like", "athena_like_parquet"])
def test_athena_sql_runs_on_duckdb_and_agrees_with_local_engine(
    request: pytest.FixtureRequest,
    table: str,
    window_name: str,
    log_file: Path,
    tmp_path: Path,
) -> None:
    """The committed Athena SQL (partition strings, text timestamps) and the local engine
    (LOCAL_EXPRESSIONS) give the same rows, in and out of every kind of window."""
    athena_like: duckdb.DuckDBPyConnection = request.getfixturevalue(table)
    window = WINDOWS[window_name]
    local_con = duckdb_engine.connect(tmp_path, memory_limit="256MB", threads=1)
    found = read_header(log_file)
    assert found is not None
    duckdb_engine.load(local_con, [[LogFile.found(log_file, found, str(log_file))]], tmp_path)
    local = duckdb_engine.run_queries(local_con, window)
    for q in QUERIES:
        cur = athena_like.execute((DEPLOY / f"{q.name}.sql").read_text(), window.params())
        names = [d[0] for d in cur.description or ()]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        assert rows == local[q.name], q.name
        if window_name == "open":
            assert rows, q.name
    requests = local["summary"][0]["requests"]
    assert (requests == 0) == (window_name == "after-the-logs"), requests


def test_the_local_timestamp_is_athena_s_for_every_time_of_day_and_null_for_junk() -> None:
    local = LOCAL_EXPRESSIONS["ts"]
    (athena,) = [e for name, e in REQUESTS_COLUMNS if name == "ts"]
    junk = ["5: 4T63", "7 9 5", "1:2:3", "12:34", "24:00:0", "ab:cd:ef", "", "12:34:56Z"]
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT DATE '2026-01-28' AS \"date\", strftime(TIMESTAMP "
        "'2026-01-28' + to_seconds(range), '%H:%M:%S') AS \"time\" FROM range(86400)"
    )
    con.executemany("INSERT INTO t VALUES (DATE '2026-01-28', ?)", [[j] for j in junk])
    rows = con.execute(f'SELECT "time", {athena}, {local} FROM t').fetchall()
    valid = [r for r in rows if r[0] not in junk]
    assert len(valid) == 86400 and all(a == b and a is not None for _, a, b in valid)
    assert [r[2] for r in rows if r[0] in junk] == [None] * len(junk)


def test_generator_is_deterministic() -> None:
    a = list(synth.render(synth.generate(50, seed=3)))
    b = list(synth.render(synth.generate(50, seed=3)))
    assert a == b and len(a) == 52
