"""UploadFormIssuer: the policy S3 would enforce, its signature, and a real upload to moto.

moto's S3 server accepts any presigned POST whatever its policy says, so the policy
document and its signature are checked here, condition by condition.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from mypy_boto3_s3 import S3Client

from image_resolver.s3.uploads import UploadForm, UploadFormIssuer, UploadRequestError
from wishlist_runtime.values import MAX_USER_ID_CHARS, InvalidValue

from .conftest import frozen_botocore_clock

T0 = 1_764_000_000  # 2025-11-24T16:00:00Z
ACCESS = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDH+token/with=chars"
MB = 1024 * 1024


def s3_client(
    token: str | None = None, region: str = "eu-west-1", signature_version: str = "s3v4"
) -> S3Client:
    session = boto3.Session(
        aws_access_key_id=ACCESS, aws_secret_access_key=SECRET, aws_session_token=token
    )
    return session.client(
        "s3",
        region_name=region,
        config=Config(signature_version=signature_version, s3={"addressing_style": "virtual"}),
    )


def issue(
    user_id: str = "user_42",
    content_type: str = "image/png",
    content_length: int = 1234,
    *,
    token: str | None = None,
    expires_in: int = 900,
) -> UploadForm:
    issuer = UploadFormIssuer(
        s3_client=s3_client(token),
        bucket="wishlist-images",
        expires_in=expires_in,
        clock=lambda: T0,
        new_id=lambda: "0123456789abcdef0123456789abcdef",
    )
    with frozen_botocore_clock(T0):
        return issuer.issue(user_id, content_type, content_length)


def decode_policy(form: UploadForm) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(base64.b64decode(form.fields["policy"]))
    return policy


def sigv4_signing_key(secret: str, date: str, region: str) -> bytes:
    """Written from the SigV4 spec, independently of the code under test."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


# ---- the policy S3 enforces ------------------------------------------------------


@pytest.mark.parametrize("token", [None, TOKEN])
def test_policy_pins_every_condition(token: str | None) -> None:
    form = issue("user_42", "image/png", 1234, token=token)
    key = "uploads/wishlist/user_42/0123456789abcdef0123456789abcdef.png"
    assert form.key == key
    policy = decode_policy(form)
    assert policy["expiration"] == "2025-11-24T16:15:00Z"
    expected = [
        {"bucket": "wishlist-images"},
        {"key": key},
        {"Content-Type": "image/png"},
        ["content-length-range", 1234, 1234],
        {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
        {"x-amz-credential": f"{ACCESS}/20251124/eu-west-1/s3/aws4_request"},
        {"x-amz-date": "20251124T160000Z"},
    ]
    if token is not None:
        expected.append({"x-amz-security-token": token})
    assert sorted(map(json.dumps, policy["conditions"])) == sorted(map(json.dumps, expected))
    # Nothing loosened: no starts-with, no second key or type rule.
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in policy["conditions"])
    # Every field the browser sends (bar policy and signature) is pinned by an exact match.
    pinned = {name for c in policy["conditions"] if isinstance(c, dict) for name in c}
    assert set(form.fields) - {"policy", "x-amz-signature"} == pinned - {"bucket"}
    assert form.fields["key"] == key
    assert form.fields["Content-Type"] == "image/png"
    assert form.expires_at == dt.datetime(2025, 11, 24, 16, 15, tzinfo=dt.UTC)
    assert form.max_bytes == 1234


@pytest.mark.parametrize("token", [None, TOKEN])
def test_policy_signature_verifies_with_the_same_credentials(token: str | None) -> None:
    form = issue(token=token)
    key = sigv4_signing_key(SECRET, "20251124", "eu-west-1")
    expected = hmac.new(key, form.fields["policy"].encode(), hashlib.sha256).hexdigest()
    assert form.fields["x-amz-signature"] == expected
    wrong = sigv4_signing_key("another-secret", "20251124", "eu-west-1")
    assert (
        hmac.new(wrong, form.fields["policy"].encode(), hashlib.sha256).hexdigest()
        != (form.fields["x-amz-signature"])
    )


