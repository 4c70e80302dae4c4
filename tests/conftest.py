"""Shared fixtures: moto's real HTTP server and resolvers on loopback ports."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from image_resolver.config import PLACEHOLDER_CDN_DOMAIN, Settings, load_settings
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_dev.localaws import DEMO_CREDENTIALS, LocalAws

for _name, _value in DEMO_CREDENTIALS.items():
    os.environ[_name] = _value
# Keep the developer's real AWS settings out of the tests.
for _name in (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "CLOUDFRONT_DISTRIBUTION_DOMAIN",
    "ROLLOUT_STORE",
):
    os.environ.pop(_name, None)

CDN = PLACEHOLDER_CDN_DOMAIN
BUCKET = "lego-moc-wishlist-uploads"
ADMIN_TOKEN = "test-admin-token-0123456789abcdefghij"
# The client deadline of tests about what a call returns, not how fast: the product default
# (1 s) failed a 1,000-image batch and a first VerifyUpload on a loaded 2-core CI machine.
CALL_TIMEOUT = 10.0


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws(BUCKET) as aws:
        yield aws


@pytest.fixture
def make_settings(local_aws: LocalAws) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "cloudfront_distribution_domain": CDN,
            "s3_bucket": BUCKET,
            "aws_region": "us-east-1",
            "s3_endpoint_url": local_aws.endpoint,
            "s3_fallback_mode": "public",
            "grpc_port": 0,
            "metrics_port": 0,
            "log_format": "text",
            # The product starts dark (0%); most tests want every user on the CDN.
            "cdn_rollout_percent": 100,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
def start_resolver(
    local_aws: LocalAws, make_settings: Callable[..., Settings]
) -> Iterator[Callable[..., EmbeddedResolver]]:
    """Start a real resolver on a loopback port; every one is stopped after the test."""
    started: list[EmbeddedResolver] = []

    def start(**overrides: Any) -> EmbeddedResolver:
        server = EmbeddedResolver(make_settings(**overrides), session=local_aws.session())
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop(grace=0.1)
