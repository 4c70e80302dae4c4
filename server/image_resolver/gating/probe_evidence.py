"""Probe gates: the latest probe JSON, re-checked against the current gates file, and only
if it is fresh (younger than the window): an old green probe is not evidence for now."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from image_resolver.gating.checks import Check, check
from image_resolver.gating.config import GateConfig
from image_resolver.probe.summary import probe_checks

MAX_PROBE_FILE = 64 * 1024 * 1024


def probe_gate_checks(
    path: Path, config: GateConfig, now: datetime
) -> tuple[list[Check], dict[str, Any]]:
    try:
        if path.stat().st_size > MAX_PROBE_FILE:
            raise ValueError("larger than 64 MiB")
        report = json.loads(path.read_text("utf-8"))
        generated = datetime.fromisoformat(report["generated_at"])
        age = (now - generated).total_seconds()
        checks = [check("probe.age_s", age, "<=", config.window.total_seconds(), str(path))]
        checks += probe_checks(report, config)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)[:200] or type(exc).__name__
        return [check("probe.results", None, "==", 1, f"{path}: {why}")], {"error": why}
    summary = {
        "generated_at": report["generated_at"],
        "samples": report["samples"],
        "hit_ratio": report["hit_ratio"],
        "error_rates": report["error_rates"],
        "p95_ms_by_region": {r: row["p95_ms"] for r, row in report["by_region"].items()},
    }
    return checks, summary