@pytest.mark.parametrize(
    ("content_type", "ext"),
    [("image/jpeg", "jpg"), ("image/png", "png"), ("image/webp", "webp"), ("image/gif", "gif")],
)
def test_content_type_sets_the_extension(content_type: str, ext: str) -> None:
    form = issue(content_type=content_type)
    assert form.key.endswith(f"/0123456789abcdef0123456789abcdef.{ext}")
    assert {"Content-Type": content_type} in decode_policy(form)["conditions"]


def test_keys_are_fresh_per_form() -> None:
    issuer = UploadFormIssuer(s3_client=s3_client(), bucket="wishlist-images")
    keys = {issuer.issue("u", "image/gif", 10).key for _ in range(50)}
    assert len(keys) == 50
    assert all(k.startswith("uploads/wishlist/u/") and k.endswith(".gif") for k in keys)


def test_form_posts_to_the_s3_bucket_never_the_cdn() -> None:
    assert issue().url == "https://wishlist-images.s3.eu-west-1.amazonaws.com/"


def test_sigv2_client_is_refused() -> None:
    with pytest.raises(ValueError, match="s3v4"):
        UploadFormIssuer(s3_client=s3_client(signature_version="s3"), bucket="wishlist-images")


# ---- refused requests (INVALID_ARGUMENT) ----------------------------------------------


@pytest.mark.parametrize(
    "user_id",
    ["", "a" * (MAX_USER_ID_CHARS + 1), "a/b", "..", "u\n", "ü", "a b", "a.b", "%2e", None, 42],
)
def test_bad_user_id(user_id: Any) -> None:
    with pytest.raises(InvalidValue) as err:
        issue(user_id=user_id)
    assert err.value.field == "user_id"


@pytest.mark.parametrize(
    "content_type",
    ["", "image/svg+xml", "text/html", "image/jpg", "image/png; charset=x", "image/*", None],
)
def test_bad_content_type(content_type: Any) -> None:
    with pytest.raises(UploadRequestError) as err:
        issue(content_type=content_type)
    assert err.value.field == "content_type"


@pytest.mark.parametrize("size", [0, -1, 10 * MB + 1, 2**63, True, 1.5, "100", None])
def test_bad_content_length(size: Any) -> None:
    with pytest.raises(UploadRequestError) as err:
        issue(content_length=size)
    assert err.value.field == "content_length"
    assert "10485760" in err.value.message


def test_limits_are_inclusive() -> None:
    assert issue(user_id="a" * MAX_USER_ID_CHARS, content_length=10 * MB).max_bytes == 10 * MB
    assert issue(content_length=1).max_bytes == 1


def test_messages_never_echo_hostile_input() -> None:
    hostile = "<script>alert(1)</script>" + "x" * 10_000
    cases: list[dict[str, Any]] = [{"user_id": hostile}, {"content_type": hostile}]
    for kwargs in cases:
        with pytest.raises(InvalidValue) as err:
            issue(**kwargs)
        assert "<script>" not in str(err.value)
        assert len(str(err.value)) < 200


def test_upper_case_type_is_normalised() -> None:
    form = issue(content_type="IMAGE/PNG")
    assert form.fields["Content-Type"] == "image/png"
    assert form.key.endswith(".png")


# ---- end to end against moto's S3 server --------------------------------------------


def test_browser_style_upload_to_moto_then_read_back(moto_endpoint: str, moto_s3: S3Client) -> None:
    moto_s3.create_bucket(Bucket="upload-e2e")
    issuer = UploadFormIssuer(s3_client=moto_s3, bucket="upload-e2e")
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    form = issuer.issue("user-7", "image/png", len(data))
    assert form.url == f"{moto_endpoint}/upload-e2e"
    with httpx.Client(trust_env=False, timeout=10) as http:
        response = http.post(
            form.url, data=form.fields, files={"file": ("photo.png", data, "image/png")}
        )
    assert response.status_code == 204
    stored = moto_s3.get_object(Bucket="upload-e2e", Key=form.key)
    assert stored["Body"].read() == data
    assert stored["ContentType"] == "image/png"
    assert form.key.startswith("uploads/wishlist/user-7/")
