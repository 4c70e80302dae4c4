"""Access-log gates: hit ratio, 4xx/5xx rates and p95 time-taken per region for the window,
from local files or an s3:// prefix, through the same DuckDB report as `logs report`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from image_ops.accesslogs import duckdb_engine
from image_ops.accesslogs.cli import UsageError, build_report
from image_ops.accesslogs.queries import WINDOW_CTE
from image_ops.accesslogs.report import edge_locations
from image_ops.accesslogs.sources import SourceError
from image_ops.gates.checks import Check, check, rate
from image_ops.gates.config import GateConfig, show_duration

# Requests per region: edge codes joined to their region.
REGION_REQUESTS_SQL = (
    WINDOW_CTE
    + """
SELECT coalesce(r.region, 'unknown') AS region, count(*) AS requests
FROM w LEFT JOIN edge_region r ON r.edge_code = w.edge_code
GROUP BY 1 ORDER BY 1
"""
)
# Exact per-region p95 (not the max of per-edge p95s), from the report's histogram of
# time-taken per edge (duckdb_engine.percentiles: bounded memory, spills to disk).
_HIST = duckdb_engine.hist_table("time_taken")
REGION_HISTOGRAM_SQL = (
    "SELECT coalesce(r.region, 'unknown') AS g, h.v, sum(h.c) AS c "  # noqa: S608 (constant)
    f"FROM {_HIST} h LEFT JOIN edge_region r ON r.edge_code = h.edge_code GROUP BY 1, 2"
)


def _region_p95(config: GateConfig, window: duckdb_engine.Window) -> Any:
    codes = set(edge_locations()) | set(config.pop_regions)
    pairs = [(code, config.region_of(code)) for code in sorted(codes)]

    def run(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, float | None]]:
        con.execute("CREATE OR REPLACE TEMP TABLE edge_region (edge_code VARCHAR, region VARCHAR)")
        con.executemany("INSERT INTO edge_region VALUES (?, ?)", pairs)
        counts = con.execute(REGION_REQUESTS_SQL, window.params()).fetchall()
        p95 = duckdb_engine.percentiles(con, REGION_HISTOGRAM_SQL, (0.95,))
        return [(str(region), int(n), p95.get(region, {}).get(0.95)) for region, n in counts]

    return run


def logs_checks(
    paths: list[str],
    config: GateConfig,
    now: datetime,
    *,
    endpoint_url: str | None = None,
    scratch_dir: Path | None = None,
) -> tuple[list[Check], dict[str, Any]]:
    """Checks for the window ending `now`, and the evidence summary for the audit trail."""
    since = (now - config.window).astimezone(UTC).replace(tzinfo=None)
    window = duckdb_engine.Window(since, now.astimezone(UTC).replace(tzinfo=None))
    try:
        rep, regions = build_report(
            paths,
            window,
            endpoint_url=endpoint_url,
            threads=1,
            scratch_dir=scratch_dir,
            extra=_region_p95(config, window),
        )
    except (UsageError, SourceError, duckdb.Error) as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return [check("logs.readable", None, "==", 1, first)], {"error": first}
    s = rep["summary"]
    g = config.gates
    requests = int(s["requests"])
    inp = rep["input"]
    out = [
        # No line loaded at all (header-only files, every line malformed) is no evidence,
        # said as such rather than as a low request count.
        check(
            "logs.lines_loaded",
            int(inp["rows"]),
            ">=",
            1,
            f"{inp['files']} files, {inp['malformed_lines']} malformed lines, "
            f"{len(inp['skipped_files']) + len(inp['not_regular_files'])} files skipped, "
            f"{len(inp['unreadable_files'])} unreadable",
        ),
        check(
            "logs.requests",
            requests,
            ">=",
            g.min_log_requests,
            f"window {show_duration(config.window)}",
        ),
        check("logs.hit_ratio", s["hit_ratio"], ">=", g.min_hit_ratio),
        check("logs.5xx_rate", rate(int(s["status_5xx"]), requests), "<=", g.max_5xx_rate),
        check("logs.4xx_rate", rate(int(s["status_4xx"]), requests), "<=", g.max_4xx_rate),
    ]
    p95 = {}
    for region, count, p95_s in regions or []:
        p95[region] = {"requests": count, "p95_ms": None if p95_s is None else p95_s * 1000}
        target = config.targets_p95_ms.get(region)
        if target is not None:
            out.append(
                check(
                    f"logs.p95_ms[{region}]",
                    p95[region]["p95_ms"],
                    "<",
                    target,
                    f"{count} requests",
                )
            )
    summary = {
        "files": inp["files"],
        "lines_loaded": inp["rows"],
        "malformed_lines": inp["malformed_lines"],
        "unreadable_files": len(inp["unreadable_files"]),
        "requests": requests,
        "hit_ratio": s["hit_ratio"],
        "status_4xx": s["status_4xx"],
        "status_5xx": s["status_5xx"],
        "by_region": p95,
        "window": [window.since, window.until],
    }
    return out, summary
