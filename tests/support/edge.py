"""Local edge fixtures (Varnish + hitch + signing origin over moto), importable by any suite:

    from tests.support.edge import edge, edge_binaries, put_object, start_edge  # noqa: F401

Missing varnishd/hitch skip the tests on a developer machine and fail them in CI (CI=true),
where .ci/run installs both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import BUCKET, CDN
from wishlist_dev.edge.local_edge import LocalEdge, missing_binaries
from wishlist_dev.localaws import LocalAws

LOCAL_CDN = "cdn.localhost"
# Short error caching so the suite can watch entries expire (the template's values are
# checked separately in test_generated_config.py).
TEST_TTLS = {"error_ttl": 1, "error_ttl_403": 2, "error_ttl_404": 2}


@pytest.fixture(scope="session")
def edge_binaries() -> None:
    missing = missing_binaries()
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed (apt-get install varnish hitch)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must run the edge suite: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def edge(edge_binaries: None, local_aws: LocalAws) -> Iterator[LocalEdge]:
    """One edge for the session (CDN hosts: the placeholder distribution and cdn.localhost);
    tests use their own keys, so they do not see each other's cache entries."""
    with LocalEdge(
        local_aws.endpoint, BUCKET, cdn_hosts=[CDN, LOCAL_CDN], ttl_overrides=TEST_TTLS
    ) as running:
        yield running
    # the origin's fault knobs are per key, or cleared by the tests that set global ones


@pytest.fixture
def start_edge(edge_binaries: None, local_aws: LocalAws) -> Iterator[Callable[..., LocalEdge]]:
    """A fresh edge with other options (e.g. default TTLs); closed after the test."""
    started: list[LocalEdge] = []

    def start(**kwargs: Any) -> LocalEdge:
        kwargs.setdefault("cdn_hosts", [CDN, LOCAL_CDN])
        running = LocalEdge(local_aws.endpoint, BUCKET, **kwargs).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.close()


@pytest.fixture
def put_object(local_aws: LocalAws) -> Callable[..., str]:
    """Upload bytes under a fresh uploads/wishlist/ key; returns the key. One S3 client for
    the test, made on the first upload (a client each cost 0.2 s: a second per sample)."""
    clients: list[Any] = []

    def put(
        body: bytes = b"\x89PNG\r\n\x1a\nlocal-edge",
        content_type: str = "image/png",
        key: str | None = None,
        **extra: Any,
    ) -> str:
        key = key or f"uploads/wishlist/edge-{uuid.uuid4().hex[:12]}/img.png"
        if not clients:
            clients.append(local_aws.client("s3"))
        clients[0].put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type, **extra)
        return key

    return put
