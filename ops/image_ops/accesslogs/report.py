"""Turn query rows into the report: ratios, edge places, and the cost estimate.

SQL returns counts only (integer division differs between DuckDB and Athena);
everything derived is computed here, once, for both runtimes.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from functools import cache
from importlib import resources
from typing import Any

from image_ops.accesslogs.duckdb_engine import LoadStats, Window
from image_ops.accesslogs.fields import HIT_RESULT_TYPES, MISS_RESULT_TYPES

GIB = 1024**3
MONTH = dt.timedelta(days=30)
# Below these, a monthly figure is noise: the report prints the observed window's cost only.
MIN_EXTRAPOLATION_SPAN = dt.timedelta(hours=1)
MIN_EXTRAPOLATION_REQUESTS = 1000
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)
UNKNOWN = {"city": "unknown", "country": "??", "continent": "unknown"}

Rows = list[dict[str, Any]]


@cache
def _data(name: str) -> dict[str, Any]:
    text = resources.files("image_ops.accesslogs").joinpath(name).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def edge_locations() -> dict[str, dict[str, str]]:
    """Edge code prefix → city, country, continent, price region (edge_locations.json)."""
    locs: dict[str, dict[str, str]] = _data("edge_locations.json")["locations"]
    return locs


def prices() -> dict[str, Any]:
    """The dated price table (prices.json)."""
    return _data("prices.json")


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide."""
    return part / whole if whole else None


def _priciest_region(table: dict[str, Any]) -> str:
    return max(table, key=lambda r: (table[r]["transfer_per_gb"], table[r]["https_per_10k"]))


def estimate_cost(by_edge: Rows, span: dt.timedelta) -> dict[str, Any]:
    """Monthly cost of the observed traffic via CloudFront vs straight from S3.

    CloudFront: per price region, bytes x transfer rate + requests x HTTPS
    request rate, plus one S3 GET per cache miss (origin fetches from S3 carry no
    transfer charge). S3 direct: all bytes at S3 internet egress + one S3 GET per
    request. First-tier list prices, free tiers ignored; scaled from the observed
    span to 30 days.
    """
    p = prices()
    cf_table: dict[str, Any] = p["cloudfront"]
    s3 = p["s3"]
    locs = edge_locations()
    fallback = _priciest_region(cf_table)
    scale = MONTH / span if span > dt.timedelta(0) else 0.0
    regions: dict[str, dict[str, float]] = {}
    total_bytes = total_requests = 0
    for row in by_edge:
        region = locs.get(row["edge_code"] or "", {}).get("price_region", fallback)
        acc = regions.setdefault(region, {"bytes": 0, "requests": 0, "misses": 0})
        acc["bytes"] += row["bytes"]
        acc["requests"] += row["requests"]
        acc["misses"] += row["misses"]
        total_bytes += row["bytes"]
        total_requests += row["requests"]
    per_region = []
    cf_total = 0.0
    for region, acc in sorted(regions.items()):
        rate = cf_table[region]
        transfer = acc["bytes"] / GIB * rate["transfer_per_gb"] * scale
        reqs = acc["requests"] / 10_000 * rate["https_per_10k"] * scale
        origin = acc["misses"] / 1000 * s3["get_per_1k"] * scale
        cf_total += transfer + reqs + origin
        per_region.append(
            {
                "price_region": region,
                "name": rate["name"],
                "price_classes": rate["price_classes"],
                "monthly_gib": acc["bytes"] / GIB * scale,
                "monthly_requests": acc["requests"] * scale,
                "monthly_usd": transfer + reqs + origin,
            }
        )
    s3_transfer = total_bytes / GIB * s3["transfer_out_per_gb"] * scale
    s3_requests = total_requests / 1000 * s3["get_per_1k"] * scale
    s3_total = s3_transfer + s3_requests
    return {
        "extrapolation": extrapolation(span, total_requests, scale),
        "prices_as_of": p["as_of"],
        "currency": p["currency"],
        "observed_hours": span.total_seconds() / 3600,
        "scale_to_month": scale,
        "cloudfront_monthly_usd": cf_total,
        "s3_direct_monthly_usd": s3_total,
        "savings_monthly_usd": s3_total - cf_total,
        "by_price_region": sorted(per_region, key=lambda r: -r["monthly_usd"]),
        "assumptions": (
            "first-tier on-demand list prices, free tiers ignored, HTTPS requests, "
            "one S3 GET per CloudFront miss, S3 origin fetch transfer free, "
            f"S3 egress from {s3['region']}, scaled linearly to 30 days"
        ),
    }


