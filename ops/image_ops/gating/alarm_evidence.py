"""Alarm gates: deploy/'s CloudWatch alarms (5xx, 4xx, cache hit rate, origin latency).

Any alarm in ALARM fails its gate; no alarm under the prefix fails too (a typo in the
prefix must not read as "all quiet"). Every page of DescribeAlarms is read (it returns at
most 100 per call): an alarm on page two counts like one on page one. An alarm without a
state is untrusted and fails. CloudFront metrics, hence these alarms, live in us-east-1.
Needs only cloudwatch:DescribeAlarms.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from image_ops.gates.checks import Check, check
from image_ops.gates.config import GateConfig


def alarm_checks(cloudwatch: Any, config: GateConfig) -> tuple[list[Check], dict[str, Any]]:
    prefix = config.gates.alarm_prefix
    try:
        pages = cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        alarms = [
            a
            for page in pages
            for kind in ("MetricAlarms", "CompositeAlarms")
            for a in page.get(kind, [])
        ]
    except (BotoCoreError, ClientError) as exc:
        why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return [check("alarms.readable", None, "==", 1, why)], {"error": why}
    checks = [check("alarms.found", len(alarms), ">=", 1, f"prefix {prefix}")]
    states = {}
    for alarm in alarms:
        state = str(alarm.get("StateValue", "no state"))
        states[str(alarm.get("AlarmName", "?"))] = state
        bad = state not in ("OK", "INSUFFICIENT_DATA") or (
            state == "INSUFFICIENT_DATA" and config.gates.insufficient_data_fails
        )
        reason = f"{state}: {alarm.get('StateReason', '')}"[:160]
        checks.append(
            check(f"alarm[{alarm.get('AlarmName', '?')}]", 1 if bad else 0, "==", 0, reason)
        )
    return checks, {"states": states}
