"""CreateUploadUrl and InvalidateImages over gRPC, against moto's S3 and CloudFront servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid

import grpc
import pytest

from tests.conftest import ADMIN_TOKEN, BUCKET, CALL_TIMEOUT
from wishlist_images_client import ImageResolverClient, Origin
from wishlist_images_client.calls import ResolverCallError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _post_form(url: str, fields: dict[str, str], body: bytes, content_type: str) -> int:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url,
        data=b"".join(parts),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return int(resp.status)


def test_upload_form_goes_to_s3_and_the_key_resolves_to_the_cdn(start_resolver, local_aws) -> None:
    server = start_resolver()
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        form = client.create_upload_url("user-42", "image/png", len(PNG))
        assert form.url.startswith(local_aws.endpoint)  # S3, never the CDN (AC9)
        assert form.key.startswith("uploads/wishlist/user-42/")
        assert form.key.endswith(".png")
        assert form.fields["key"] == form.key
        assert _post_form(form.url, form.fields, PNG, "image/png") in (200, 201, 204)
        stored = local_aws.client("s3").get_object(Bucket=BUCKET, Key=form.key)
        assert stored["Body"].read() == PNG
        resolved = client.resolve(form.key, user_id="user-42")
    assert resolved.origin == Origin.CDN
    assert resolved.url.endswith("/" + form.key)


@pytest.mark.parametrize(
    ("user_id", "content_type", "length", "field"),
    [
        ("", "image/png", 10, "user_id"),
        ("../etc", "image/png", 10, "user_id"),
        ("u-1", "text/html", 10, "content_type"),
        ("u-1", "image/png", 0, "content_length"),
        ("u-1", "image/png", 10 * 1024 * 1024 + 1, "content_length"),
    ],
)
def test_bad_upload_requests_name_the_field(
    start_resolver, user_id, content_type, length, field
) -> None:
    server = start_resolver()
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        with pytest.raises(ResolverCallError) as caught:
            client.create_upload_url(user_id, content_type, length)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.field == field


@pytest.fixture
def distribution(local_aws) -> str:
    dist_id, _ = local_aws.create_distribution()
    return str(dist_id)


def test_invalidate_normalises_dedupes_and_reaches_cloudfront(
    start_resolver, local_aws, distribution
) -> None:
    server = start_resolver(admin_token=ADMIN_TOKEN, cloudfront_distribution_id=distribution)
    refs = [
        "uploads/wishlist/u-1/a b.jpg",
        f"https://s3.amazonaws.com/{BUCKET}/uploads/wishlist/u-1/a%20b.jpg",  # same key
        f"s3://{BUCKET}/uploads/wishlist/u-2/c.png",
    ]
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        got = client.invalidate(refs, caller_reference="ref-1")
        assert len(got) == 1
        assert got[0].paths == ("/uploads/wishlist/u-1/a%20b.jpg", "/uploads/wishlist/u-2/c.png")
        stored = local_aws.client("cloudfront").get_invalidation(
            DistributionId=distribution, Id=got[0].id
        )
        assert stored["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == list(got[0].paths)
        # a retry with the same caller reference gives the same invalidation, not a new one
        again = client.invalidate(refs, caller_reference="ref-1")
        assert again == got
        listed = local_aws.client("cloudfront").list_invalidations(DistributionId=distribution)
        assert listed["InvalidationList"]["Quantity"] == 1


def test_invalidate_batches_large_requests(start_resolver, local_aws, distribution) -> None:
    server = start_resolver(admin_token=ADMIN_TOKEN, cloudfront_distribution_id=distribution)
    refs = [f"uploads/wishlist/u/{i}.jpg" for i in range(2500)]
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        got = client.invalidate(refs, caller_reference="big")
    assert [len(i.paths) for i in got] == [1000, 1000, 500]
    assert [p for i in got for p in i.paths] == ["/" + r for r in refs]


def test_invalidate_needs_token_and_valid_refs(start_resolver, distribution) -> None:
    server = start_resolver(admin_token=ADMIN_TOKEN, cloudfront_distribution_id=distribution)
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as anonymous:
        with pytest.raises(ResolverCallError) as caught:
            anonymous.invalidate(["uploads/wishlist/u/a.jpg"], "r")
        assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        with pytest.raises(ResolverCallError) as caught:
            client.invalidate(["uploads/wishlist/u/a.jpg", "https://evil.example/x"], "r")
        assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.field == "refs[1]"
        with pytest.raises(ResolverCallError) as caught:
            client.invalidate(["uploads/wishlist/u/a.jpg"], "")
        assert caught.value.field == "caller_reference"


def test_invalidate_without_distribution_id_is_failed_precondition(start_resolver) -> None:
    server = start_resolver(admin_token=ADMIN_TOKEN)
    with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
        with pytest.raises(ResolverCallError) as caught:
            client.invalidate(["uploads/wishlist/u/a.jpg"], "r")
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "CLOUDFRONT_DISTRIBUTION_ID" in caught.value.message


def test_cli_invalidate(start_resolver, distribution) -> None:
    server = start_resolver(admin_token=ADMIN_TOKEN, cloudfront_distribution_id=distribution)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "image_ops.cli",
            "invalidate",
            "uploads/wishlist/u/x.jpg",
            "--caller-reference",
            "cli-1",
            "--target",
            server.target,
        ],
        env={**os.environ, "ADMIN_TOKEN": ADMIN_TOKEN},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["paths"] == ["/uploads/wishlist/u/x.jpg"]


def test_verify_upload_describes_an_uploaded_object(start_resolver) -> None:
    server = start_resolver()
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        form = client.create_upload_url("user-42", "image/png", len(PNG))
        assert _post_form(form.url, form.fields, PNG, "image/png") in (200, 201, 204)
        found = client.verify_upload("user-42", form.key)
    assert (found.key, found.content_type, found.size_bytes) == (form.key, "image/png", len(PNG))
    assert found.etag


def test_verify_upload_of_a_never_uploaded_key_is_not_found(start_resolver) -> None:
    server = start_resolver()
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        form = client.create_upload_url("user-42", "image/png", len(PNG))
        with pytest.raises(ResolverCallError) as caught:
            client.verify_upload("user-42", form.key)
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    assert form.key not in caught.value.message


@pytest.mark.parametrize(
    ("user_id", "key", "field"),
    [
        ("user-42", "uploads/wishlist/other-user/abc.png", "key"),
        ("user-42", "uploads/wishlist/user-42/../x/abc.png", "key"),
        ("user-42", "uploads/wishlist/user-42/abc.svg", "key"),
        ("user-42", "uploads/wishlist/user-42/abc", "key"),
        ("../x", "uploads/wishlist/../x/abc.png", "user_id"),
    ],
)
def test_verify_upload_refuses_keys_not_issued_to_the_user(
    start_resolver, user_id, key, field
) -> None:
    server = start_resolver()
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        with pytest.raises(ResolverCallError) as caught:
            client.verify_upload(user_id, key)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.field == field


def test_verify_upload_refuses_an_object_whose_type_does_not_match_its_key(
    start_resolver, local_aws
) -> None:
    key = "uploads/wishlist/user-42/mismatch01.png"
    local_aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=PNG, ContentType="text/html")
    server = start_resolver()
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        with pytest.raises(ResolverCallError) as caught:
            client.verify_upload("user-42", key)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.field == "key"
    assert "content type" in caught.value.message


@pytest.mark.parametrize(
    ("aws_code", "status", "retry"),
    [
        ("Throttling", grpc.StatusCode.RESOURCE_EXHAUSTED, 5.0),
        ("TooManyInvalidationsInProgress", grpc.StatusCode.RESOURCE_EXHAUSTED, 60.0),
        ("AccessDenied", grpc.StatusCode.PERMISSION_DENIED, None),
        ("NoSuchDistribution", grpc.StatusCode.FAILED_PRECONDITION, None),
    ],
)
def test_cloudfront_failures_map_to_statuses_and_report_created_batches(
    local_aws, make_settings, aws_code, status, retry
) -> None:
    from dataclasses import replace

    from image_resolver.invalidation import Invalidator
    from image_resolver.server import build_components
    from tests.server.test_invalidation_errors import StubCloudFront, client_error
    from wishlist_dev.embedded import EmbeddedResolver

    settings = make_settings(admin_token=ADMIN_TOKEN, cloudfront_distribution_id="E123")
    components = build_components(settings, local_aws.session())
    stub = StubCloudFront(client_error(aws_code), ok_batches=1)
    components = replace(components, invalidator=Invalidator(stub, "E123", components.rules))
    refs = [f"uploads/wishlist/u/{i}.jpg" for i in range(1500)]
    with EmbeddedResolver(settings, components=components) as server:
        with ImageResolverClient(server.target, admin_token=ADMIN_TOKEN) as client:
            with pytest.raises(ResolverCallError) as caught:
                client.invalidate(refs, "ref-1")
    err = caught.value
    assert err.code == status
    assert err.retry_after == retry
    assert err.created is not None
    assert [(i.id, i.status) for i in err.created.invalidations] == [("I1", "InProgress")]
    assert err.created.paths_created == 1000
    assert "secret-role" not in err.message


def test_the_published_upload_policy_is_the_one_enforced(start_resolver) -> None:
    """GetUploadPolicy (both clients) states the rules CreateUploadUrl and
    BatchResolveImageUrls apply: each edge of each limit, accepted and refused."""
    import asyncio

    from wishlist_images_client import AsyncImageResolverClient

    server = start_resolver(max_batch=7)

    async def aio_policy() -> object:
        client = AsyncImageResolverClient(server.target, timeout=5)
        try:
            return await client.upload_policy()
        finally:
            await client.close()

    with ImageResolverClient(server.target, timeout=5) as client:
        policy = client.upload_policy()
        assert asyncio.run(aio_policy()) == policy
        assert policy.max_batch == 7
        assert policy.max_bytes == 10 * 1024 * 1024
        assert set(policy.content_types) == {"image/jpeg", "image/png", "image/webp", "image/gif"}
        for content_type in policy.content_types:
            form = client.create_upload_url("u-1", content_type, policy.max_bytes)
            assert form.key.startswith(f"{policy.key_prefix}u-1/")
        with pytest.raises(ResolverCallError) as too_big:
            client.create_upload_url("u-1", "image/png", policy.max_bytes + 1)
        assert too_big.value.field == "content_length"
        longest = "u" * policy.max_upload_user_id_chars
        assert client.create_upload_url(longest, "image/png", 10).key
        with pytest.raises(ResolverCallError) as long_user:
            client.create_upload_url(longest + "u", "image/png", 10)
        assert long_user.value.field == "user_id"
        keys = [f"{policy.key_prefix}u-1/{i}.png" for i in range(policy.max_batch + 1)]
        # The client splits at its own chunk size; the server's limit shows on a raw call.
        from wishlist.images.v1 import image_url_service_pb2 as pb
        from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc

        with grpc.insecure_channel(server.target) as channel:
            stub = pb_grpc.ImageUrlServiceStub(channel)
            refs = [pb.ImageRef(ref=k) for k in keys]
            ok = stub.BatchResolveImageUrls(
                pb.BatchResolveImageUrlsRequest(images=refs[:-1]), timeout=5
            )
            assert len(ok.results) == policy.max_batch
            with pytest.raises(grpc.RpcError) as too_many:
                stub.BatchResolveImageUrls(pb.BatchResolveImageUrlsRequest(images=refs), timeout=5)
            assert too_many.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_verify_upload_refuses_bytes_that_are_not_the_declared_image(
    start_resolver, local_aws
) -> None:
    """HTML declared image/png attached fine before: the type header is the uploader's word.
    The first bytes (a ranged GET) must be the type's signature."""
    server = start_resolver()
    html = b"<html><script>alert(1)</script></html>"
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        form = client.create_upload_url("user-42", "image/png", len(html))
        assert _post_form(form.url, form.fields, html, "image/png") in (200, 201, 204)
        with pytest.raises(ResolverCallError) as caught:
            client.verify_upload("user-42", form.key)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.field == "key"
    assert caught.value.message.endswith("bytes are not image/png")


