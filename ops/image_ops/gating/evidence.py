"""All gates at once: access logs, the latest probe, the CloudWatch alarms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from image_ops.gates.checks import Check, check
from image_ops.gates.config import GateConfig
from image_ops.gating.alarm_evidence import alarm_checks
from image_ops.gating.logs_evidence import logs_checks
from image_ops.gating.probe_evidence import probe_gate_checks

SOURCES = ("logs", "probe", "alarms")


@dataclass(frozen=True)
class Sources:
    """Where the evidence is. A source left out fails its gate unless it is in `skip`
    (which the audit trail records)."""

    logs: list[str] = field(default_factory=list)
    logs_endpoint_url: str | None = None
    probe_results: str | None = None  # a path or s3://
    cloudwatch: Callable[[], Any] | None = None  # -> boto3 CloudWatch client
    skip: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Evidence:
    checks: list[Check]
    summary: dict[str, Any]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def passed(self) -> bool:
        return not self.failed


def gather(sources: Sources, config: GateConfig, now: datetime) -> Evidence:
    checks: list[Check] = []
    summary: dict[str, Any] = {"skipped": sorted(sources.skip)}
    if "logs" not in sources.skip:
        if sources.logs:
            got, summary["logs"] = logs_checks(
                sources.logs, config, now, endpoint_url=sources.logs_endpoint_url
            )
            checks += got
        else:
            checks.append(check("logs.source", None, "==", 1, "give --logs PATH|s3://..."))
    if "probe" not in sources.skip:
        if sources.probe_results is not None:
            got, summary["probe"] = probe_gate_checks(
                sources.probe_results, config, now, endpoint_url=sources.logs_endpoint_url
            )
            checks += got
        else:
            checks.append(check("probe.source", None, "==", 1, "give --probe-results FILE"))
    if "alarms" not in sources.skip:
        if sources.cloudwatch is not None:
            got, summary["alarms"] = alarm_checks(sources.cloudwatch(), config)
            checks += got
        else:
            checks.append(check("alarms.source", None, "==", 1, "no CloudWatch client"))
    return Evidence(checks, summary)
