"""A missing or corrupt rollout store, seen through the admin RPCs of a real server: it is
reported unhealthy, a replica that cannot read it starts on the configured start value,
the kill switch can always be written, and out-of-range values count as corrupt."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from tests.conftest import ADMIN_TOKEN
from tests.support.rollout_tables import create_rollout_table
from wishlist_dev.localaws import LocalAws
from wishlist_images_client import ImageResolverClient, RolloutInfo

GOOD = {"percent": 30, "cdn_enabled": True, "revision": 1}
GARBAGE = [
    pytest.param({**GOOD, "revision": 2**70}, id="revision-2^70"),
    pytest.param({**GOOD, "revision": 2**63}, id="revision-2^63"),
    pytest.param({**GOOD, "revision": -1}, id="revision-negative"),
    pytest.param({**GOOD, "revision": 1.5}, id="revision-float"),
    pytest.param({**GOOD, "percent": 101}, id="percent-101"),
    pytest.param({**GOOD, "percent": -1}, id="percent-negative"),
    pytest.param({**GOOD, "percent": "50"}, id="percent-string"),
    pytest.param({**GOOD, "cdn_enabled": "yes"}, id="enabled-string"),
    pytest.param({**GOOD, "updated_by": "x" * 10_000}, id="author-huge"),
    pytest.param({**GOOD, "updated_at": "tomorrow"}, id="updated-at-garbage"),
    pytest.param({**GOOD, "updated_at": "2026-11-25T10:00:00"}, id="updated-at-no-zone"),
    pytest.param([1, 2], id="not-an-object"),
]


def wait_until(check: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


def kill(client: ImageResolverClient) -> tuple[RolloutInfo, RolloutInfo]:
    """What `image-ops rollout set --disable-cdn` does: read, then write on that revision."""
    current = client.get_rollout()
    return client.set_rollout(
        percent=current.percent,
        cdn_enabled=False,
        expected_revision=current.revision,
        updated_by="oncall",
    )


def healthy_metric() -> float | None:
    return REGISTRY.get_sample_value("image_resolver_rollout_store_healthy")


def test_deleted_store_is_unhealthy_and_keeps_the_last_good_value(
    start_resolver, tmp_path: Path
) -> None:
    path = tmp_path / "rollout.json"
    server = start_resolver(
        rollout_store=f"file://{path}", admin_token=ADMIN_TOKEN, rollout_poll_seconds=0.05
    )
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        client.set_rollout(percent=30, cdn_enabled=True, expected_revision=0, updated_by="t")
        assert client.get_rollout().store_healthy
        path.unlink()
        wait_until(lambda: not client.get_rollout().store_healthy)
        info = client.get_rollout()
        assert (info.percent, info.revision) == (30, 1)
        assert "no rollout document" in info.store_error
        assert healthy_metric() == 0


@pytest.mark.parametrize("start", [20, None])
def test_replica_started_on_a_missing_store_uses_the_start_value_and_is_unhealthy(
    start_resolver, tmp_path: Path, start: int | None
) -> None:
    server = start_resolver(
        rollout_store=f"file://{tmp_path}/gone.json",
        admin_token=ADMIN_TOKEN,
        cdn_rollout_percent=start,
    )
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        info = client.get_rollout()
        # unset: start dark (0%), even with a CDN domain, and never silently
        assert (info.percent, info.revision) == (start if start is not None else 0, 0)
        assert not info.store_healthy
        assert "start value" in info.store_error
        assert healthy_metric() == 0


def test_replica_started_on_a_corrupt_store_uses_the_start_value_and_says_so(
    start_resolver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "rollout.json"
    path.write_text("{not json")
    with caplog.at_level(logging.ERROR, logger="image_resolver.rollout.live"):
        server = start_resolver(
            rollout_store=f"file://{path}", admin_token=ADMIN_TOKEN, cdn_rollout_percent=20
        )
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        info = client.get_rollout()
        assert (info.percent, info.store_healthy) == (20, False)
        assert "not a valid flag document" in info.store_error
    messages = [r.getMessage() for r in caplog.records]
    assert any("start value" in m for m in messages), messages
    assert not any("last good" in m for m in messages), messages


@pytest.mark.parametrize("damage", ["corrupt", "deleted"])
def test_kill_switch_can_always_be_written(start_resolver, tmp_path: Path, damage: str) -> None:
    path = tmp_path / "rollout.json"
    server = start_resolver(
        rollout_store=f"file://{path}", admin_token=ADMIN_TOKEN, rollout_poll_seconds=0.05
    )
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        client.set_rollout(percent=30, cdn_enabled=True, expected_revision=0, updated_by="t")
        if damage == "corrupt":
            path.write_text('{"percent": "lots"}')
        else:
            path.unlink()
        wait_until(lambda: not client.get_rollout().store_healthy)
        before, after = kill(client)
        assert (before.revision, after.revision, after.cdn_enabled) == (1, 2, False)
        stored = json.loads(path.read_text())
        assert (stored["cdn_enabled"], stored["revision"], stored["updated_by"]) == (
            False,
            2,
            "oncall",
        )
        info = client.get_rollout()
        assert (info.cdn_enabled, info.store_healthy) == (False, True)


def test_kill_switch_on_a_replica_started_on_a_corrupt_store(
    start_resolver, tmp_path: Path
) -> None:
    path = tmp_path / "rollout.json"
    path.write_text(json.dumps({**GOOD, "revision": 2**70}))
    server = start_resolver(rollout_store=f"file://{path}", admin_token=ADMIN_TOKEN)
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        _, after = kill(client)
        assert (after.cdn_enabled, after.revision) == (False, 1)
        assert json.loads(path.read_text())["cdn_enabled"] is False


def test_out_of_range_values_are_treated_as_corrupt(start_resolver, tmp_path: Path) -> None:
    path = tmp_path / "rollout.json"
    server = start_resolver(
        rollout_store=f"file://{path}", admin_token=ADMIN_TOKEN, rollout_poll_seconds=0.05
    )
    good_revision = 1
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        for case in GARBAGE:
            path.write_text(json.dumps({**GOOD, "revision": good_revision}))
            wait_until(lambda r=good_revision: client.get_rollout().revision == r)  # type: ignore[misc]
            assert client.get_rollout().store_healthy
            path.write_text(json.dumps(case.values[0]))
            wait_until(lambda: not client.get_rollout().store_healthy)
            info = client.get_rollout()  # never INTERNAL
            assert (info.percent, info.revision) == (30, good_revision), case.id
            assert "not a valid flag document" in info.store_error, case.id
            good_revision += 1


def test_oversized_store_file_is_corrupt(start_resolver, tmp_path: Path) -> None:
    path = tmp_path / "rollout.json"
    path.write_text(json.dumps({**GOOD, "pad": " " * 100_000}))
    server = start_resolver(rollout_store=f"file://{path}", admin_token=ADMIN_TOKEN)
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        info = client.get_rollout()
        assert not info.store_healthy
        assert "too large" in info.store_error


def test_dynamodb_corrupt_or_deleted_item(start_resolver, local_aws: LocalAws) -> None:
    """The same rules on DynamoDB: a garbage item and a deleted item are unhealthy, and the
    kill switch replaces them (conditionally, so a concurrent repair cannot be lost)."""
    table = create_rollout_table(local_aws)
    ddb = local_aws.client("dynamodb")
    server = start_resolver(
        rollout_store=f"dynamodb://{table}/flag",
        admin_token=ADMIN_TOKEN,
        rollout_poll_seconds=0.05,
    )
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        client.set_rollout(percent=30, cdn_enabled=True, expected_revision=0, updated_by="t")
        ddb.put_item(
            TableName=table,
            Item={
                "id": {"S": "flag"},
                "revision": {"N": str(2**70)},
                "document": {"S": json.dumps({**GOOD, "revision": 2**70})},
            },
        )
        wait_until(lambda: not client.get_rollout().store_healthy)
        assert client.get_rollout().revision == 1
        _, after = kill(client)
        assert (after.revision, after.cdn_enabled) == (2, False)
        item = ddb.get_item(TableName=table, Key={"id": {"S": "flag"}}, ConsistentRead=True)
        assert item["Item"]["revision"] == {"N": "2"}
        assert json.loads(item["Item"]["document"]["S"])["cdn_enabled"] is False

        ddb.delete_item(TableName=table, Key={"id": {"S": "flag"}})
        wait_until(lambda: not client.get_rollout().store_healthy)
        assert "no rollout document" in client.get_rollout().store_error
        _, after = kill(client)
        assert after.revision == 3
        assert client.get_rollout().store_healthy
    ddb.delete_table(TableName=table)