@pytest.mark.parametrize(
    ("content_type", "body", "ext"),
    [
        ("image/jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpg"),
        ("image/gif", b"GIF89a" + b"\x00" * 20, "gif"),
        ("image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8, "webp"),
    ],
)
def test_verify_upload_accepts_each_types_signature(
    start_resolver, local_aws, content_type: str, body: bytes, ext: str
) -> None:
    key = f"uploads/wishlist/user-42/signature01.{ext}"
    local_aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type)
    server = start_resolver()
    with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
        found = client.verify_upload("user-42", key)
    assert (found.content_type, found.size_bytes) == (content_type, len(body))


def test_a_403_on_head_is_not_uploaded_not_internal(caplog) -> None:
    """Without s3:ListBucket, S3 answers a HEAD of a missing key with 403 (moto applies no
    IAM, so only a stub shows it): it was INTERNAL, so the API said resolver_unavailable."""
    from botocore.exceptions import ClientError

    from image_resolver.errors import NotFound
    from image_resolver.s3.uploads import UploadFormIssuer
    from tests.server.s3.test_uploads import s3_client

    class Denying:
        def __init__(self) -> None:
            self.real = s3_client()

        def __getattr__(self, name: str):
            return getattr(self.real, name)

        def head_object(self, **_: object):
            raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")

    issuer = UploadFormIssuer(s3_client=Denying(), bucket="wishlist-images")
    with pytest.raises(NotFound, match="may not read it"):
        issuer.verify("user-42", "uploads/wishlist/user-42/abc.png")
    assert "s3:ListBucket" in caplog.text
