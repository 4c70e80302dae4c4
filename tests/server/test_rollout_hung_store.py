"""The kill switch against a hung DynamoDB: moto's server in its own process, stopped with
SIGSTOP (the process is there, its sockets accept, nothing answers) and resumed with
SIGCONT, under a real `image-resolver serve` and the real `image-ops` CLI.

What must hold (issue #21): SetRollout answers within its deadline, as "outcome unknown"
(never a bare "failed"); the CLI re-reads and prints the state in force with a distinct
exit code; GetRollout, the gauge's health service entry and `store_error` turn unhealthy
within one poll interval plus the store timeout; once the store answers again the final
state is read back. The test prints the measured timeline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from image_resolver.grpc_api.rollout_service import RolloutServicer
from image_resolver.rollout.decision import RolloutState
from image_resolver.rollout.live import LiveRollout
from image_resolver.rollout.store import FileStore, Snapshot, WriteOutcomeUnknown, encode
from tests.conftest import ADMIN_TOKEN
from tests.support.cli_run import run_ops
from tests.support.serve_process import serve_process
from wishlist.images.v1 import rollout_service_pb2 as rpb
from wishlist_dev.localaws import DEMO_CREDENTIALS
from wishlist_images_client import ImageResolverClient

POLL = 0.5
STORE_TIMEOUT = 1.0
ADMIN_DEADLINE = 10.0  # what the client gives an admin call (ADMIN_MIN_TIMEOUT)


SERVING = health_pb2.HealthCheckResponse.SERVING


def _store_health(target: str, until: int, within: float = 3) -> int:
    """The health service's `rollout-store` status, waiting up to `within` for `until`."""
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        ends = time.monotonic() + within
        while True:
            status = stub.Check(
                health_pb2.HealthCheckRequest(service="rollout-store"), timeout=2
            ).status
            if status == until or time.monotonic() > ends:
                return int(status)
            time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def moto_process() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`python -m moto.server` as its own process; yields (process, endpoint)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("moto's server did not start") from None
                time.sleep(0.1)
        yield proc, endpoint
    finally:
        os.kill(proc.pid, signal.SIGCONT)  # a stopped process cannot die of SIGTERM
        proc.terminate()
        proc.wait(timeout=10)


