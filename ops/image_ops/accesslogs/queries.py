"""The report's SQL: one definition, run as-is by DuckDB (local) and Athena (fleet).

Everything here is written in the dialect common to DuckDB and Trino/Athena:
``try_cast``, ``count_if``, ``date_trunc``, ``substr``, ``concat`` and
``approx_percentile`` (Trino's aggregate; the DuckDB engine defines a macro of
that name). Integer division differs between the two, so queries return counts
and Python computes the ratios.

Two layers:

* ``REQUESTS_COLUMNS`` turns raw ``cloudfront_logs`` columns into the derived
  ``cloudfront_requests`` relation (timestamp, edge code, hit/miss flags). DuckDB
  materialises it from the log files; Athena defines it as a view.
* ``QUERIES`` are the report queries over ``cloudfront_requests``. Each one starts
  with the same window CTE and takes four positional parameters, in order:
  first and last partition day (``'YYYY/MM/DD'``, lets Athena prune partitions),
  then the half-open timestamp window ``[since, until)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from image_ops.accesslogs.fields import HIT_RESULT_TYPES, MISS_RESULT_TYPES

REQUESTS_VIEW = "cloudfront_requests"
LOGS_TABLE = "cloudfront_logs"


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# The response result type is CloudFront's cache verdict before the body was sent;
# x-edge-result-type can turn a Hit into an Error when the viewer hangs up, which
# says nothing about the cache. Fall back to it for files that lack the former.
_CACHE_RESULT = "coalesce(x_edge_response_result_type, x_edge_result_type)"

# (column, expression over cloudfront_logs). `dt` is the partition column in
# Athena; locally there is no partition (LOCAL_EXPRESSIONS).
REQUESTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ts", 'try_cast(concat(CAST("date" AS varchar), \' \', "time") AS timestamp)'),
    ("dt", "dt"),
    ("edge_code", "substr(x_edge_location, 1, 3)"),
    ("uri", "cs_uri_stem"),
    ("status", "sc_status"),
    ("sc_bytes", "sc_bytes"),
    ("time_taken", "time_taken"),
    ("ttfb", "time_to_first_byte"),
    ("cache_result", _CACHE_RESULT),
    ("is_hit", f"{_CACHE_RESULT} IN ({_in_list(HIT_RESULT_TYPES)})"),
    ("is_miss", f"{_CACHE_RESULT} IN ({_in_list(MISS_RESULT_TYPES)})"),
)
# What the local engine computes instead, where DuckDB has a faster spelling that filters
# and reports the same (the Parquet table builds in 0.17 s instead of 0.24 s, 1M rows):
# * `dt` has no partition to come from: the date itself, a DATE (the window's 'YYYY/MM/DD'
#   parameters cast to DATE order as Athena's partition strings do; the text copy cost
#   0.015 s to build, for a filter the `ts` bounds already imply);
# * `ts` as date + time of day, not a parse of the two joined as text (0.014 s against
#   0.076 s). CloudFront writes HH:MM:SS; anything else is NULL, as in Trino, whose
#   timestamp cast refuses what DuckDB's text parse would half-read ("5: 4T63").
# test_athena holds both to the Athena spellings, in and out of windows.
LOCAL_EXPRESSIONS: dict[str, str] = {
    "dt": '"date"',
    "ts": 'CASE WHEN "time" LIKE \'__:__:__\' THEN "date" + try_cast("time" AS TIME) END',
}


def requests_select(source: str, *, local: bool = False) -> str:
    """``SELECT`` of the derived columns from ``source`` (a table, view or subquery).

    ``local``: the DuckDB engine's spellings (``LOCAL_EXPRESSIONS``) where it has them.
    """
    cols = []
    for name, expr in REQUESTS_COLUMNS:
        use = LOCAL_EXPRESSIONS.get(name, expr) if local else expr
        cols.append(f"  {use} AS {name}")
    return "SELECT\n" + ",\n".join(cols) + f"\nFROM {source}"


WINDOW_CTE = (
    f"WITH w AS (\n"  # noqa: S608 - constants only; values are bound parameters
    f"  SELECT * FROM {REQUESTS_VIEW}\n"
    f"  WHERE dt >= ? AND dt <= ? AND ts >= ? AND ts < ?\n"
    f")\n"
)


# The percentile columns: (source column, name prefix) and the quantiles, named
# {prefix}_p50/_p95/_p99. The local engine computes these itself (duckdb_engine.percentiles).
PERCENTILE_COLUMNS: tuple[tuple[str, str], ...] = (("time_taken", "time_taken"), ("ttfb", "ttfb"))
PERCENTILES: tuple[float, ...] = (0.5, 0.95, 0.99)


def _pcts(column: str, prefix: str) -> str:
    return ",\n".join(
        f"  approx_percentile({column}, {q}) AS {prefix}_p{round(q * 100)}" for q in PERCENTILES
    )


@dataclass(frozen=True)
class Query:
    """One report query: a stable name (file name in deploy/athena), a purpose, its SQL."""

    name: str
    purpose: str
    body: str
    # Rows with percentile columns: None none, "" the window's one row, else the GROUP BY
    # column they are per (the local engine fills them in; Athena computes them in the SQL).
    percentiles_by: str | None = None

    @property
    def sql(self) -> str:
        return WINDOW_CTE + self.body.strip() + "\n"


QUERIES: tuple[Query, ...] = (
    Query(
        "summary",
        "Totals for the window: requests, bytes, cache verdicts, errors, latency percentiles.",
        f"""
