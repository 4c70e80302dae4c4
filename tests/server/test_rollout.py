"""The live rollout flag end to end: admin RPC, file and SSM stores, replicas, kill switch."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from image_resolver.rollout.decision import RolloutState
from image_resolver.rollout.store import encode
from tests.conftest import ADMIN_TOKEN
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_images_client import ImageResolverClient, Origin, ResolvedImage
from wishlist_images_client.calls import ResolverCallError

SUBJECTS = [f"uploads/wishlist/user-{i}/img.jpg" for i in range(10_000)]


def cdn_subjects(client: ImageResolverClient) -> set[str]:
    """Which of 10,000 synthetic subjects get the CDN (no user id: the key is the subject)."""
    got = client.batch_resolve(SUBJECTS, timeout=30)
    return {
        s
        for s, r in zip(SUBJECTS, got, strict=True)
        if isinstance(r, ResolvedImage) and r.origin == Origin.CDN
    }


def set_percent(client: ImageResolverClient, percent: int, enabled: bool = True) -> int:
    current = client.get_rollout()
    _, after = client.set_rollout(
        percent=percent, cdn_enabled=enabled, expected_revision=current.revision, updated_by="test"
    )
    return after.revision


def wait_until(check: Callable[[], bool], timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def file_store(tmp_path: Path) -> str:
    return f"file://{tmp_path}/rollout.json"


def test_share_tracks_percent_and_raises_never_flip_users_back(start_resolver, file_store) -> None:
    server = start_resolver(rollout_store=file_store, admin_token=ADMIN_TOKEN)
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        previous: set[str] | None = None
        previous_percent = None
        for percent in (10, 50, 100, 50, 10, 0):
            set_percent(client, percent)
            on = cdn_subjects(client)
            assert abs(len(on) / len(SUBJECTS) * 100 - percent) <= 2, percent
            if previous is not None and previous_percent is not None:
                if percent > previous_percent:
                    assert previous <= on  # a raise only adds users
                else:
                    assert on <= previous  # a cut only removes users
            previous, previous_percent = on, percent


def test_two_replicas_on_one_store_agree_per_user(start_resolver, file_store) -> None:
    a = start_resolver(rollout_store=file_store, admin_token=ADMIN_TOKEN, rollout_poll_seconds=0.1)
    b = start_resolver(rollout_store=file_store, admin_token=ADMIN_TOKEN, rollout_poll_seconds=0.1)
    users = [f"u-{i}" for i in range(200)]
    key = "uploads/wishlist/shared/pic.png"
    with (
        ImageResolverClient(a.target, admin_token=ADMIN_TOKEN) as ca,
        ImageResolverClient(b.target, admin_token=ADMIN_TOKEN) as cb,
    ):
        revision = set_percent(ca, 37)
        wait_until(lambda: cb.get_rollout().revision == revision, timeout=5)
        origins_a = [ca.resolve(key, user_id=u).origin for u in users]
        origins_b = [cb.resolve(key, user_id=u).origin for u in users]
        assert origins_a == origins_b
        assert Origin.CDN in origins_a and Origin.S3 in origins_a
        # one user sees one origin on every page: batch answers agree with single ones
        for user, origin in zip(users[:20], origins_a, strict=False):
            page = cb.batch_resolve([key, "uploads/wishlist/other/x.jpg"], user_id=user)
            assert {r.origin for r in page} == {origin}  # type: ignore[union-attr]


def test_kill_switch_reaches_other_replica_within_one_poll_interval(
    start_resolver, file_store
) -> None:
    poll = 0.5
    a = start_resolver(rollout_store=file_store, admin_token=ADMIN_TOKEN, rollout_poll_seconds=poll)
    b = start_resolver(rollout_store=file_store, admin_token=ADMIN_TOKEN, rollout_poll_seconds=poll)
    with (
        ImageResolverClient(a.target, admin_token=ADMIN_TOKEN) as ca,
        ImageResolverClient(b.target) as cb,
    ):
        assert cb.resolve(SUBJECTS[0]).origin == Origin.CDN  # default 100% with a CDN domain
        set_percent(ca, 100, enabled=False)
        assert ca.resolve(SUBJECTS[0]).origin == Origin.S3  # the writer flips at once
        waited = wait_until(lambda: cb.resolve(SUBJECTS[0]).origin == Origin.S3, timeout=poll * 4)
        assert waited <= poll + 0.3
        assert not cdn_subjects(cb)


def test_broken_store_keeps_last_good_value_and_reports_it(start_resolver, tmp_path: Path) -> None:
    path = tmp_path / "rollout.json"
    server = start_resolver(
        rollout_store=f"file://{path}", admin_token=ADMIN_TOKEN, rollout_poll_seconds=0.05
    )
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        set_percent(client, 30)
        before = cdn_subjects(client)
        path.write_text('{"percent": "lots", "cdn_enabled": 1}')
        wait_until(lambda: not client.get_rollout().store_healthy, timeout=5)
        info = client.get_rollout()
        assert info.percent == 30
        assert "not a valid flag document" in info.store_error
        assert cdn_subjects(client) == before
        path.write_text(json.dumps({"percent": 60, "cdn_enabled": True, "revision": 9}))
        wait_until(lambda: client.get_rollout().percent == 60, timeout=5)
        assert client.get_rollout().store_healthy
        assert before < cdn_subjects(client)


def test_ssm_store_shared_by_replicas(start_resolver, local_aws) -> None:
    """SSM is read-only for the service: an operator writes the parameter, replicas follow."""
    name = f"/wishlist/image-cdn/rollout-{time.monotonic_ns()}"
    store = f"ssm://{name}"
    a = start_resolver(rollout_store=store, admin_token=ADMIN_TOKEN, rollout_poll_seconds=0.1)
    b = start_resolver(rollout_store=store, admin_token=ADMIN_TOKEN, rollout_poll_seconds=0.1)
    ssm = local_aws.client("ssm")
    with (
        ImageResolverClient(a.target, admin_token=ADMIN_TOKEN) as ca,
        ImageResolverClient(b.target, admin_token=ADMIN_TOKEN) as cb,
    ):
        doc = encode(RolloutState(25, revision=1, updated_by="oncall"))
        ssm.put_parameter(Name=name, Value=doc, Type="String")
        wait_until(lambda: ca.get_rollout().percent == 25, timeout=5)
        wait_until(lambda: cb.get_rollout().percent == 25, timeout=5)
        assert ca.get_rollout().store_healthy and cb.get_rollout().updated_by == "oncall"
        assert cdn_subjects(ca) == cdn_subjects(cb)
        ssm.put_parameter(Name=name, Value="not json", Type="String", Overwrite=True)
        wait_until(lambda: not cb.get_rollout().store_healthy, timeout=5)
        assert cb.get_rollout().percent == 25
        assert cb.get_rollout().store == f"ssm://{name}"


def test_admin_rpc_needs_the_token(start_resolver) -> None:
    server = start_resolver(admin_token=ADMIN_TOKEN)
    for token in (None, "wrong-token-wrong-token"):
        with ImageResolverClient(server.target, admin_token=token) as client:
            with pytest.raises(ResolverCallError) as caught:
                client.set_rollout(percent=5, cdn_enabled=True, expected_revision=0, updated_by="x")
            assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
            assert ADMIN_TOKEN not in caught.value.message


def test_stale_revision_is_aborted_and_bad_percent_invalid(start_resolver, file_store) -> None:
    server = start_resolver(rollout_store=file_store, admin_token=ADMIN_TOKEN)
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        set_percent(client, 20)
        with pytest.raises(ResolverCallError) as caught:
            client.set_rollout(percent=90, cdn_enabled=True, expected_revision=0, updated_by="late")
        assert caught.value.code == grpc.StatusCode.ABORTED
        assert client.get_rollout().percent == 20
        with pytest.raises(ResolverCallError) as caught:
            client.set_rollout(percent=101, cdn_enabled=True, expected_revision=1, updated_by="x")
        assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.field == "percent"


def test_store_survives_restart(local_aws, make_settings, file_store) -> None:
    settings = make_settings(rollout_store=file_store, admin_token=ADMIN_TOKEN)
    with EmbeddedResolver(settings, session=local_aws.session()) as first:
        with ImageResolverClient(first.target, admin_token=ADMIN_TOKEN) as client:
            set_percent(client, 42)
    with EmbeddedResolver(settings, session=local_aws.session()) as second:
        with ImageResolverClient(second.target, admin_token=ADMIN_TOKEN) as client:
            assert client.get_rollout().percent == 42
