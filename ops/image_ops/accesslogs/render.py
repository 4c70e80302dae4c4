"""Report output: aligned plain-text tables for people, JSON for scripts.

Every text cell and line is passed through ``safe_text``: the report prints fields of
log lines that anyone who can write to the log bucket (or forge a request) controls."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from image_ops.accesslogs.fields import BY_COLUMN, REPORT_NEEDS
from image_ops.textsafe import safe_lines, safe_text

__all__ = ["safe_text", "table", "to_json", "to_text"]

MAX_TIMELINE_ROWS = 48
MAX_NAMED_FILES = 5  # files named in a note; the count says how many more
_RIGHT = ("ms", "%", "bytes", "requests", "month", "CloudFront", "misses")


def _json_default(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)  # Decimal and friends


def to_json(report: dict[str, Any]) -> str:
    """Stable JSON (sorted keys, ISO timestamps)."""
    return json.dumps(report, default=_json_default, indent=2, sort_keys=True)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.1f}%"


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{float(v) * 1000:.0f}"


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} TiB"  # pragma: no cover


def _usd(v: float) -> str:
    """Cents, or six decimals below a cent (the cost of a short window is not $0.00)."""
    return f"${v:,.6f}" if 0 < abs(v) < 0.01 else f"${v:,.2f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-align text, right-align everything else."""
    cells = [[safe_text(str(c)) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=True)]
    numeric = [
        all(isinstance(r[i], int | float) or r[i] == "-" for r in rows) for i in range(len(headers))
    ]
    numeric = [n or h.endswith(_RIGHT) for n, h in zip(numeric, headers, strict=True)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _timeline(rows: list[dict[str, Any]]) -> tuple[str, list[list[object]]]:
    """Hourly rows, or daily sums when there are too many hours to read."""
    if len(rows) <= MAX_TIMELINE_ROWS:
        return "hour (UTC)", [
            [r["hour_start"].strftime("%Y-%m-%d %H:00"), r["requests"], _pct(r["hit_ratio"])]
            for r in rows
        ]
    days: dict[str, list[int]] = {}
    for r in rows:
        acc = days.setdefault(r["hour_start"].strftime("%Y-%m-%d"), [0, 0, 0])
        acc[0] += r["requests"]
        acc[1] += r["hits"]
        acc[2] += r["misses"]
    return "day (UTC)", [
        [d, req, _pct(h / (h + m) if h + m else None)] for d, (req, h, m) in days.items()
    ]


def _input_notes(inp: dict[str, Any]) -> list[str]:
    """The formats read, and what the report could not fill for files without a field."""
    notes = []
    if inp.get("formats"):
        notes.append("formats " + ", ".join(f"{k} {v}" for k, v in sorted(inp["formats"].items())))
    unreadable = inp.get("unreadable_files", [])
    shown = unreadable[:MAX_NAMED_FILES]
    more = len(unreadable) - len(shown)
    if shown:
        names = ", ".join(safe_text(n) for n in shown) + (f" and {more} more" if more else "")
        notes.append(f"unreadable, left out (their pages do not decode): {names}")
    for column, files in sorted(inp.get("missing_fields", {}).items()):
        name = BY_COLUMN[column].log_name
        needs = REPORT_NEEDS.get(column, "its column")
        notes.append(
            f"field {name} missing in {files} of {inp['files']} files: not filled there: {needs}"
        )
    return notes


def to_text(report: dict[str, Any]) -> str:
    """The human-readable report."""
    s = report["summary"]
    inp = report["input"]
    hd = report["hit_definition"]
    out: list[str] = []
    out.append("CloudFront access-log report")
    out.append(
        f"files {inp['files']}, lines read {inp['rows']}, malformed lines skipped "
        f"{inp['malformed_lines']} (over {inp['max_line_bytes']} bytes "
        f"{inp['over_long_lines']}), truncated files {len(inp['truncated_files'])}, "
        f"unreadable files left out {len(inp.get('unreadable_files', []))}, "
        f"non-log files skipped {len(inp['skipped_files'])}, "
        f"not regular files skipped {len(inp['not_regular_files'])}"
    )
    out.extend(_input_notes(inp))
    out.append(f"window  {s['first_ts'] or '-'} .. {s['last_ts'] or '-'} (UTC)")
    out.append("")
    out.append(f"requests      {s['requests']}")
    out.append(f"bytes served  {_bytes(s['bytes'])}")
    out.append(
        f"hit ratio     {_pct(s['hit_ratio'])}  ({s['hits']} hits / {s['cacheable']} hits+misses;"
        f" hits = {', '.join(hd['hits'])}; target > 80% after warm-up)"
    )
    out.append(f"errors        4xx {report['errors']['4xx']}, 5xx {report['errors']['5xx']}")
    out.append(
        f"time-taken ms p50 {_ms(s['time_taken_p50'])}  p95 {_ms(s['time_taken_p95'])}"
        f"  p99 {_ms(s['time_taken_p99'])}"
    )
    out.append(
        f"TTFB ms       p50 {_ms(s['ttfb_p50'])}  p95 {_ms(s['ttfb_p95'])}"
        f"  p99 {_ms(s['ttfb_p99'])}"
    )
    out.append("")
    out.append("By edge location")
    out.append(
        table(
            [
                "edge",
                "city",
                "country",
                "continent",
                "requests",
                "bytes",
                "hit %",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "ttfb p50 ms",
                "ttfb p95 ms",
                "ttfb p99 ms",
            ],
            [
                [
                    e["edge_code"] or "-",
                    e["city"],
                    e["country"],
                    e["continent"],
                    e["requests"],
                    _bytes(e["bytes"]),
                    _pct(e["hit_ratio"]),
                    _ms(e["time_taken_p50"]),
                    _ms(e["time_taken_p95"]),
                    _ms(e["time_taken_p99"]),
                    _ms(e["ttfb_p50"]),
                    _ms(e["ttfb_p95"]),
                    _ms(e["ttfb_p99"]),
                ]
                for e in report["by_edge"]
            ],
        )
    )
    out.append("")
    label, rows = _timeline(report["hit_ratio_by_hour"])
    out.append("Hit ratio over time (warm-up)")
    out.append(table([label, "requests", "hit %"], rows))
    out.append("")
    out.append("Top missed keys")
    out.append(
        table(
            ["misses", "bytes", "uri"],
            [[r["misses"], _bytes(r["bytes"]), r["uri"]] for r in report["top_missed"]],
        )
    )
    out.append("")
    out.append("Result types")
    out.append(
        table(
            ["result type", "requests"],
            [[r["result_type"], r["requests"]] for r in report["result_types"]],
        )
    )
    out.append("")
    out.append("Error statuses")
    out.append(
        table(
            ["status", "requests"],
            [[r["status"], r["requests"]] for r in report["errors"]["by_status"]],
        )
    )
    out.append("")
    out.extend(_cost_lines(report["cost"]))
    return safe_lines("\n".join(out)) + "\n"


def _cost_lines(c: dict[str, Any]) -> list[str]:
    """The cost comparison; from a window too short to extrapolate, the window's own cost."""
    ex = c["extrapolation"]
    prices = f"prices as of {c['prices_as_of']}, {c['currency']}"
    if not ex["ok"]:
        per_window = 1 / c["scale_to_month"] if c["scale_to_month"] else 0.0
        return [
            f"Cost ({prices}): {ex['warning']}",
            f"the observed window itself: CloudFront "
            f"{_usd(c['cloudfront_monthly_usd'] * per_window)}, "
            f"S3 direct {_usd(c['s3_direct_monthly_usd'] * per_window)}",
            f"assumptions: {c['assumptions']}",
        ]
    out = [
        f"Estimated monthly cost ({prices}; "
        f"observed {c['observed_hours']:.1f} h scaled x{c['scale_to_month']:.1f})",
        table(
            ["price region", "price classes", "GiB/month", "requests/month", "CloudFront"],
            [
                [
                    r["name"],
                    ",".join(pc.removeprefix("PriceClass_") for pc in r["price_classes"]),
                    f"{r['monthly_gib']:.1f}",
                    f"{r['monthly_requests']:.0f}",
                    _usd(r["monthly_usd"]),
                ]
                for r in c["by_price_region"]
            ],
        ),
    ]
    if ex["warning"]:
        out.append(f"estimate {ex['warning']}")
    out += [
        f"CloudFront total  {_usd(c['cloudfront_monthly_usd'])}",
        f"S3 direct total   {_usd(c['s3_direct_monthly_usd'])}",
        f"difference        {_usd(c['savings_monthly_usd'])} (positive = CloudFront cheaper)",
        f"assumptions: {c['assumptions']}",
    ]
    return out
