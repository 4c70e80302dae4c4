"""Blocking work stays off the event loop: a slow credential refresh (a network call with
role credentials, e.g. IRSA) must not stall other RPCs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import grpc
from botocore.credentials import Credentials
from grpc_health.v1 import health_pb2, health_pb2_grpc

from image_resolver.s3.presign import S3GetPresigner
from image_resolver.server import build_components
from tests.conftest import BUCKET
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_images_client import ImageResolverClient, Origin

SLOW_SECONDS = 1.5


@dataclass
class SlowSource:
    """Credentials whose every read after the first takes SLOW_SECONDS (an STS call)."""

    reads: int = 0
    started: threading.Event = field(default_factory=threading.Event)

    def get_frozen_credentials(self):  # type: ignore[no-untyped-def]
        self.reads += 1
        if self.reads > 1:
            self.started.set()
            time.sleep(SLOW_SECONDS)
        return Credentials("testing", "testing-secret").get_frozen_credentials()


def test_slow_credential_refresh_does_not_stall_other_rpcs(local_aws, make_settings) -> None:
    settings = make_settings(cdn_rollout_percent=0, s3_fallback_mode="presigned")
    components = build_components(settings, local_aws.session())
    source = SlowSource()
    components.resolver.signer = S3GetPresigner(
        bucket=BUCKET,
        region="us-east-1",
        expires_in=3600,
        credentials=source,
        endpoint_url=local_aws.endpoint,
        credentials_check_interval=0.2,
    )
    components.resolver.signer.presign("uploads/wishlist/u/warm.jpg")  # first read: start-up
    with EmbeddedResolver(settings, components=components) as server:
        with ImageResolverClient(server.target, timeout=5) as client:
            time.sleep(0.3)  # the check interval passes: the next presign re-reads credentials
            first = client.resolve("uploads/wishlist/u/a.jpg", user_id="u-1")
            assert first.origin == Origin.S3
            assert source.started.wait(timeout=5)
            # While the refresh sleeps, the loop keeps answering: health, resolves, uploads.
            with grpc.insecure_channel(server.target) as channel:
                began = time.monotonic()
                health = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=5
                )
                assert health.status == health_pb2.HealthCheckResponse.SERVING
                again = client.resolve("uploads/wishlist/u/b.jpg", user_id="u-1")
                form = client.create_upload_url("u-1", "image/png", 10)
                took = time.monotonic() - began
    assert again.origin == Origin.S3 and "X-Amz-Signature=" in again.url
    assert form.key.startswith("uploads/wishlist/u-1/")
    assert took < SLOW_SECONDS / 3, f"RPCs waited {took:.2f}s for the credential refresh"
