"""Evidence that cannot be trusted is refused, with its reason (issue #21): a probe from
the future, probe reports of the wrong shape, logs that load no row, every source skipped,
alarms past the first page. Each is a failed gate, recorded, exit 1, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from image_ops.gating import audit
from tests.ops.gating.conftest import run

pytestmark = pytest.mark.usefixtures("admin_token")


def advance(ev: dict[str, Any], *extra: str) -> tuple[int, str, str]:
    return run("rollout", "advance", "--to", "50", *ev["args"], *extra)


def assert_refused_with(stack, ev: dict[str, Any], code: int, out: str, err: str, gate: str) -> str:
    """The gate failed with a reason, the refusal is recorded, the flag stays; the reason."""
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert f"FAIL {gate} = no data" in out or f"FAIL {gate} = " in out
    assert stack["client"].get_rollout().percent == 10
    last = audit.read(ev["audit"])[-1]
    assert last["decision"] == "refused"
    [failed] = [c for c in last["failed"] if c["name"] == gate]
    assert failed["detail"]
    return str(failed["detail"])


def spoil_probe(ev: dict[str, Any], change: Any) -> None:
    report = json.loads(ev["probe"].read_text())
    change(report)
    ev["probe"].write_text(json.dumps(report))


def test_a_probe_from_the_future_is_refused(stack, evidence) -> None:
    """Before: dated 2036, its age was negative, so 'fresh', and the flag moved."""
    spoil_probe(evidence, lambda r: r.update(generated_at="2036-01-01T00:00:00+00:00"))
    code, out, err = advance(evidence)
    why = assert_refused_with(stack, evidence, code, out, err, "probe.results")
    assert "in the future" in why and "2036-01-01" in why


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda r: r.update(by_region=[["EU", 12.0]]), "by_region: Input should be a valid dict"),
        (lambda r: r["by_region"]["EU"].pop("p95_ms"), "by_region.EU.p95_ms: Field required"),
        (lambda r: r["by_region"].update(EU=12), "by_region.EU: Input should be a valid dict"),
        (lambda r: r["by_region"].update(XX={"requests": 1}), "by_region.XX.p95_ms"),
        (lambda r: r.update(hit_ratio=True), "hit_ratio"),
        (lambda r: r.update(samples="300"), "samples: Input should be a valid integer"),
        (lambda r: r["by_region"]["EU"].update(p95_ms=-1), "greater than or equal to 0"),
        (lambda r: r.update(generated_at="2026-01-01T00:00:00"), "timezone"),
        (lambda r: r.clear() or r.update(x=1), "generated_at: Field required"),
    ],
    ids=[
        "by_region-a-list",
        "row-without-p95",
        "row-a-number",
        "untargeted-row-without-p95",
        "hit-ratio-a-bool",
        "samples-a-string",
        "negative-p95",
        "naive-time",
        "not-a-report",
    ],
)
def test_a_malformed_probe_is_a_failed_gate_with_its_reason(
    stack, evidence, change: Any, needle: str
) -> None:
    """Before: by_region a list, a row without p95_ms or a row that is a number crashed
    advance with a traceback (exit 1, no record)."""
    spoil_probe(evidence, change)
    code, out, err = advance(evidence)
    why = assert_refused_with(stack, evidence, code, out, err, "probe.results")
    assert needle in why


def test_a_probe_that_is_not_json_or_an_array_is_refused(stack, evidence) -> None:
    evidence["probe"].write_text("[1, 2, 3]")
    code, out, err = advance(evidence)
    assert "a JSON list" in assert_refused_with(stack, evidence, code, out, err, "probe.results")
    evidence["probe"].write_bytes(b"\xff\xfe{")
    code, out, err = advance(evidence)
    assert_refused_with(stack, evidence, code, out, err, "probe.results")


@pytest.mark.parametrize(
    "body",
    [
        "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes\n",
        "#Version: 1.0\n#Fields: date time x-edge-location\n" + "garbage\n" * 500,
        "#Version: 1.0\n#Fields: date ' \"; DROP TABLE x; -- date\n1\t2\t3\n",
    ],
    ids=["header-only", "all-malformed", "hostile-fields"],
)
def test_logs_that_load_no_row_are_a_failed_gate(stack, evidence, tmp_path, body: str) -> None:
    """Before: TypeError int() ... NoneType in duckdb_engine: exit 1, no record."""
    evidence["logs"].unlink()
    log = tmp_path / "E2EXAMPLE.2026-11-25-00.a"
    log.write_text(body)
    args = [a if a != str(evidence["logs"]) else str(log) for a in evidence["args"]]
    code, out, err = run("rollout", "advance", "--to", "50", *args)
    why = assert_refused_with(stack, evidence, code, out, err, "logs.lines_loaded")
    assert "1 files" in why and "malformed lines" in why


def test_logs_with_a_long_s3_key_are_read(stack, evidence, local_aws) -> None:
    """Before: OSError File name too long, reported as "audit trail: File name too long"."""
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket="logs-long-key")
    s3.put_object(
        Bucket="logs-long-key", Key="cf/" + "k" * 300 + ".gz", Body=evidence["logs"].read_bytes()
    )
    args = [a if a != str(evidence["logs"]) else "s3://logs-long-key/cf/" for a in evidence["args"]]
    code, out, err = run(
        "rollout", "advance", "--to", "50", *args, "--logs-endpoint-url", local_aws.endpoint
    )
    assert code == 0, out + err
    assert "ok   logs.requests = 3000" in out


def test_every_source_skipped_is_refused_unless_forced_with_a_reason(stack, evidence) -> None:
    """Before: --skip logs --skip probe --skip alarms moved the flag on zero gates."""
    skip_all = ["--skip", "logs", "--skip", "probe", "--skip", "alarms"]
    code, out, err = advance(evidence, *skip_all)
    assert code == 2 and out == "" and "every evidence source is skipped" in err
    assert not evidence["audit"].exists() and stack["client"].get_rollout().percent == 10
    for extra, needle in (
        (["--force"], "--force needs --reason"),
        (["--force", "--reason", "   "], "--force needs --reason"),
        (["--reason", "why"], "--reason goes with --force"),
    ):
        code, _, err = advance(evidence, *skip_all, *extra)
        assert code == 2 and needle in err, err
    code, _, err = advance(evidence, "--skip", "alarms", "--force", "--reason", "x")
    assert code == 2 and "never overrides a failing gate" in err
    assert not evidence["audit"].exists() and stack["client"].get_rollout().percent == 10

    reason = "CloudWatch down (INC-123), probe and logs verified by hand by bob"
    code, out, err = advance(evidence, *skip_all, "--force", "--reason", reason)
    assert code == 0, out + err
    assert f"FORCED: every evidence source skipped; reason: {reason}" in out
    intent, moved = audit.read(evidence["audit"])
    assert (intent["decision"], moved["decision"]) == ("intent", "moved")
    assert intent["forced"] == moved["forced"] == reason
    assert intent["checks"] == [] and intent["evidence"]["skipped"] == ["alarms", "logs", "probe"]
    assert stack["client"].get_rollout().percent == 50


def test_alarms_past_the_first_page_count(stack, evidence, local_aws, alarm_prefix) -> None:
    """150 more alarms under the prefix, the last one in ALARM. Before: only the first 100
    matching alarms were read, so it did not count."""
    cw = local_aws.client("cloudwatch")
    for i in range(150):
        cw.put_metric_alarm(
            AlarmName=f"{alarm_prefix}zz-{i:03d}",
            Namespace="AWS/CloudFront",
            MetricName="Requests",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        cw.set_alarm_state(AlarmName=f"{alarm_prefix}zz-{i:03d}", StateValue="OK", StateReason="t")
    cw.set_alarm_state(AlarmName=f"{alarm_prefix}zz-149", StateValue="ALARM", StateReason="late")
    code, out, err = advance(evidence)
    assert_refused_with(stack, evidence, code, out, err, f"alarm[{alarm_prefix}zz-149]")
    assert "ok   alarms.found = 154" in out


def test_a_source_that_raises_is_a_failed_gate_not_a_crash(stack, evidence, tmp_path) -> None:
    """Whatever a source raises (here the log scratch folder is a file: TMPDIR) is a failed
    gate with the exception's type and message, recorded."""
    bad = tmp_path / "tmpdir-is-a-file"
    bad.write_text("x")
    import tempfile

    saved = tempfile.tempdir
    tempfile.tempdir = str(bad)
    try:
        code, out, err = advance(evidence)
    finally:
        tempfile.tempdir = saved
    why = assert_refused_with(stack, evidence, code, out, err, "logs.readable")
    assert "not a folder" in why


def test_forged_escapes_in_evidence_reach_the_terminal_escaped(
    stack, evidence, local_aws, alarm_prefix
) -> None:
    local_aws.client("cloudwatch").set_alarm_state(
        AlarmName=f"{alarm_prefix}5xx", StateValue="ALARM", StateReason="\x1b[2J\x1b]0;pwned\x07"
    )
    code, out, err = advance(evidence)
    assert code == 1
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "ALARM: \\x1b[2J\\x1b]0;pwned\\x07" in out
