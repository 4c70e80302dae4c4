"""The audit trail comes before the move (issue #21), proved with real faults against a real
resolver: a trail that cannot take the intent leaves the flag where it was (read back via
the client) and exits 4; a record never fuses with a line that lacks its newline; the
exit codes are the ones the help and docs/rollout-gates.md list."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import grpc
import pytest

from image_ops.gates.config import load
from image_ops.gating import audit, exits
from image_ops.gating.advance import Gate
from image_ops.gating.evidence import Sources
from tests.ops.gating.conftest import run
from wishlist_images_client import ResolverCallError

pytestmark = pytest.mark.usefixtures("admin_token")

DOCS = Path(__file__).parents[3] / "docs" / "rollout-gates.md"


def advance(
    ev: dict[str, Any], trail: Path | str, *extra: str, to: int = 20
) -> tuple[int, str, str]:
    args = [a if a != str(ev["audit"]) else str(trail) for a in ev["args"]]
    return run("rollout", "advance", "--to", str(to), *args, *extra)


def assert_not_moved(stack: dict[str, Any], code: int, err: str) -> None:
    assert code == exits.NOT_RECORDED.code == 4, err
    assert "audit trail: " in err and "the flag did not move" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    flag = stack["client"].get_rollout()
    assert (flag.percent, flag.cdn_enabled, flag.updated_by) == (10, True, "test")


def test_dev_full_as_the_trail_moves_nothing(stack, evidence) -> None:
    """Before: the flag moved 10 -> 20, no record, exit 3 ("nothing decided")."""
    code, _, err = advance(evidence, "/dev/full")
    assert_not_moved(stack, code, err)
    assert "/dev/full: not a regular file" in err


def test_a_trail_that_is_a_directory_moves_nothing(stack, evidence, tmp_path) -> None:
    code, _, err = advance(evidence, tmp_path)
    assert_not_moved(stack, code, err)
    assert "Is a directory" in err


def test_a_trail_whose_folder_cannot_be_created_moves_nothing(stack, evidence, tmp_path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the trail's folder should be\n")
    code, _, err = advance(evidence, blocker / "sub" / "audit.jsonl")
    assert_not_moved(stack, code, err)
    assert "cannot create its folder" in err
    code, _, err = advance(evidence, "/dev/full/audit.jsonl")
    assert_not_moved(stack, code, err)


def test_a_full_disk_moves_nothing_and_leaves_no_half_record(stack, evidence, tmp_path) -> None:
    """A real write error on a regular file: the CLI in a child whose file size limit is
    reached by the trail (RLIMIT_FSIZE: EFBIG, like ENOSPC for this file). The intent
    cannot be written, so SetRollout is never called, and the trail is cut back to what
    it held (a short write left no partial line)."""
    trail = tmp_path / "audit.jsonl"
    before = b'{"decision":"moved","earlier":true}\n' * 100
    trail.write_bytes(before)
    limit = len(before) + 100  # room for part of the intent, not all of it

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    args = [a if a != str(evidence["audit"]) else str(trail) for a in evidence["args"]]
    # Logs and alarms skipped: DuckDB's scratch files would hit the same limit first.
    cmd = [sys.executable, "-m", "image_ops.cli", "rollout", "advance", "--to", "20", *args]
    cmd += ["--skip", "logs", "--skip", "alarms"]
    done = subprocess.run(
        cmd, capture_output=True, text=True, preexec_fn=limited, timeout=120, check=False
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "File too large" in done.stderr and "the flag did not move" in done.stderr
    assert trail.read_bytes() == before
    assert stack["client"].get_rollout().percent == 10


def test_a_record_never_fuses_with_a_line_lacking_its_newline(stack, evidence, tmp_path) -> None:
    trail = tmp_path / "audit.jsonl"
    earlier = json.dumps({"decision": "moved", "from": 0, "to": 10})
    trail.write_text(earlier)  # a writer died before its newline
    code, out, _ = advance(evidence, trail)
    assert code == 0, out
    first, intent, moved = audit.read(trail)
    assert first == json.loads(earlier)
    assert (intent["decision"], moved["decision"]) == ("intent", "moved")
    cut = tmp_path / "cut.jsonl"
    cut.write_text('{"decision":"mov')  # cut mid-record
    code, _, _ = advance(evidence, cut, "--dry-run", to=50)
    assert code == 0
    lines = cut.read_text().splitlines()
    assert lines[0] == '{"decision":"mov' and json.loads(lines[1])["decision"] == "dry-run"


def test_the_intent_is_fsynced_before_the_move(stack, evidence, gates_file, tmp_path) -> None:
    """What SetRollout sees: the trail already holds the intent naming this very write."""
    trail = tmp_path / "audit.jsonl"
    seen: list[list[dict[str, Any]]] = []

    class Watching:
        def __init__(self, client: Any) -> None:
            self.client = client

        def get_rollout(self) -> Any:
            return self.client.get_rollout()

        def set_rollout(self, **kwargs: Any) -> Any:
            seen.append(audit.read(trail))
            return self.client.set_rollout(**kwargs)

    gate = _gate(Watching(stack["client"]), gates_file, trail, evidence)
    assert gate.advance(20) == "moved"
    [[intent]] = seen
    assert intent["decision"] == "intent" and intent["write"] == {
        "percent": 20,
        "cdn_enabled": True,
    }
    assert [r["decision"] for r in audit.read(trail)] == ["intent", "moved"]


def _gate(client: Any, gates_file: Path, trail: Path, ev: dict[str, Any]) -> Gate:
    sources = Sources(
        logs=[str(ev["logs"])], probe_results=str(ev["probe"]), cloudwatch=ev["cloudwatch"]
    )
    return Gate(client, load(gates_file), sources, trail, "alice", say=lambda _: None)


@pytest.fixture
def evidence(evidence, local_aws):  # the shared one, plus a CloudWatch client factory
    evidence["cloudwatch"] = lambda: local_aws.client("cloudwatch")
    return evidence


def test_an_outcome_that_cannot_be_recorded_after_the_move_is_uncertain(
    stack, evidence, gates_file, tmp_path
) -> None:
    """The trail turns into a directory between the intent and the outcome: the flag has
    moved, so this is not "did not move" (4) but MovedButNotRecorded (6), with the record
    to file by hand."""
    from image_ops.gating.advance import MovedButNotRecorded

    trail = tmp_path / "audit.jsonl"

    class BreakingTrail:
        def __init__(self, client: Any) -> None:
            self.client = client

        def get_rollout(self) -> Any:
            return self.client.get_rollout()

        def set_rollout(self, **kwargs: Any) -> Any:
            trail.rename(tmp_path / "moved-away.jsonl")
            trail.mkdir()
            return self.client.set_rollout(**kwargs)

    gate = _gate(BreakingTrail(stack["client"]), gates_file, trail, evidence)
    with pytest.raises(MovedButNotRecorded) as err:
        gate.advance(20)
    assert str(err.value).startswith("MOVED, but the outcome could not be recorded")
    assert err.value.record["decision"] == "moved"
    assert [r["decision"] for r in audit.read(tmp_path / "moved-away.jsonl")] == ["intent"]
    assert stack["client"].get_rollout().percent == 20


class LostAnswer:
    """SetRollout's answer never arrives (DEADLINE_EXCEEDED); `lands` says whether the
    write was applied anyway."""

    def __init__(self, client: Any, lands: bool) -> None:
        self.client, self.lands = client, lands

    def get_rollout(self) -> Any:
        return self.client.get_rollout()

    def set_rollout(self, **kwargs: Any) -> Any:
        if self.lands:
            self.client.set_rollout(**kwargs)
        raise ResolverCallError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")


def test_a_lost_answer_is_re_read_not_reported_as_failed(stack, evidence, gates_file, tmp_path):
    trail = tmp_path / "a.jsonl"
    said: list[str] = []
    gate = _gate(LostAnswer(stack["client"], lands=False), gates_file, trail, evidence)
    gate.say = said.append
    assert gate.advance(20) == "unknown"
    assert said[-1].startswith("UNKNOWN: SetRollout gave no answer (DEADLINE_EXCEEDED")
    assert "it now reads 10% cdn_enabled=True" in said[-1] and "rollout get" in said[-1]
    last = audit.read(trail)[-1]
    assert last["decision"] == "unknown" and last["error"].startswith("DEADLINE_EXCEEDED")
    gate = _gate(LostAnswer(stack["client"], lands=True), gates_file, trail, evidence)
    assert gate.advance(20) == "moved"  # the re-read shows our write
    assert audit.read(trail)[-1]["decision"] == "moved"


def test_the_kill_switch_is_pulled_even_when_the_trail_fails(
    stack, evidence, alarm_prefix, tmp_path
) -> None:
    """The one move made without its intent recorded (advance.py's docstring): mid-soak the
    trail becomes a directory and an alarm fires; the switch is pulled, the exit is 6
    (uncertain), and the record to file by hand is on stderr."""
    trail = evidence["audit"]
    stop = threading.Event()

    def break_at_50() -> None:
        while not stop.wait(0.02):
            if stack["client"].get_rollout().percent == 50:
                trail.rename(tmp_path / "moved-away.jsonl")
                trail.mkdir()
                evidence["set_alarm"]("5xx", "ALARM")
                return

    watcher = threading.Thread(target=break_at_50, daemon=True)
    watcher.start()
    try:
        code, out, err = run("rollout", "auto", *evidence["args"], "--soak", "20s")
    finally:
        stop.set()
        watcher.join(5)
    assert code == exits.UNCERTAIN.code == 6, out + err
    assert "ROLLED BACK: kill switch pulled at 50%" in out
    assert "pulling the kill switch anyway" in err
    assert '"decision": "rolled-back"' in err  # the record, to file by hand
    flag = stack["client"].get_rollout()
    assert (flag.percent, flag.cdn_enabled) == (50, False)


def test_every_exit_code_is_in_the_help_and_the_docs() -> None:
    code, out, _ = run("rollout", "advance", "--help")
    assert code == 0
    flat = " ".join(out.split())
    docs = DOCS.read_text()
    for e in exits.ALL:
        assert f"{e.code} {e.name}: {' '.join(e.meaning.split())}" in flat
        assert f"| {e.code} | `{e.name}` |" in docs, e
    assert [e.code for e in exits.ALL] == list(range(7))


def test_the_trail_takes_concurrent_writers_whole(tmp_path: Path) -> None:
    trail = tmp_path / "a.jsonl"

    def write(n: int) -> None:
        for i in range(50):
            audit.append(trail, {"writer": n, "i": i, "pad": "x" * 5000})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = audit.read(trail)
    assert len(records) == 200 and os.path.getsize(trail) > 200 * 5000
