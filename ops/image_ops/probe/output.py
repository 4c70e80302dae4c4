"""The probe report as text (stdout), JSON (file) and Prometheus textfile metrics."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from image_ops.textsafe import safe_text


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _table(title: str, rows: dict[str, dict[str, Any]], extra: str = "") -> list[str]:
    lines = [
        f"{title:<14}{extra:<8} {'reqs':>5} {'p50 ms':>8} {'p95 ms':>8} {'ttfb95':>8} "
        f"{'hit':>7} {'4xx':>4} {'5xx':>4} {'fail':>4}"
    ]
    for name, r in rows.items():
        lines.append(
            f"{name:<14}{r.get('region', '') if extra else '':<8} {r['requests']:>5} "
            f"{_ms(r['p50_ms']):>8} {_ms(r['p95_ms']):>8} {_ms(r['ttfb_p95_ms']):>8} "
            f"{_pct(r['hit_ratio']):>7} {r['status_4xx']:>4} {r['status_5xx']:>4} {r['failed']:>4}"
        )
    return lines


def _failures_line(failures: dict[str, dict[str, Any]]) -> str:
    """`failures: dns 12 (cdn.example: gaierror: ...), connect 0, ...`: every cause, so a
    zero says that step worked; the example comes from outside (a server, a resolver's
    URL) and is escaped."""
    if not any(row["count"] for row in failures.values()):
        return "failures: none"
    parts = [
        f"{cause} {row['count']}" + (f" ({safe_text(row['example'])})" if row["count"] else "")
        for cause, row in failures.items()
    ]
    return "failures: " + ", ".join(parts)


def to_text(report: dict[str, Any]) -> str:
    phases = "  ".join(
        f"{k.removesuffix('_ms')} {_ms(v)}" for k, v in report["phases_p95_ms"].items()
    )
    lines = [
        f"probe at {report['generated_at']}: {report['samples']} requests, "
        f"hit ratio {_pct(report['hit_ratio'])}, 4xx {_pct(report['error_rates']['4xx'])}, "
        f"5xx {_pct(report['error_rates']['5xx'])}",
        f"p95 per phase (ms): {phases}",
        _failures_line(report["failures"]),
        "addresses: "
        + ", ".join(f"{k} {v}" for k, v in report["resolved_by"].items())
        + " (pinned and localhost: no DNS lookup, dns 0 ms)",
        "",
        *_table("POP", report["by_pop"], "region"),
        "",
        *_table("region", report["by_region"]),
        "",
        *_table("origin", report["by_origin"]),
        "",
    ]
    from image_ops.gates.checks import Check

    lines += [Check(**c).line() for c in report["checks"]]
    lines.append("probe: PASSED" if report["passed"] else "probe: FAILED")
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def to_prometheus(report: dict[str, Any], generated_unix: float) -> str:
    """Textfile-collector format: gauges only; a missing value is left out, not 0."""
    out = [
        "# HELP image_probe_latency_ms Image load time (ms) seen by the probe.",
        "# TYPE image_probe_latency_ms gauge",
    ]
    for kind, rows in (
        ("pop", report["by_pop"]),
        ("region", report["by_region"]),
        ("origin", report["by_origin"]),
    ):
        for name, row in rows.items():
            for q in ("p50", "p95"):
                if row[f"{q}_ms"] is not None:
                    out.append(
                        f'image_probe_latency_ms{{{kind}="{_label(name)}",quantile="{q}"}} '
                        f"{row[f'{q}_ms']:.3f}"
                    )
    gauges: list[tuple[str, str, float | None]] = [
        (
            "image_probe_hit_ratio",
            "CDN hits / (hits + misses) seen by the probe.",
            report["hit_ratio"],
        ),
        (
            "image_probe_error_rate_5xx",
            "Share of probe requests answered 5xx or failed.",
            report["error_rates"]["5xx"],
        ),
        (
            "image_probe_error_rate_4xx",
            "Share of probe requests answered 4xx.",
            report["error_rates"]["4xx"],
        ),
        ("image_probe_requests", "Requests in the last probe run.", report["samples"]),
        ("image_probe_passed", "1 when every target was met.", 1.0 if report["passed"] else 0.0),
        ("image_probe_last_run_timestamp_seconds", "When the probe last ran.", generated_unix),
    ]
    for name, help_text, value in gauges:
        if value is not None:
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]
    out.append("# HELP image_probe_check_passed 1 per check that passed, 0 per failed one.")
    out.append("# TYPE image_probe_check_passed gauge")
    for c in report["checks"]:
        out.append(f'image_probe_check_passed{{check="{_label(c["name"])}"}} {int(c["passed"])}')
    return "\n".join(out) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write then rename, so a reader (node_exporter, `rollout advance`) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"
