"""InvalidateImages end to end: resolver over gRPC -> CloudFront (moto) -> local edge BAN."""

from __future__ import annotations

import logging
import uuid

import pytest

from image_resolver.config import ConfigError
from image_resolver.edge_purge import LocalEdgePurger
from tests.conftest import ADMIN_TOKEN
from wishlist_images_client import ImageResolverClient


@pytest.fixture
def distribution(local_aws) -> str:
    dist_id, _ = local_aws.create_distribution()
    return str(dist_id)


def test_invalidate_images_purges_the_local_edge(
    edge, put_object, start_resolver, local_aws, distribution
) -> None:
    key, kept = put_object(), put_object()
    for path in (f"/{key}?v=1", f"/{key}", f"/{kept}"):
        edge.request("GET", path)
        assert edge.request("GET", path).headers["x-cache"] == "Hit from cloudfront"
    server = start_resolver(
        admin_token=ADMIN_TOKEN,
        cloudfront_distribution_id=distribution,
        local_edge_purge_url=edge.purge_url,
    )
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        done = client.invalidate([key], caller_reference=uuid.uuid4().hex)
    assert done[0].paths == (f"/{key}",)
    stored = local_aws.client("cloudfront").get_invalidation(
        DistributionId=distribution, Id=done[0].id
    )
    assert stored["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == [f"/{key}"]
    assert edge.request("GET", f"/{key}?v=1").headers["x-cache"] == "Miss from cloudfront"
    assert edge.request("GET", f"/{key}").headers["x-cache"] == "Miss from cloudfront"
    assert edge.request("GET", f"/{kept}").headers["x-cache"] == "Hit from cloudfront"


def test_without_a_purge_url_the_edge_keeps_its_copy(
    edge, put_object, start_resolver, distribution
) -> None:
    key = put_object()
    edge.request("GET", f"/{key}")
    server = start_resolver(admin_token=ADMIN_TOKEN, cloudfront_distribution_id=distribution)
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        client.invalidate([key], caller_reference=uuid.uuid4().hex)
    assert edge.request("GET", f"/{key}").headers["x-cache"] == "Hit from cloudfront"


def test_an_unreachable_edge_is_logged_not_raised(caplog) -> None:
    from image_resolver.edge_purge import check_purge_url
    from wishlist_dev.edge.processes import free_port

    purger = LocalEdgePurger(check_purge_url(f"http://127.0.0.1:{free_port()}"), timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="image_resolver.edge_purge"):
        purger(["/uploads/wishlist/u/a.png"])
    assert "local edge purge of /uploads/wishlist/u/a.png failed" in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:6081",
        "http://10.0.0.5:6081",
        "http://edge.example.com:6081",
        "http://127.0.0.1",
        "http://127.0.0.1:6081/purge",
        "http://user@127.0.0.1:6081",
        "http://127.0.0.1:notaport",
    ],
)
def test_purge_url_must_be_a_loopback_http_address(make_settings, url) -> None:
    with pytest.raises(ConfigError, match="LOCAL_EDGE_PURGE_URL"):
        make_settings(local_edge_purge_url=url)


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("http://127.0.0.1:6081", "http://127.0.0.1:6081"),
        ("http://localhost:6081/", "http://localhost:6081"),
        ("http://[::1]:6081", "http://[::1]:6081"),
    ],
)
def test_loopback_purge_urls_are_accepted(make_settings, url, kept) -> None:
    assert make_settings(local_edge_purge_url=url).local_edge_purge_url == kept
