"""`rollout auto`: 10 -> 50 -> 100 with a (tiny) soak per step, gates re-checked during the
soak; a failure injected mid-soak pulls the kill switch with the failed gate as reason."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from image_ops.gates.checks import check
from image_ops.gates.config import load
from image_ops.gating import audit
from image_ops.gating.advance import Gate
from image_ops.gating.evidence import Evidence, Sources
from tests.ops.gating.conftest import run, set_flag

pytestmark = pytest.mark.usefixtures("admin_token")


def test_healthy_walk_reaches_100_after_each_soak(stack, evidence) -> None:
    code, out, err = run("rollout", "auto", *evidence["args"])
    assert code == 0, out + err
    assert "MOVED: 10% -> 50%" in out and "MOVED: 50% -> 100%" in out
    assert out.count("soak at 50%: ") >= 2 and out.count("soak at 100%: ") >= 2
    assert "DONE: rollout at 100%" in out
    flag = stack["client"].get_rollout()
    assert (flag.percent, flag.cdn_enabled, flag.updated_by) == (100, True, "auto:alice")
    assert [(r["decision"], r["to"]) for r in audit.read(evidence["audit"])] == [
        ("intent", 50),
        ("moved", 50),
        ("intent", 100),
        ("moved", 100),
    ]


def test_alarm_mid_soak_pulls_the_kill_switch_with_the_reason(
    stack, evidence, alarm_prefix
) -> None:
    # The alarm fires once the flag is at 50%, whatever the machine's load; the long soak
    # only bounds a failure: the next 0.2 s check sees the alarm and ends the walk.
    moved = threading.Event()
    stop = threading.Event()

    def fire_at_50() -> None:
        while not stop.wait(0.02):
            if stack["client"].get_rollout().percent == 50:
                evidence["set_alarm"]("5xx", "ALARM")
                moved.set()
                return

    watcher = threading.Thread(target=fire_at_50, daemon=True)
    watcher.start()
    try:
        code, out, _ = run("rollout", "auto", *evidence["args"], "--soak", "20s")
    finally:
        stop.set()
        watcher.join(5)
    assert moved.is_set(), out
    assert code == 5, out  # exits.ROLLED_BACK
    assert "MOVED: 10% -> 50%" in out and "50% -> 100%" not in out
    rolled = "ROLLED BACK: kill switch pulled at 50% (CDN off for everyone): "
    assert f"{rolled}FAIL alarm[{alarm_prefix}5xx]" in out
    flag = stack["client"].get_rollout()
    assert (flag.percent, flag.cdn_enabled, flag.updated_by) == (50, False, "auto-kill:alice")
    _, moved, kill, rolled_back = audit.read(evidence["audit"])
    assert moved["decision"] == "moved"
    assert (kill["decision"], kill["write"]) == ("intent", {"cdn_enabled": False})
    assert [c["name"] for c in kill["failed"]] == [f"alarm[{alarm_prefix}5xx]"]
    assert rolled_back["decision"] == "rolled-back" and rolled_back["at_percent"] == 50
    assert rolled_back["intent_id"] == kill["intent_id"]
    assert f"alarm[{alarm_prefix}5xx]" in rolled_back["reason"]


def test_first_step_refused_leaves_the_flag(stack, evidence) -> None:
    evidence["set_alarm"]("cache-hit-rate", "ALARM")
    code, out, _ = run("rollout", "auto", *evidence["args"])
    assert code == 1 and "REFUSED: " in out
    assert stack["client"].get_rollout().percent == 10
    assert [r["decision"] for r in audit.read(evidence["audit"])] == ["refused"]


def test_bad_soak_is_a_usage_error(stack, evidence) -> None:
    code, _, err = run("rollout", "auto", *evidence["args"], "--soak", "0")
    assert code == 2 and "--soak: " in err


class Contended:
    """Another writer bumps the revision right after each read, `times` times: every
    compare-and-set of ours loses until then (a real ABORTED from the server)."""

    def __init__(self, client: Any, times: int) -> None:
        self.client, self.times = client, times

    def get_rollout(self) -> Any:
        info = self.client.get_rollout()
        if self.times > 0:
            self.times -= 1
            set_flag(self.client, info.percent)
        return info

    def set_rollout(self, **kwargs: Any) -> Any:
        return self.client.set_rollout(**kwargs)


def _gate(client: Any, gates_file: Path, trail: Path) -> Gate:
    return Gate(client, load(gates_file), Sources(), trail, "alice", say=lambda _: None)


def test_kill_switch_wins_a_race_by_rereading(stack, gates_file, tmp_path) -> None:
    gate = _gate(Contended(stack["client"], times=2), gates_file, tmp_path / "a.jsonl")
    failed = Evidence([check("alarm[x]", 1, "==", 0)], {})
    assert gate.kill(failed, 10) == "rolled-back"
    assert stack["client"].get_rollout().cdn_enabled is False


def test_kill_switch_that_cannot_be_pulled_is_recorded_and_reported(
    stack, gates_file, tmp_path
) -> None:
    trail = tmp_path / "a.jsonl"
    gate = _gate(Contended(stack["client"], times=99), gates_file, trail)
    assert gate.kill(Evidence([check("alarm[x]", 1, "==", 0)], {}), 10) == "kill-switch-failed"
    last = audit.read(trail)[-1]
    assert last["decision"] == "kill-switch-failed" and last["error"].startswith("ABORTED")
    assert stack["client"].get_rollout().cdn_enabled is True