def extrapolation(span: dt.timedelta, requests: int, scale: float) -> dict[str, Any]:
    """How far the monthly figures can be trusted, said rather than implied.

    Two sources of error: the count itself (a Poisson count of N has a 95% interval of
    about +-2/sqrt(N) of its size) and the cycles the window does not cover (a window
    shorter than a day misses the daily peak and trough; shorter than a week, the weekly
    one), which no formula bounds: they are named. Below MIN_EXTRAPOLATION_SPAN or
    MIN_EXTRAPOLATION_REQUESTS the report gives the observed window's cost only.
    """
    counting = 2 / requests**0.5 if requests else None
    uncovered = [name for length, name in ((DAY, "daily"), (WEEK, "weekly")) if span < length]
    ok = span >= MIN_EXTRAPOLATION_SPAN and requests >= MIN_EXTRAPOLATION_REQUESTS
    if not ok:
        warning = (
            f"not extrapolated: {span.total_seconds():.0f} s and {requests} requests observed "
            f"(a month would be x{scale:,.0f}); extrapolating needs at least "
            f"{MIN_EXTRAPOLATION_SPAN.total_seconds() / 3600:.0f} h and "
            f"{MIN_EXTRAPOLATION_REQUESTS} requests"
        )
    elif uncovered and counting is not None:
        warning = (
            f"from {span.total_seconds() / 3600:.1f} h: +-{counting * 100:.0f}% from the count "
            f"alone, and the {' and '.join(uncovered)} traffic cycle is not in the window"
        )
    else:
        warning = None
    return {
        "ok": ok,
        "observed_seconds": span.total_seconds(),
        "requests": requests,
        "count_error_95": counting,
        "uncovered_cycles": uncovered,
        "warning": warning,
    }


def _span(summary: dict[str, Any], window: Window) -> dt.timedelta:
    first = window.since or summary["first_ts"]
    last = window.until or summary["last_ts"]
    if first is None or last is None:
        return dt.timedelta(0)
    if window.until is None:
        last = last + dt.timedelta(seconds=1)  # log times are whole seconds
    return max(last - first, dt.timedelta(0))


def build(
    results: dict[str, Rows],
    stats: LoadStats,
    window: Window,
    *,
    skipped: list[str],
    not_regular: list[str] | None = None,
) -> dict[str, Any]:
    """Assemble the report dict (also the ``--json`` output) from query results."""
    summary = dict(results["summary"][0])
    for count in ("requests", "bytes", "hits", "misses", "status_4xx", "status_5xx"):
        summary[count] = int(summary[count] or 0)  # count_if over no rows is NULL in DuckDB
    hits, misses = summary["hits"], summary["misses"]
    summary["cacheable"] = hits + misses
    summary["hit_ratio"] = ratio(hits, hits + misses)
    locs = edge_locations()
    by_edge = []
    for row in results["by_edge"]:
        place = locs.get(row["edge_code"] or "", UNKNOWN)
        by_edge.append(
            {
                **row,
                "city": place["city"],
                "country": place["country"],
                "continent": place["continent"],
                "hit_ratio": ratio(row["hits"], row["hits"] + row["misses"]),
            }
        )
    timeline = [
        {**row, "hit_ratio": ratio(row["hits"], row["hits"] + row["misses"])}
        for row in results["hit_ratio_by_hour"]
    ]
    statuses = results["error_statuses"]
    return {
        "input": {
            **asdict(stats),
            "skipped_files": skipped,
            "not_regular_files": list(not_regular or []),
        },
        "window": {"since": window.since, "until": window.until},
        "hit_definition": {
            "hits": list(HIT_RESULT_TYPES),
            "misses": list(MISS_RESULT_TYPES),
            "field": "x-edge-response-result-type (x-edge-result-type if absent)",
            "ratio": "hits / (hits + misses); errors, redirects and other types excluded",
        },
        "summary": summary,
        "by_edge": by_edge,
        "hit_ratio_by_hour": timeline,
        "requests_by_hour": results["requests_by_hour"],
        "top_missed": results["top_missed"],
        "result_types": results["result_types"],
        "errors": {
            "4xx": sum(r["requests"] for r in statuses if 400 <= r["status"] < 500),
            "5xx": sum(r["requests"] for r in statuses if 500 <= r["status"] < 600),
            "by_status": statuses,
        },
        "cost": estimate_cost(results["by_edge"], _span(summary, window)),
    }
