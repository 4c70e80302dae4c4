"""InvalidateImages end to end: resolver over gRPC -> CloudFront (moto) -> local edge BAN.

The product knows no local edge: the dev tooling composes its purger into the resolver it
starts (`EmbeddedResolver(..., purgers=[edge.purger()])`, `wishlist-dev resolver`).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.support.serve_process import serve_process
from wishlist_dev.edge.purge import LocalEdgePurger, check_purge_url
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_images_client import ImageResolverClient, ResolverCallError


@pytest.fixture
def distribution(local_aws) -> str:
    dist_id, _ = local_aws.create_distribution()
    return str(dist_id)


@pytest.fixture
def start_purging_resolver(local_aws, make_settings) -> Iterator[Callable[..., EmbeddedResolver]]:
    """A resolver as the demo starts it: the edge's purger composed in."""
    started: list[EmbeddedResolver] = []

    def start(edge: Any, **overrides: Any) -> EmbeddedResolver:
        server = EmbeddedResolver(
            make_settings(admin_token=ADMIN_TOKEN, **overrides),
            session=local_aws.session(),
            purgers=[edge.purger()],
        )
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop(grace=0.1)


def _cache(edge, path: str) -> str:
    return str(edge.request("GET", path).headers["x-cache"])


def test_invalidate_images_purges_the_local_edge(
    edge, put_object, start_purging_resolver, local_aws, distribution
) -> None:
    key, kept = put_object(), put_object()
    for path in (f"/{key}?v=1", f"/{key}", f"/{kept}"):
        edge.request("GET", path)
        assert _cache(edge, path) == "Hit from cloudfront"
    server = start_purging_resolver(edge, cloudfront_distribution_id=distribution)
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        done = client.invalidate([key], caller_reference=uuid.uuid4().hex)
    assert done[0].paths == (f"/{key}",)
    stored = local_aws.client("cloudfront").get_invalidation(
        DistributionId=distribution, Id=done[0].id
    )
    assert stored["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == [f"/{key}"]
    assert _cache(edge, f"/{key}?v=1") == "Miss from cloudfront"
    assert _cache(edge, f"/{key}") == "Miss from cloudfront"
    assert _cache(edge, f"/{kept}") == "Hit from cloudfront"


def test_an_invalidation_cloudfront_refuses_does_not_purge_the_edge(
    edge, put_object, start_purging_resolver
) -> None:
    key = put_object()
    edge.request("GET", f"/{key}")
    server = start_purging_resolver(edge, cloudfront_distribution_id="ENOSUCHDIST")
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        with pytest.raises(ResolverCallError):
            client.invalidate([key], caller_reference=uuid.uuid4().hex)
    assert _cache(edge, f"/{key}") == "Hit from cloudfront"


def test_without_the_purger_the_edge_keeps_its_copy(
    edge, put_object, start_resolver, distribution
) -> None:
    key = put_object()
    edge.request("GET", f"/{key}")
    server = start_resolver(admin_token=ADMIN_TOKEN, cloudfront_distribution_id=distribution)
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        client.invalidate([key], caller_reference=uuid.uuid4().hex)
    assert _cache(edge, f"/{key}") == "Hit from cloudfront"


def test_an_unreachable_edge_is_logged_not_raised(caplog) -> None:
    from wishlist_dev.edge.processes import free_port

    purger = LocalEdgePurger(f"http://127.0.0.1:{free_port()}", timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="wishlist_dev.edge.purge"):
        purger(["/uploads/wishlist/u/a.png"])
    assert "local edge purge of /uploads/wishlist/u/a.png failed" in caplog.text


NOT_LOOPBACK_HTTP = [
    "https://127.0.0.1:6081",
    "http://10.0.0.5:6081",
    "http://edge.example.com:6081",
    "http://127.0.0.1",
    "http://127.0.0.1:6081/purge",
    "http://user@127.0.0.1:6081",
    "http://127.0.0.1:notaport",
]


@pytest.mark.parametrize("url", NOT_LOOPBACK_HTTP)
def test_purge_url_must_be_a_loopback_http_address(url) -> None:
    with pytest.raises(ValueError, match=r"must look like http://127\.0\.0\.1:PORT"):
        LocalEdgePurger(url)


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("http://127.0.0.1:6081", "http://127.0.0.1:6081"),
        ("http://localhost:6081/", "http://localhost:6081"),
        ("http://[::1]:6081", "http://[::1]:6081"),
    ],
)
def test_loopback_purge_urls_are_accepted(url, kept) -> None:
    assert check_purge_url(url) == kept


def test_dev_resolver_command_purges_the_edge(edge, put_object, local_aws, distribution) -> None:
    """`wishlist-dev resolver`: `image-resolver serve` with the edge's purger composed in,
    for a resolver process next to `wishlist-dev edge`."""
    key = put_object()
    edge.request("GET", f"/{key}")
    assert _cache(edge, f"/{key}") == "Hit from cloudfront"
    with serve_process(
        local_aws.endpoint,
        command=("wishlist_dev.cli", "resolver", "--edge-purge-url", edge.purge_url),
        ADMIN_TOKEN=ADMIN_TOKEN,
        CLOUDFRONT_DISTRIBUTION_ID=distribution,
    ) as (_, port):
        with ImageResolverClient(f"127.0.0.1:{port}", admin_token=ADMIN_TOKEN) as client:
            client.invalidate([key], caller_reference=uuid.uuid4().hex)
    assert _cache(edge, f"/{key}") == "Miss from cloudfront"


def test_dev_resolver_refuses_a_purge_url_off_loopback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wishlist_dev.cli", "resolver",
         "--edge-purge-url", "http://10.0.0.5:6081"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "wishlist-dev resolver: --edge-purge-url must look like http://127.0.0.1:PORT "
        "(a loopback edge, no path)\n"
    )
