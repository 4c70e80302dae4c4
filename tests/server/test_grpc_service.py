"""The resolver over real sockets: both RPCs, rich errors, health, reflection, shutdown."""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from tests.conftest import BUCKET, CALL_TIMEOUT, CDN
from tests.support.cli_run import run_cli
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc
from wishlist_images_client import (
    ImageRef,
    ImageResolverClient,
    Origin,
    ResolvedImage,
    ResolveError,
)
from wishlist_images_client.calls import ResolverCallError

KEY = "uploads/wishlist/user-123/abc123.jpg"
LEGACY = f"https://s3.amazonaws.com/{BUCKET}/{KEY}"


def test_resolve_key_gives_cdn_url(start_resolver) -> None:
    server = start_resolver()
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        got = client.resolve(KEY, user_id="u-1")
    assert got == ResolvedImage(f"https://{CDN}/{KEY}", Origin.CDN, None)


def test_resolve_legacy_url_with_version(start_resolver) -> None:
    server = start_resolver()
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        got = client.resolve(ImageRef(LEGACY, "1706400000"))
    assert got.url == f"https://{CDN}/{KEY}?v=1706400000"


def test_batch_keeps_order_and_fails_only_bad_slots(start_resolver) -> None:
    server = start_resolver()
    refs = [KEY, "https://evil.example.com/x.jpg", LEGACY, "", "uploads/wishlist/u/../x"]
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        got = client.batch_resolve(refs, user_id="u-1")
    assert len(got) == 5
    assert isinstance(got[0], ResolvedImage) and got[0].url == f"https://{CDN}/{KEY}"
    assert isinstance(got[2], ResolvedImage) and got[2].url == f"https://{CDN}/{KEY}"
    for i in (1, 3, 4):
        err = got[i]
        assert isinstance(err, ResolveError)
        assert err.code == code_pb2.INVALID_ARGUMENT
        assert err.field == f"images[{i}].ref"
    assert "evil" not in got[1].message  # type: ignore[union-attr]


