"""`rollout advance` on the local stack: each gate passes on healthy evidence and refuses,
named with its number and threshold, on bad evidence; the flag moves only on a pass, and
every decision lands in the audit trail."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from image_ops.gating import audit
from tests.ops.gating.conftest import probe, probe_args, run, set_flag, write_logs

pytestmark = pytest.mark.usefixtures("admin_token")


def advance(ev: dict[str, Any], *extra: str) -> tuple[int, str, str]:
    return run("rollout", "advance", "--to", "50", *ev["args"], *extra)


def assert_refused(stack, ev: dict[str, Any], code: int, out: str, gate: str) -> None:
    assert code == 1, out
    assert f"FAIL {gate} = " in out
    assert "REFUSED: " in out and "the flag stays at 10%" in out
    assert stack["client"].get_rollout().percent == 10
    last = audit.read(ev["audit"])[-1]
    assert last["decision"] == "refused" and last["from"] == 10 and last["to"] == 50
    assert gate in [c["name"] for c in last["failed"]]


def test_healthy_evidence_moves_the_flag_and_records_it(stack, evidence) -> None:
    code, out, err = advance(evidence)
    print(out)
    assert code == 0, out + err
    assert "FAIL" not in out and "MOVED: 10% -> 50%" in out
    after = stack["client"].get_rollout()
    assert (after.percent, after.cdn_enabled, after.updated_by) == (50, True, "advance:alice")
    record, outcome = audit.read(evidence["audit"])  # the intent, fsynced before the move
    assert (record["decision"], record["who"], record["from"], record["to"]) == (
        "intent",
        "alice",
        10,
        50,
    )
    assert record["write"] == {"percent": 50, "cdn_enabled": True}
    assert (outcome["decision"], outcome["intent_id"]) == ("moved", record["intent_id"])
    assert outcome["revision_after"] == after.revision
    names = {c["name"] for c in record["checks"]}
    assert {
        "logs.hit_ratio",
        "logs.5xx_rate",
        "logs.4xx_rate",
        "logs.p95_ms[EU]",
        "probe.hit_ratio",
        "probe.5xx_rate",
        "probe.p95_ms[EU]",
        "probe.age_s",
        "alarms.found",
    } <= names
    assert record["evidence"]["logs"]["requests"] == 3000
    assert record["evidence"]["alarms"]["states"]  # the four alarms, all OK


def test_dry_run_checks_and_records_but_does_not_move(stack, evidence) -> None:
    code, out, _ = advance(evidence, "--dry-run")
    assert code == 0 and "DRY RUN: all" in out
    assert stack["client"].get_rollout().percent == 10
    assert audit.read(evidence["audit"])[-1]["decision"] == "dry-run"


def test_5xx_burst_in_the_logs_refuses(stack, evidence, tmp_path) -> None:
    write_logs(evidence["logs"], status_5xx_every=20)
    code, out, _ = advance(evidence)
    print(out)
    assert "FAIL logs.5xx_rate = 0.053, needs <= 0.01" in out
    assert_refused(stack, evidence, code, out, "logs.5xx_rate")


def test_5xx_burst_at_the_edge_refuses(stack, evidence, edge, sample, gates_file) -> None:
    for key in sample[:2]:
        edge.origin.faults.force_status(502, key)
    edge.purge("/uploads/wishlist/*")
    probe(stack, sample, gates_file, evidence["probe"])
    code, out, _ = advance(evidence)
    assert_refused(stack, evidence, code, out, "probe.5xx_rate")


def test_hit_ratio_under_80_percent_refuses(stack, evidence) -> None:
    write_logs(evidence["logs"], ttl=dt.timedelta(0))
    code, out, _ = advance(evidence)
    assert "FAIL logs.hit_ratio = 0, needs >= 0.8" in out
    assert_refused(stack, evidence, code, out, "logs.hit_ratio")


def test_one_slow_region_in_the_logs_refuses(stack, evidence) -> None:
    write_logs(evidence["logs"], slow_edge="FRA")
    code, out, _ = advance(evidence)
    assert "ok   logs.p95_ms[US]" in out and "ok   logs.p95_ms[Asia]" in out
    assert_refused(stack, evidence, code, out, "logs.p95_ms[EU]")


def test_one_slow_region_at_the_edge_refuses(stack, evidence, edge, sample, gates_file) -> None:
    """Simulated slow region (the local edge plays EU): 400 ms at the origin, cache purged."""
    for key in sample:
        edge.origin.faults.add_delay(400, key)
    edge.purge("/uploads/wishlist/*")
    run(*probe_args(stack["target"], sample, gates_file, evidence["probe"], "--users", "40"))
    code, out, _ = advance(evidence)
    assert_refused(stack, evidence, code, out, "probe.p95_ms[EU]")


def test_an_alarm_in_alarm_state_refuses(stack, evidence, alarm_prefix) -> None:
    evidence["set_alarm"]("5xx", "ALARM")
    code, out, _ = advance(evidence)
    assert f"FAIL alarm[{alarm_prefix}5xx] = 1, needs == 0 (ALARM: injected by test)" in out
    assert_refused(stack, evidence, code, out, f"alarm[{alarm_prefix}5xx]")


def test_no_alarms_under_the_prefix_refuses(stack, evidence, tmp_path, gates_file) -> None:
    other = tmp_path / "other.toml"
    other.write_text(gates_file.read_text().replace('alarm_prefix = "', 'alarm_prefix = "typo-'))
    code, out, _ = advance(evidence, "--config", str(other))
    assert_refused(stack, evidence, code, out, "alarms.found")


def test_stale_probe_and_old_logs_refuse(stack, evidence) -> None:
    report = json.loads(evidence["probe"].read_text())
    report["generated_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
    evidence["probe"].write_text(json.dumps(report))
    code, out, _ = advance(evidence, "--window", "30m")  # the logs span 50 to 5 minutes ago
    assert_refused(stack, evidence, code, out, "probe.age_s")
    assert "ok   logs.requests" in out
    code, out, _ = advance(evidence, "--window", "3m")
    assert_refused(stack, evidence, code, out, "logs.requests")


def test_missing_evidence_refuses_and_skips_are_recorded(stack, evidence, tmp_path) -> None:
    args = [
        "rollout",
        "advance",
        "--to",
        "50",
        "--target",
        stack["target"],
        "--audit-log",
        str(evidence["audit"]),
        "--skip",
        "alarms",
    ]
    code, out, _ = run(*args)
    assert_refused(stack, evidence, code, out, "logs.source")
    assert "FAIL probe.source = no data" in out
    code, out, _ = run(*args, "--probe-results", str(tmp_path / "nope.json"), "--skip", "logs")
    assert_refused(stack, evidence, code, out, "probe.results")
    assert audit.read(evidence["audit"])[-1]["evidence"]["skipped"] == ["alarms", "logs"]


def test_usage_mistakes_exit_2_and_leave_the_flag(stack, evidence) -> None:
    code, _, err = run("rollout", "advance", "--to", "10", *evidence["args"])
    assert code == 2 and "--to 10 is not above the current 10%" in err
    code, _, err = advance(evidence, "--window", "forever")
    assert code == 2 and "--window: not a duration" in err
    code, _, err = run("rollout", "advance", "--to", "101", *evidence["args"])
    assert code == 2 and "between 0 and 100" in err
    client = stack["client"]
    set_flag(client, 10, enabled=False)
    code, _, err = advance(evidence)
    assert code == 2 and "kill switch is on" in err
    assert client.get_rollout().percent == 10
    assert not evidence["audit"].exists()


def test_unreachable_resolver_exits_3(evidence, tmp_path) -> None:
    code, _, err = run(
        "rollout", "advance", "--to", "50", "--target", "127.0.0.1:9", "--timeout", "0.5"
    )
    assert code == 3 and err.startswith("image-ops rollout: UNAVAILABLE")


class RacingClient:
    """Another operator sets 20% right after advance read the flag."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.raced = False

    def get_rollout(self) -> Any:
        info = self.client.get_rollout()
        if not self.raced:
            self.raced = True
            self.client.set_rollout(
                percent=20, cdn_enabled=True, expected_revision=info.revision, updated_by="bob"
            )
        return info

    def set_rollout(self, **kwargs: Any) -> Any:
        return self.client.set_rollout(**kwargs)