def test_kill_switch_under_a_hung_store(
    moto_process: tuple[subprocess.Popen[bytes], str],
) -> None:
    moto, endpoint = moto_process
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=DEMO_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DEMO_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    dynamodb.create_table(
        TableName="rollout",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with serve_process(
        endpoint,
        ROLLOUT_STORE="dynamodb://rollout/wishlist-image-cdn",
        ROLLOUT_POLL_SECONDS=str(POLL),
        ROLLOUT_STORE_TIMEOUT_SECONDS=str(STORE_TIMEOUT),
        ADMIN_TOKEN=ADMIN_TOKEN,
    ) as (_, port):
        target = f"127.0.0.1:{port}"
        env = {**os.environ, "ADMIN_TOKEN": ADMIN_TOKEN}
        with ImageResolverClient(target, admin_token=ADMIN_TOKEN, timeout=2) as client:
            client.set_rollout(percent=100, cdn_enabled=True, expected_revision=0, updated_by="t")
            assert client.get_rollout().store_healthy
            assert _store_health(target, until=SERVING) == SERVING  # the empty table was not

            unhealthy_after: list[float] = []
            health_after: list[float] = []
            watching = threading.Event()

            def watch(stopped_at: float) -> None:
                channel = grpc.insecure_channel(target)
                health = health_pb2_grpc.HealthStub(channel)
                while not watching.is_set() and not (unhealthy_after and health_after):
                    info = client.get_rollout()
                    if not unhealthy_after and not info.store_healthy:
                        unhealthy_after.append(time.monotonic() - stopped_at)
                        assert info.store_error
                    check = health.Check(
                        health_pb2.HealthCheckRequest(service="rollout-store"), timeout=2
                    )
                    if (
                        not health_after
                        and check.status == health_pb2.HealthCheckResponse.NOT_SERVING
                    ):
                        health_after.append(time.monotonic() - stopped_at)
                    time.sleep(0.05)
                channel.close()

            os.kill(moto.pid, signal.SIGSTOP)
            stopped = time.monotonic()
            watcher = threading.Thread(target=watch, args=(stopped,), daemon=True)
            watcher.start()

            started = time.monotonic()
            cli = run_ops(
                "rollout",
                "set",
                "--disable-cdn",
                "--target",
                target,
                "--wait",
                "2",
                "--by",
                "oncall",
                env=env,
            )
            cli_seconds = time.monotonic() - started
            watcher.join(5)
            watching.set()

            timeline = {
                "cli_seconds": round(cli_seconds, 2),
                "cli_exit": cli.returncode,
                "cli_stderr": cli.stderr.strip().splitlines(),
                "get_rollout_unhealthy_after": unhealthy_after and round(unhealthy_after[0], 2),
                "health_not_serving_after": health_after and round(health_after[0], 2),
            }
            # One answer within the deadline, then at most --wait of re-reading.
            assert cli.returncode == 3, timeline
            assert "OUTCOME UNKNOWN" in cli.stderr, timeline
            assert "failed" not in cli.stderr.lower(), timeline
            assert cli_seconds < ADMIN_DEADLINE + 2 + 2, timeline
            state = json.loads(cli.stdout)
            assert state["outcome"] == "unknown" and state["store_healthy"] is False, state
            assert unhealthy_after and unhealthy_after[0] <= POLL + STORE_TIMEOUT + 0.5, timeline
            assert health_after and health_after[0] <= POLL + STORE_TIMEOUT + 1.0, timeline

            os.kill(moto.pid, signal.SIGCONT)
            resumed = time.monotonic()
            deadline = resumed + 15
            while time.monotonic() < deadline:
                final = client.get_rollout()
                if final.store_healthy and final.revision >= 2:
                    break
                time.sleep(0.1)
            timeline["final_after_resume"] = round(time.monotonic() - resumed, 2)
            timeline["final"] = {
                "cdn_enabled": final.cdn_enabled,
                "revision": final.revision,
                "store_healthy": final.store_healthy,
                "updated_by": final.updated_by,
            }
            print("kill-switch timeline under a hung store:", json.dumps(timeline, indent=2))
            # The write was sent before the hang ended: it lands, and the replica shows it.
            assert final.store_healthy and not final.cdn_enabled, timeline
            assert (final.revision, final.updated_by) == (2, "oncall"), timeline
            after = run_ops("rollout", "get", "--target", target, env=env)
            assert after.returncode == 0 and json.loads(after.stdout)["cdn_enabled"] is False


class StuckStore(FileStore):
    """A file store whose polls and/or writes block until released."""

    def __init__(self, path: Path, *, reads: bool = False, writes: bool = False) -> None:
        super().__init__(path)
        self.stuck_reads, self.stuck_writes = reads, writes
        self.release = threading.Event()

    def change_token(self) -> object:
        return object()

    def read(self) -> Snapshot:
        if self.stuck_reads and threading.current_thread().name == "rollout-poll":
            self.release.wait(10)  # the poll's read (the file store's CAS reads too)
        return super().read()

    def compare_and_set(self, expected_revision: int, new: RolloutState) -> RolloutState:
        if self.stuck_writes:
            self.release.wait(10)
        return super().compare_and_set(expected_revision, new)


class Deadline:
    """The one part of a grpc.aio context SetRollout reads."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def time_remaining(self) -> float:
        return self.ends - time.monotonic()


def test_a_stuck_poll_is_unhealthy_within_the_timeout_and_blocks_no_write(
    tmp_path: Path,
) -> None:
    store = StuckStore(tmp_path / "rollout.json")
    store.path.write_text(encode(RolloutState(40, revision=3)))
    live = LiveRollout(store, RolloutState(0), poll_seconds=0.05, store_timeout=0.3)
    live.refresh()
    store.stuck_reads = True
    poll = threading.Thread(target=live.poll_once, daemon=True)
    started = time.monotonic()
    poll.start()
    while live.health().healthy and time.monotonic() - started < 2:
        time.sleep(0.01)
    assert not live.health().healthy
    assert time.monotonic() - started < 0.3 + 0.2
    assert "has not answered a read within 0.3 s" in (live.health().last_error or "")
    # The kill switch is not queued behind the stuck read.
    written = time.monotonic()
    live.set(percent=40, cdn_enabled=False, expected_revision=3, updated_by="oncall")
    assert time.monotonic() - written < 0.2
    assert (live.state.cdn_enabled, live.state.revision) == (False, 4)
    store.release.set()  # the stuck read returns the old document: it must not win
    poll.join(5)
    assert (live.state.cdn_enabled, live.state.revision) == (False, 4)


def test_set_rollout_answers_outcome_unknown_within_the_callers_deadline(
    tmp_path: Path,
) -> None:
    store = StuckStore(tmp_path / "rollout.json", writes=True)
    live = LiveRollout(store, RolloutState(100, revision=0), store_timeout=0.3)
    servicer = RolloutServicer(live)
    request = rpb.SetRolloutRequest(
        percent=100, cdn_enabled=False, expected_revision=0, updated_by="oncall"
    )
    loop = asyncio.new_event_loop()  # not asyncio.run: it would wait for the write's thread
    started = time.monotonic()
    with pytest.raises(WriteOutcomeUnknown, match="may have landed"):
        loop.run_until_complete(servicer.SetRollout(request, Deadline(1.0)))  # type: ignore[arg-type]
    assert time.monotonic() - started < 1.0
    store.release.set()  # the store answers at last: the write lands and is taken
    ends = time.monotonic() + 5
    while live.state.revision != 1 and time.monotonic() < ends:
        time.sleep(0.01)
    assert (live.state.revision, live.state.cdn_enabled) == (1, False)
    assert not store.read().state.cdn_enabled  # type: ignore[union-attr]
    loop.close()