def test_batch_over_1000_is_invalid_argument(start_resolver) -> None:
    server = start_resolver()
    request = pb.BatchResolveImageUrlsRequest(images=[pb.ImageRef(ref=KEY)] * 1001)
    with grpc.insecure_channel(server.target) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            pb_grpc.ImageUrlServiceStub(channel).BatchResolveImageUrls(request, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "images" in caught.value.details()


def test_client_batch_helper_splits_large_batches(start_resolver) -> None:
    server = start_resolver()
    refs = [f"uploads/wishlist/u/{i}.jpg" for i in range(2500)]
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        got = client.batch_resolve(refs)
    assert [g.url for g in got] == [f"https://{CDN}/{r}" for r in refs]  # type: ignore[union-attr]


def test_bad_ref_is_invalid_argument_with_field_violation(start_resolver) -> None:
    server = start_resolver()
    foreign = "https://attacker.example.net/steal?token=s3cr3t"
    with grpc.insecure_channel(server.target) as channel:
        stub = pb_grpc.ImageUrlServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.ResolveImageUrl(
                pb.ResolveImageUrlRequest(image=pb.ImageRef(ref=foreign)), timeout=5
            )
    err = caught.value
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details().startswith("image.ref:")
    assert "attacker" not in err.details() and "s3cr3t" not in err.details()
    status = rpc_status.from_call(err)
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert bad.field_violations[0].field == "image.ref"


def test_missing_image_is_invalid_argument(start_resolver) -> None:
    server = start_resolver()
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        with pytest.raises(ResolverCallError) as caught:
            client.resolve("")
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.field == "image.ref"


def test_bad_user_id_and_version_name_their_fields(start_resolver) -> None:
    server = start_resolver()
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        with pytest.raises(ResolverCallError) as caught:
            client.resolve(KEY, user_id="x" * 300)
        assert caught.value.field == "user_id"
        with pytest.raises(ResolverCallError) as caught:
            client.resolve(ImageRef(KEY, "v\n1"))
        assert caught.value.field == "image.version"


def test_no_cdn_domain_serves_s3_urls(start_resolver, local_aws) -> None:
    server = start_resolver(cloudfront_distribution_domain=None)
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        got = client.resolve(KEY, user_id="u-1")
    assert got.origin == Origin.S3
    assert got.url == f"{local_aws.endpoint}/{BUCKET}/{KEY}"


def test_presigned_fallback_sets_expiry_and_serves_the_object(start_resolver, local_aws) -> None:
    import urllib.request

    local_aws.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=b"jpeg-bytes")
    server = start_resolver(
        cdn_rollout_percent=0, s3_fallback_mode="presigned", s3_presign_expires=600
    )
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        got = client.resolve(KEY, user_id="u-1")
    assert got.origin == Origin.S3
    assert got.expires_at is not None
    remaining = got.expires_at.timestamp() - time.time()
    assert 300 <= remaining <= 600
    query = parse_qs(urlsplit(got.url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    with urllib.request.urlopen(got.url, timeout=5) as resp:
        assert resp.read() == b"jpeg-bytes"


def test_cdn_results_carry_a_working_s3_fallback_only_when_asked(start_resolver, local_aws) -> None:
    import urllib.request

    local_aws.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=b"jpeg-bytes")
    server = start_resolver(s3_fallback_mode="presigned", s3_presign_expires=600)
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        plain = client.resolve(ImageRef(KEY, "3"), user_id="u-1")
        one = client.resolve(ImageRef(KEY, "3"), user_id="u-1", include_fallback=True)
        [many] = client.batch_resolve([ImageRef(KEY, "3")], user_id="u-1", include_fallback=True)
    assert (plain.fallback_url, plain.fallback_expires_at) == ("", None)
    for got in (one, many):
        assert isinstance(got, ResolvedImage)
        assert got.origin == Origin.CDN
        assert got.url == f"https://{CDN}/{KEY}?v=3"
        assert got.fallback_url.startswith(f"{local_aws.endpoint}/{BUCKET}/{KEY}?")
        assert got.fallback_expires_at is not None
        with urllib.request.urlopen(got.fallback_url, timeout=5) as resp:
            assert resp.read() == b"jpeg-bytes"


def test_s3_results_have_no_fallback(start_resolver) -> None:
    server = start_resolver(cdn_rollout_percent=0)
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        got = client.resolve(KEY, user_id="u-1", include_fallback=True)
    assert got.origin == Origin.S3
    assert got.fallback_url == ""


def test_health_serving_for_server_and_service(start_resolver) -> None:
    server = start_resolver()
    with grpc.insecure_channel(server.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ("", "wishlist.images.v1.ImageUrlService"):
            resp = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert resp.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as caught:
            stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def _reflected_services(target: str) -> set[str]:
    with grpc.insecure_channel(target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        return {s.name for r in responses for s in r.list_services_response.service}


def test_reflection_lists_services(start_resolver) -> None:
    names = _reflected_services(start_resolver().target)
    assert "wishlist.images.v1.ImageUrlService" in names
    assert "grpc.health.v1.Health" in names
    assert "wishlist.images.v1.RolloutService" not in names  # no admin token configured


def test_admin_service_registered_only_with_token(start_resolver) -> None:
    names = _reflected_services(start_resolver(admin_token="x" * 32).target)
    assert "wishlist.images.v1.RolloutService" in names


def test_graceful_shutdown_drains_in_flight_and_flips_health(start_resolver) -> None:
    """Health goes NOT_SERVING; concurrent calls end OK (complete) or UNAVAILABLE, never
    CANCELLED; new RPCs are refused after the stop. (SIGTERM itself: test_shutdown.py.)"""
    server = start_resolver()
    channel = grpc.insecure_channel(server.target, options=[("grpc.enable_retries", 0)])
    stub = pb_grpc.ImageUrlServiceStub(channel)
    health = health_pb2_grpc.HealthStub(channel)
    watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    big = pb.BatchResolveImageUrlsRequest(images=[pb.ImageRef(ref=KEY)] * 1000)
    outcomes: list[tuple[grpc.StatusCode, int]] = []

    def hammer() -> None:
        while True:
            try:
                outcomes.append(
                    (grpc.StatusCode.OK, len(stub.BatchResolveImageUrls(big, timeout=5).results))
                )
            except grpc.RpcError as err:
                outcomes.append((err.code(), 0))
                return

    workers = [threading.Thread(target=hammer) for _ in range(8)]
    for worker in workers:
        worker.start()
    time.sleep(0.2)
    stopping = server.begin_stop(grace=2.0)
    assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
    stopping.result(timeout=10)
    for worker in workers:
        worker.join(timeout=10)
    ok = [n for code, n in outcomes if code == grpc.StatusCode.OK]
    refused = [code for code, _ in outcomes if code != grpc.StatusCode.OK]
    assert ok and all(n == 1000 for n in ok)  # nothing half-answered
    assert refused == [grpc.StatusCode.UNAVAILABLE] * len(workers)  # each worker's last call
    with pytest.raises(grpc.RpcError) as caught:
        stub.ResolveImageUrl(pb.ResolveImageUrlRequest(image=pb.ImageRef(ref=KEY)), timeout=2)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    channel.close()


def test_expired_deadline_is_reported(start_resolver) -> None:
    server = start_resolver()
    request = pb.BatchResolveImageUrlsRequest(images=[pb.ImageRef(ref=KEY)] * 1000)
    with grpc.insecure_channel(server.target) as channel:
        stub = pb_grpc.ImageUrlServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.BatchResolveImageUrls(request, timeout=0.000001)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_client_retries_until_server_is_up(local_aws, make_settings) -> None:
    """UNAVAILABLE is retried with backoff inside the deadline (gRPC retry policy)."""
    import socket

    from wishlist_dev.embedded import EmbeddedResolver

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = EmbeddedResolver(make_settings(grpc_port=port), session=local_aws.session())
    timer = threading.Timer(0.1, server.start)
    timer.start()
    try:
        with ImageResolverClient(f"127.0.0.1:{port}", timeout=5, max_attempts=5) as client:
            got = client.resolve(KEY)
        assert got.origin == Origin.CDN
    finally:
        timer.join()
        server.stop(grace=0.1)


def test_invalid_configuration_exits_with_a_clear_message() -> None:
    import os

    env = {**os.environ, "CLOUDFRONT_DISTRIBUTION_DOMAIN": "https://d1.cloudfront.net/path"}
    proc = run_cli("serve", "--port", "0", env=env)
    assert proc.returncode == 2
    assert "CLOUDFRONT_DISTRIBUTION_DOMAIN" in proc.stderr
    assert "no scheme" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("method", ["ResolveImageUrl", "BatchResolveImageUrls"])
def test_malformed_protobuf_is_invalid_argument_logged_once_and_counted(
    start_resolver, method, caplog
) -> None:
    from prometheus_client import REGISTRY

    server = start_resolver()
    labels = {"method": method, "code": "INVALID_ARGUMENT"}
    before = REGISTRY.get_sample_value("image_resolver_rpcs_total", labels) or 0.0
    with grpc.insecure_channel(server.target) as channel:
        raw = channel.unary_unary(
            f"/wishlist.images.v1.ImageUrlService/{method}",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        caplog.clear()
        caplog.set_level(logging.INFO)
        with pytest.raises(grpc.RpcError) as caught:
            raw(b"\x0a\x05abc", timeout=5)  # a length-delimited field cut short
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid" in caught.value.details()
    assert REGISTRY.get_sample_value("image_resolver_rpcs_total", labels) == before + 1
    lines = [
        r
        for r in caplog.records
        if r.levelno >= logging.INFO and r.name.startswith("image_resolver")
    ]
    assert [r.getMessage() for r in lines] == ["request refused: malformed message"]
    assert all(r.exc_info is None for r in caplog.records)


def test_bidi_and_zero_width_keys_are_refused_with_field_errors(start_resolver) -> None:
    server = start_resolver()
    spoofed = ["uploads/wishlist/u-1/photo\u202egpj.exe", "uploads/wishlist/u-1/a\u200b.jpg"]
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        for ref in spoofed:
            with pytest.raises(ResolverCallError) as caught:
                client.resolve(ref)
            assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
            assert caught.value.field == "image.ref"
        got = client.batch_resolve([KEY, *spoofed])
    assert isinstance(got[0], ResolvedImage)
    for i in (1, 2):
        err = got[i]
        assert isinstance(err, ResolveError)
        assert (err.code, err.field) == (code_pb2.INVALID_ARGUMENT, f"images[{i}].ref")