def test_a_change_meanwhile_is_not_overwritten(stack, evidence, gates_file, local_aws) -> None:
    from image_ops.gates.config import load
    from image_ops.gating.advance import CONFLICT, Gate
    from image_ops.gating.evidence import Sources

    sources = Sources(
        logs=[str(evidence["logs"])],
        probe_results=str(evidence["probe"]),
        cloudwatch=lambda: local_aws.client("cloudwatch"),
    )
    said: list[str] = []
    gate = Gate(
        RacingClient(stack["client"]),
        load(gates_file),
        sources,
        evidence["audit"],
        "alice",
        say=said.append,
    )
    assert gate.advance(50) == CONFLICT
    flag = stack["client"].get_rollout()
    assert (flag.percent, flag.updated_by) == (20, "bob")
    assert said[-1].startswith("REFUSED: the flag changed meanwhile")
    assert audit.read(evidence["audit"])[-1]["decision"] == "conflict"


def test_probe_results_from_s3(stack, evidence, local_aws) -> None:
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket="probe-results-adv")
    s3.put_object(
        Bucket="probe-results-adv", Key="probe/eu/latest.json", Body=evidence["probe"].read_bytes()
    )
    args = [
        a if a != str(evidence["probe"]) else "s3://probe-results-adv/probe/eu/latest.json"
        for a in evidence["args"]
    ]
    s3_args = ["--logs-endpoint-url", local_aws.endpoint]
    code, out, _ = run("rollout", "advance", "--to", "50", "--dry-run", *args, *s3_args)
    assert code == 0 and "DRY RUN: all" in out
    args = [a.replace("latest.json", "missing.json") for a in args]
    code, out, _ = run("rollout", "advance", "--to", "50", *args, *s3_args)
    assert_refused(stack, evidence, code, out, "probe.results")