SELECT
  count(*) AS requests,
  coalesce(sum(sc_bytes), 0) AS bytes,
  count_if(is_hit) AS hits,
  count_if(is_miss) AS misses,
  count_if(status >= 400 AND status < 500) AS status_4xx,
  count_if(status >= 500 AND status < 600) AS status_5xx,
  min(ts) AS first_ts,
  max(ts) AS last_ts,
{_pcts("time_taken", "time_taken")},
{_pcts("ttfb", "ttfb")}
FROM w
""",  # noqa: S608 - built from constants
        percentiles_by="",
    ),
    Query(
        "by_edge",
        "Per edge code (IATA prefix): traffic, cache verdicts and latency percentiles.",
        f"""
SELECT
  edge_code,
  count(*) AS requests,
  coalesce(sum(sc_bytes), 0) AS bytes,
  count_if(is_hit) AS hits,
  count_if(is_miss) AS misses,
{_pcts("time_taken", "time_taken")},
{_pcts("ttfb", "ttfb")}
FROM w
GROUP BY edge_code
ORDER BY requests DESC, edge_code
""",  # noqa: S608 - built from constants
        percentiles_by="edge_code",
    ),
    Query(
        "hit_ratio_by_hour",
        "Cache hits and misses per hour: the warm-up curve.",
        """
SELECT
  date_trunc('hour', ts) AS hour_start,
  count(*) AS requests,
  count_if(is_hit) AS hits,
  count_if(is_miss) AS misses
FROM w
GROUP BY date_trunc('hour', ts)
ORDER BY hour_start
""",
    ),
    Query(
        "requests_by_hour",
        "Requests and 4xx/5xx responses per hour: traffic and errors over time.",
        """
SELECT
  date_trunc('hour', ts) AS hour_start,
  count(*) AS requests,
  count_if(status >= 400 AND status < 500) AS status_4xx,
  count_if(status >= 500 AND status < 600) AS status_5xx
FROM w
GROUP BY date_trunc('hour', ts)
ORDER BY hour_start
""",
    ),
    Query(
        "top_missed",
        "The keys that most often missed the cache (origin fetches), with bytes served.",
        """
SELECT
  uri,
  count(*) AS misses,
  coalesce(sum(sc_bytes), 0) AS bytes
FROM w
WHERE is_miss
GROUP BY uri
ORDER BY misses DESC, uri
LIMIT 20
""",
    ),
    Query(
        "result_types",
        "Requests per cache result type, to show what the hit ratio counts.",
        """
SELECT
  coalesce(cache_result, '-') AS result_type,
  count(*) AS requests
FROM w
GROUP BY coalesce(cache_result, '-')
ORDER BY requests DESC, result_type
""",
    ),
    Query(
        "error_statuses",
        "Requests per 4xx/5xx status code.",
        """
SELECT
  status,
  count(*) AS requests
FROM w
WHERE status >= 400
GROUP BY status
ORDER BY status
""",
    ),
)

BY_NAME: dict[str, Query] = {q.name: q for q in QUERIES}
