"""The CloudFront standard access-log schema (33 fields, in file order).

Files announce their own layout in a ``#Fields:`` header, so readers map columns
by name rather than trusting position: standard logging v2 lets the owner pick a
subset, and AWS has appended fields before. This module is the single place that
knows the log names, the SQL column names and the SQL types.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Field:
    """One log field: its name in ``#Fields:``, its SQL column and the SQL type we read it as."""

    log_name: str
    column: str
    sql_type: str  # a type name spelled the same in DuckDB and Athena/Hive DDL


def _f(log_name: str, column: str, sql_type: str = "STRING") -> Field:
    return Field(log_name, column, sql_type)


# Order and names from the CloudFront Developer Guide, "Log file fields".
FIELDS: tuple[Field, ...] = (
    _f("date", "date", "DATE"),
    _f("time", "time"),
    _f("x-edge-location", "x_edge_location"),
    _f("sc-bytes", "sc_bytes", "BIGINT"),
    _f("c-ip", "c_ip"),
    _f("cs-method", "cs_method"),
    _f("cs(Host)", "cs_host"),
    _f("cs-uri-stem", "cs_uri_stem"),
    _f("sc-status", "sc_status", "INT"),
    _f("cs(Referer)", "cs_referrer"),
    _f("cs(User-Agent)", "cs_user_agent"),
    _f("cs-uri-query", "cs_uri_query"),
    _f("cs(Cookie)", "cs_cookie"),
    _f("x-edge-result-type", "x_edge_result_type"),
    _f("x-edge-request-id", "x_edge_request_id"),
    _f("x-host-header", "x_host_header"),
    _f("cs-protocol", "cs_protocol"),
    _f("cs-bytes", "cs_bytes", "BIGINT"),
    _f("time-taken", "time_taken", "DOUBLE"),
    _f("x-forwarded-for", "x_forwarded_for"),
    _f("ssl-protocol", "ssl_protocol"),
    _f("ssl-cipher", "ssl_cipher"),
    _f("x-edge-response-result-type", "x_edge_response_result_type"),
    _f("cs-protocol-version", "cs_protocol_version"),
    _f("fle-status", "fle_status"),
    _f("fle-encrypted-fields", "fle_encrypted_fields"),
    _f("c-port", "c_port", "INT"),
    _f("time-to-first-byte", "time_to_first_byte", "DOUBLE"),
    _f("x-edge-detailed-result-type", "x_edge_detailed_result_type"),
    _f("sc-content-type", "sc_content_type"),
    _f("sc-content-len", "sc_content_len", "BIGINT"),
    _f("sc-range-start", "sc_range_start", "BIGINT"),
    _f("sc-range-end", "sc_range_end", "BIGINT"),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.log_name for f in FIELDS)
BY_LOG_NAME: dict[str, Field] = {f.log_name: f for f in FIELDS}
# The record fields, in order, the deploy/ templates ask standard logging v2 for (a test
# holds both templates to it). Plain files carry no header: this is their default layout.
DELIVERY_FIELDS: tuple[str, ...] = FIELD_NAMES


def normalized(name: str) -> str:
    """A field name as CloudFront's Parquet columns spell it, and the key every format's
    names are matched on: ``cs(User-Agent)`` and ``cs_user_agent`` are the same field.
    Lower case, every run of other characters one ``_``, none at the ends."""
    out: list[str] = []
    for ch in name.lower():
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "_":
            out.append("_")
    return "".join(out).strip("_")


BY_NORMALIZED: dict[str, Field] = {normalized(f.log_name): f for f in FIELDS}

# The columns the report reads. The local engine loads only these (memory), and a
# file whose header lacks one of them gets NULLs for it instead of being rejected.
REPORT_COLUMNS: tuple[str, ...] = (
    "date",
    "time",
    "x_edge_location",
    "sc_bytes",
    "cs_uri_stem",
    "sc_status",
    "x_edge_result_type",
    "time_taken",
    "x_edge_response_result_type",
    "time_to_first_byte",
)
BY_COLUMN: dict[str, Field] = {f.column: f for f in FIELDS}

# What the report cannot fill when a file lacks a column (said in the report, per field,
# with the number of files): the rows still count, the column is NULL for them.
REPORT_NEEDS: dict[str, str] = {
    "date": "timestamps: its lines are counted malformed",
    "time": "timestamps: its lines are counted malformed",
    "x_edge_location": "edge locations, per-region latency and cost by price region",
    "sc_bytes": "bytes served and the cost estimate",
    "cs_uri_stem": "top missed keys",
    "sc_status": "error counts",
    "x_edge_result_type": "hit ratio (unless x-edge-response-result-type is there)",
    "time_taken": "time-taken percentiles",
    "x_edge_response_result_type": "none (x-edge-result-type stands in)",
    "time_to_first_byte": "TTFB percentiles",
}

# What the result-type fields mean for caching. A request is a *hit* when the
# edge (or Origin Shield) answered from cache without a full origin fetch;
# RefreshHit revalidated with a 304, so the body still came from cache.
HIT_RESULT_TYPES: tuple[str, ...] = ("Hit", "RefreshHit", "OriginShieldHit")
MISS_RESULT_TYPES: tuple[str, ...] = ("Miss",)
# Everything else (Error, Redirect, LimitExceeded, CapacityExceeded,
# FunctionGeneratedResponse, ...) never touched the cache and is left out of the
# ratio, like CloudFront's own CacheHitRate, which counts cacheable requests only.


@lru_cache(maxsize=4096)  # asked for every field of every file; bounded: names are the files'
def column_for(log_name: str) -> str:
    """SQL column name for a field name in any format's spelling; unknown fields get a
    sanitised name of their own."""
    known = BY_LOG_NAME.get(log_name) or BY_NORMALIZED.get(normalized(log_name))
    if known is not None:
        return known.column
    return f"extra_{normalized(log_name) or 'field'}"
