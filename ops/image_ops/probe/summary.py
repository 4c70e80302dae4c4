"""Samples -> the probe report: p50/p95 per POP, region and origin, hit ratio, error rates,
failures per cause, where addresses came from, and the checks against the gates file's
targets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from image_ops.gates.checks import Check, check, percentile, rate
from image_ops.gates.config import GateConfig
from image_ops.probe.timing import CAUSES, RESOLVED_BY, Sample

PHASES = ("dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms")


def _group(samples: Iterable[Sample]) -> dict[str, Any]:
    rows = list(samples)
    total = [s.total_ms for s in rows if s.status]
    ttfb = [s.ttfb_ms for s in rows if s.ttfb_ms is not None]
    hits = sum(1 for s in rows if s.x_cache.lower().startswith(("hit", "refreshhit")))
    misses = sum(1 for s in rows if s.x_cache.lower().startswith("miss"))
    return {
        "requests": len(rows),
        "bytes": sum(s.bytes for s in rows),
        "p50_ms": percentile(total, 0.5),
        "p95_ms": percentile(total, 0.95),
        "ttfb_p50_ms": percentile(ttfb, 0.5),
        "ttfb_p95_ms": percentile(ttfb, 0.95),
        "hits": hits,
        "misses": misses,
        "hit_ratio": rate(hits, hits + misses),
        "status_4xx": sum(1 for s in rows if 400 <= s.status < 500),
        "status_5xx": sum(1 for s in rows if s.status >= 500),
        "failed": sum(1 for s in rows if s.status == 0),
    }


def _failure_text(sample: Sample) -> str:
    """`host: why`, what an operator needs to tell a typo'd host from a down server."""
    why = sample.error or f"HTTP {sample.status}"
    try:
        host = urlsplit(sample.url).hostname
    except ValueError:  # a refused URL may not parse
        host = None
    return f"{host}: {why}" if host else why


def failures(samples: Iterable[Sample]) -> dict[str, dict[str, Any]]:
    """Per cause (every one of CAUSES, then any other seen): how many failed samples, and
    the first one's message (None when there is none), so the text report says why the
    run failed, not only how often."""
    out: dict[str, dict[str, Any]] = {c: {"count": 0, "example": None} for c in CAUSES}
    for s in samples:
        if s.cause:
            row = out.setdefault(s.cause, {"count": 0, "example": None})
            row["count"] += 1
            row["example"] = row["example"] or _failure_text(s)
    return out


def _by(samples: Sequence[Sample], key: Any) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        groups[key(s)].append(s)
    return {name: _group(rows) for name, rows in sorted(groups.items())}


def summarise(
    samples: Sequence[Sample],
    config: GateConfig,
    *,
    planned: int | None = None,
    partial: bool = False,
) -> dict[str, Any]:
    """The report dict (also the JSON file); `checks` decide the exit code. `partial`: the
    run's deadline stopped it after `samples` of `planned` loads, which fails probe.complete."""
    cdn = [s for s in samples if s.origin == "cdn"]
    by_pop = _by([s for s in cdn if s.pop], lambda s: s.pop)
    for pop, row in by_pop.items():
        row["region"] = config.region_of(pop)
    by_region = _by(cdn, lambda s: config.region_of(s.pop) if s.pop else "no-pop")
    overall = _group(samples)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "samples": len(samples),
        "planned": len(samples) if planned is None else planned,
        "partial": partial,
        "overall": overall,
        "hit_ratio": _group(cdn)["hit_ratio"],
        "error_rates": {
            "4xx": rate(overall["status_4xx"], len(samples)),
            "5xx": rate(overall["status_5xx"] + overall["failed"], len(samples)),
        },
        "by_pop": by_pop,
        "by_region": by_region,
        "by_origin": _by(samples, lambda s: s.origin),
        "phases_p95_ms": {
            p: percentile([v for s in samples if (v := getattr(s, p)) is not None], 0.95)
            for p in PHASES
        },
        "failures": failures(samples),
        "resolved_by": {r: sum(1 for s in samples if s.resolved_by == r) for r in RESOLVED_BY},
        "requests": [asdict(s) for s in samples],
    }
    report["checks"] = [c.as_dict() for c in probe_checks(report, config)]
    report["passed"] = all(c["passed"] for c in report["checks"])
    return report


def probe_checks(report: dict[str, Any], config: GateConfig, prefix: str = "probe") -> list[Check]:
    """Targets per region (only regions the probe reached), hit ratio, 5xx, sample count.
    Also what `rollout advance` re-checks from a saved report."""
    g = config.gates
    partial = bool(report.get("partial", False))  # reports from before the deadline: complete
    out = [
        check(
            f"{prefix}.complete",
            0 if partial else 1,
            "==",
            1,
            f"deadline reached after {report['samples']} of {report.get('planned')} loads"
            if partial
            else "",
        ),
        check(f"{prefix}.samples", report["samples"], ">=", g.min_probe_samples),
        check(f"{prefix}.hit_ratio", report["hit_ratio"], ">=", g.min_hit_ratio),
        check(
            f"{prefix}.5xx_rate",
            report["error_rates"]["5xx"],
            "<=",
            g.max_5xx_rate,
            "connection failures count as 5xx",
        ),
    ]
    for region, row in report["by_region"].items():
        target = config.targets_p95_ms.get(region)
        if target is not None:
            out.append(check(f"{prefix}.p95_ms[{region}]", row["p95_ms"], "<", target))
    return out
