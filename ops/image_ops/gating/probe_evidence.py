"""Probe gates: the latest probe JSON (a file or s3:// object), re-checked against the
current gates file, and only if it is fresh: at most `gates.max_probe_age` old (what the
probe's schedule allows; never older than the window). An old green probe is not evidence
for now: a probe that stopped writing (killed, no role, wrong path) must refuse quickly."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from image_ops.gates.checks import Check, check
from image_ops.gates.config import GateConfig
from image_ops.gating import probe_shape
from image_ops.probe import results
from image_ops.probe.summary import probe_checks


def max_age(config: GateConfig) -> timedelta:
    """The oldest probe result still accepted."""
    return min(config.gates.max_probe_age, config.window)


def probe_gate_checks(
    path: str, config: GateConfig, now: datetime, *, endpoint_url: str | None = None
) -> tuple[list[Check], dict[str, Any]]:
    try:
        report = probe_shape.validated(
            json.loads(results.read(path, endpoint_url=endpoint_url)), now
        )
        generated = datetime.fromisoformat(report["generated_at"])
        age = (now - generated).total_seconds()
        checks = [check("probe.age_s", age, "<=", max_age(config).total_seconds(), path)]
        checks += probe_checks(report, config)
    except (OSError, ValueError, KeyError, TypeError, BotoCoreError, ClientError) as exc:
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
