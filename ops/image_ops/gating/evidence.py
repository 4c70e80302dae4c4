"""All gates at once: access logs, the latest probe, the CloudWatch alarms.

Evidence that cannot be trusted is refused with its reason: a source that cannot be read
or whose data has the wrong shape yields a failed gate (`<source>.readable`, or the
source's own check) naming why, never a traceback; the caller records it like any other
refusal. No gate at all is no evidence: `passed` is false (`--force` aside, advance.py).
"""

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
        """Every gate passed, and there was at least one."""
        return bool(self.checks) and not self.failed


def _guarded(
    name: str, read: Callable[[], tuple[list[Check], dict[str, Any]]]
) -> tuple[list[Check], dict[str, Any]]:
    """A source's checks, or one failed check saying why the source could not be read."""
    try:
        return read()
    except Exception as exc:  # any failure of a source is a failed gate, with its reason
        why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        return [check(f"{name}.readable", None, "==", 1, why.rstrip(": "))], {"error": why}


def gather(sources: Sources, config: GateConfig, now: datetime) -> Evidence:
    checks: list[Check] = []
    summary: dict[str, Any] = {"skipped": sorted(sources.skip)}
    if "logs" not in sources.skip:
        if sources.logs:
            got, summary["logs"] = _guarded(
                "logs",
                lambda: logs_checks(
                    sources.logs, config, now, endpoint_url=sources.logs_endpoint_url
                ),
            )
            checks += got
        else:
            checks.append(check("logs.source", None, "==", 1, "give --logs PATH|s3://..."))
    if "probe" not in sources.skip:
        if sources.probe_results is not None:
            results = sources.probe_results
            got, summary["probe"] = _guarded(
                "probe",
                lambda: probe_gate_checks(
                    results, config, now, endpoint_url=sources.logs_endpoint_url
                ),
            )
            checks += got
        else:
            checks.append(check("probe.source", None, "==", 1, "give --probe-results FILE"))
    if "alarms" not in sources.skip:
        if sources.cloudwatch is not None:
            cloudwatch = sources.cloudwatch
            got, summary["alarms"] = _guarded("alarms", lambda: alarm_checks(cloudwatch(), config))
            checks += got
        else:
            checks.append(check("alarms.source", None, "==", 1, "no CloudWatch client"))
    return Evidence(checks, summary)
