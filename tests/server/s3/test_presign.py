"""S3GetPresigner: byte-for-byte equal to botocore, time-bucketed, refreshes credentials."""

from __future__ import annotations

import datetime as dt
import functools
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.credentials import Credentials, RefreshableCredentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mypy_boto3_s3 import S3Client

from image_resolver.s3.presign import (
    MAX_EXPIRES,
    SIGNED_CACHE_BYTES,
    S3GetPresigner,
    credentials_from_session,
)

from .conftest import frozen_botocore_clock

T0 = 1_764_000_000  # 2025-11-24T16:00:00Z, a multiple of every window used below
ACCESS = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH+MEUCIQ==/a b~c"

# Every character class that quoting can get wrong, plus arbitrary Unicode (no lone
# surrogates: neither S3 nor botocore can encode them).
RESERVED = " +%?#&=~!'()*$,;:@[]/\\\"<>^`{|}\t\n"
keys = st.text(
    alphabet=st.one_of(
        st.sampled_from(RESERVED + "é☃😀中𝄞\u00a0\u200b"),
        st.characters(exclude_categories=["Cs"]),
    ),
    min_size=1,
    max_size=120,
)


@functools.cache
def botocore_client(
    region: str, endpoint_url: str | None, token: str | None, access: str = ACCESS
) -> S3Client:
    session = boto3.Session(
        aws_access_key_id=access, aws_secret_access_key=SECRET, aws_session_token=token
    )
    return session.client(
        "s3",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint_url else "virtual"},
        ),
    )


def botocore_url(
    bucket: str,
    key: str,
    *,
    region: str,
    expires_in: int,
    at: int,
    token: str | None,
    endpoint_url: str | None = None,
    access: str = ACCESS,
) -> str:
    client = botocore_client(region, endpoint_url, token, access)
    with frozen_botocore_clock(at):
        return client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
        )


def make_presigner(
    *,
    bucket: str = "wishlist-images",
    region: str = "eu-west-1",
    expires_in: int = 3600,
    token: str | None = None,
    now: float = T0,
    endpoint_url: str | None = None,
) -> S3GetPresigner:
    return S3GetPresigner(
        bucket=bucket,
        region=region,
        expires_in=expires_in,
        credentials=Credentials(ACCESS, SECRET, token),
        endpoint_url=endpoint_url,
        clock=lambda: now,
    )


# ---- botocore equivalence ---------------------------------------------------------


def test_frozen_clock_really_freezes_botocore() -> None:
    """Guard for the equivalence tests: botocore must sign at the instant we chose."""
    url = botocore_url("b-1", "k", region="eu-west-1", expires_in=60, at=T0 + 7, token=None)
    assert parse_qs(urlsplit(url).query)["X-Amz-Date"] == ["20251124T160007Z"]


def test_aws_documented_example_signature() -> None:
    """Known answer from the S3 SigV4 query-auth docs (examplebucket/test.txt, 24 May 2013)."""
    signer = make_presigner(
        bucket="examplebucket", region="us-east-1", expires_in=86400, now=1369353600 + 5
    )
    assert signer.presign("test.txt").url == (
        "https://examplebucket.s3.amazonaws.com/test.txt"
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=keys,
    region=st.sampled_from(
        ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]
    ),
    bucket=st.sampled_from(["wishlist-images", "my.dotted.bucket", "Legacy_Bucket", "ab"]),
    token=st.sampled_from([None, TOKEN]),
    expires_in=st.sampled_from([1, 2, 3, 61, 900, 3600, 86399, MAX_EXPIRES]),
    offset=st.integers(min_value=0, max_value=10 * 86400),
)
def test_byte_identical_to_botocore(
    key: str, region: str, bucket: str, token: str | None, expires_in: int, offset: int
) -> None:
    now = T0 + offset + 0.25
    window = max(1, expires_in // 2)
    window_start = int(now) // window * window
    ours = make_presigner(
        bucket=bucket, region=region, expires_in=expires_in, token=token, now=now
    ).presign(key)
    theirs = botocore_url(
        bucket, key, region=region, expires_in=expires_in, at=window_start, token=token
    )
    assert ours.url == theirs
    assert ours.expires_at == dt.datetime.fromtimestamp(window_start + expires_in, dt.UTC)


@settings(max_examples=150, deadline=None)
@given(
    key=keys,
    endpoint=st.sampled_from(
        [
            "http://127.0.0.1:5000",
            "http://127.0.0.1:80/",
            "https://LocalHost:443",
            "http://[::1]:9000",
        ]
    ),
    token=st.sampled_from([None, TOKEN]),
)
def test_byte_identical_to_botocore_with_endpoint(
    key: str, endpoint: str, token: str | None
) -> None:
    ours = make_presigner(endpoint_url=endpoint, token=token, bucket="my.dotted.bucket")
    theirs = botocore_url(
        "my.dotted.bucket",
        key,
        region="eu-west-1",
        expires_in=3600,
        at=T0,
        token=token,
        endpoint_url=endpoint,
    )
    assert ours.presign(key).url == theirs


def test_addressing_follows_botocore() -> None:
    """Spot checks written out by hand, independent of botocore and of our code."""
    cases = [
        ("wishlist-images", "us-east-1", "https://wishlist-images.s3.amazonaws.com/a%20b?"),
        (
            "wishlist-images",
            "eu-west-1",
            "https://wishlist-images.s3.eu-west-1.amazonaws.com/a%20b?",
        ),
        ("a.b.c", "eu-west-1", "https://s3.eu-west-1.amazonaws.com/a.b.c/a%20b?"),
        ("a.b.c", "us-east-1", "https://s3.amazonaws.com/a.b.c/a%20b?"),
        (
            "wishlist-images",
            "cn-north-1",
            "https://wishlist-images.s3.cn-north-1.amazonaws.com.cn/a%20b?",
        ),
    ]
    for bucket, region, prefix in cases:
        assert make_presigner(bucket=bucket, region=region).presign("a b").url.startswith(prefix)


# ---- time bucketing ----------------------------------------------------------------


def test_url_is_stable_within_a_window_and_changes_at_its_end() -> None:
    now = [float(T0)]
    signer = S3GetPresigner(
        bucket="wishlist-images",
        region="eu-west-1",
        expires_in=3600,
        credentials=Credentials(ACCESS, SECRET),
        clock=lambda: now[0],
    )
    first = signer.presign("uploads/wishlist/u/1.jpg")
    for t in (T0 + 1, T0 + 900.5, T0 + 1799.999):
        now[0] = t
        assert signer.presign("uploads/wishlist/u/1.jpg") == first
    now[0] = T0 + 1800
    second = signer.presign("uploads/wishlist/u/1.jpg")
    assert second.url != first.url
    assert "X-Amz-Date=20251124T163000Z" in second.url
    assert second.expires_at == dt.datetime(2025, 11, 24, 17, 30, tzinfo=dt.UTC)


def test_kept_urls_are_the_freshly_signed_ones_within_a_byte_budget() -> None:
    """A page shown again reads its URLs from the window's store: the same bytes a signer
    that never saw the keys produces; long keys with a session token cannot grow it."""
    signer = make_presigner(token=TOKEN)
    keys = [f"uploads/wishlist/u/{i}/" + "x" * 900 for i in range(6000)]
    for key in keys:
        signer.presign(key)
    assert 0 < signer.signed_cache_bytes <= SIGNED_CACHE_BYTES
    for key in (keys[0], keys[-1], "uploads/wishlist/u/a b+c.jpg"):  # kept, over budget, new
        assert signer.presign(key) == make_presigner(token=TOKEN).presign(key)
        assert signer.presign(key) == make_presigner(token=TOKEN).presign(key)  # read back


@pytest.mark.parametrize("expires_in", [2, 3, 7, 60, 3600, 3601, MAX_EXPIRES])
def test_never_hands_out_less_than_half_the_lifetime(expires_in: int) -> None:
    step = max(1, expires_in // 97)
    for t in range(T0, T0 + 3 * expires_in, step):
        for frac in (0.0, 0.999):
            now = t + frac
            got = make_presigner(expires_in=expires_in, now=now).presign("k")
            remaining = got.expires_at.timestamp() - now
            assert expires_in / 2 <= remaining <= expires_in


@pytest.mark.parametrize("bad", [0, -1, MAX_EXPIRES + 1])
def test_expiry_out_of_range_is_refused(bad: int) -> None:
    with pytest.raises(ValueError, match=re.escape("expires_in must be 1..604800")):
        make_presigner(expires_in=bad)


def test_expiry_must_be_an_int() -> None:
    with pytest.raises(TypeError):
        make_presigner(expires_in=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bucket": "no/slash"},
        {"bucket": ""},
        {"region": "EU-WEST-1"},
        {"region": "us-iso-east-1"},
        {"endpoint_url": "ftp://127.0.0.1"},
        {"endpoint_url": "http://127.0.0.1:5000/prefix"},
        {"endpoint_url": "http://user:pw@127.0.0.1:5000"},
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="must"):
        make_presigner(**kwargs)  # type: ignore[arg-type]


def test_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        make_presigner().presign("")


# ---- credentials -------------------------------------------------------------------


@dataclass
class RotatingSource:
    """A credential source that counts reads and can rotate."""

    creds: Credentials
    reads: int = 0

    def get_frozen_credentials(self):  # type: ignore[no-untyped-def]
        self.reads += 1
        return self.creds.get_frozen_credentials()


def test_credentials_are_read_at_most_once_per_interval_and_rotation_is_picked_up() -> None:
    source = RotatingSource(Credentials(ACCESS, SECRET))
    now = [T0 + 10.0]
    signer = S3GetPresigner(
        bucket="wishlist-images",
        region="eu-west-1",
        expires_in=3600,
        credentials=source,
        clock=lambda: now[0],
    )
    for i in range(1000):
        signer.presign(f"k{i}")
    assert source.reads == 1

    source.creds = Credentials("ASIAROTATEDKEY", "new-secret", TOKEN)
    now[0] += 0.5  # inside the check interval: still the old (still valid) credentials
    assert "AKIAIOSFODNN7EXAMPLE" in signer.presign("k").url
    now[0] += 0.6
    assert "AKIAIOSFODNN7EXAMPLE" in signer.presign("k").url  # the re-read runs off this call
    deadline = time.monotonic() + 5
    rotated = signer.presign("k").url
    while "ASIAROTATEDKEY" not in rotated and time.monotonic() < deadline:
        time.sleep(0.01)
        rotated = signer.presign("k").url
    assert source.reads == 2
    session = boto3.Session(
        aws_access_key_id="ASIAROTATEDKEY",
        aws_secret_access_key="new-secret",
        aws_session_token=TOKEN,
    )
    client = session.client(
        "s3",
        region_name="eu-west-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )
    with frozen_botocore_clock(T0):
        assert rotated == client.generate_presigned_url(
            "get_object", Params={"Bucket": "wishlist-images", "Key": "k"}, ExpiresIn=3600
        )


def test_signing_key_follows_the_utc_date() -> None:
    """Across midnight the scope date moves; equality with botocore proves the key did."""
    midnight = 1_764_028_800  # 2025-11-25T00:00:00Z
    now = [midnight - 1.0]
    signer = S3GetPresigner(
        bucket="wishlist-images",
        region="eu-west-1",
        expires_in=600,
        credentials=Credentials(ACCESS, SECRET),
        clock=lambda: now[0],
    )
    before = signer.presign("k").url
    now[0] = midnight + 1.0
    after = signer.presign("k").url
    assert "%2F20251124%2F" in before
    assert "%2F20251125%2F" in after
    assert before == botocore_url(
        "wishlist-images", "k", region="eu-west-1", expires_in=600, at=midnight - 300, token=None
    )
    assert after == botocore_url(
        "wishlist-images", "k", region="eu-west-1", expires_in=600, at=midnight, token=None
    )


def test_expires_at_is_capped_by_temporary_credentials() -> None:
    """S3 refuses a URL once its session token has expired, whatever X-Amz-Expires says."""
    expiry = dt.datetime.fromtimestamp(T0 + 1200, dt.UTC)  # past botocore's refresh margins
    creds = RefreshableCredentials(
        ACCESS,
        SECRET,
        TOKEN,
        expiry,
        refresh_using=lambda: {},
        method="test",
        time_fetcher=lambda: dt.datetime.fromtimestamp(T0, dt.UTC),
    )
    signer = S3GetPresigner(
        bucket="wishlist-images",
        region="eu-west-1",
        expires_in=3600,
        credentials=creds,
        clock=lambda: T0,
    )
    assert signer.presign("k").expires_at == expiry


def test_from_boto3_session_uses_the_standard_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "env-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    signer = S3GetPresigner.from_boto3_session(
        boto3.Session(), bucket="wishlist-images", expires_in=900, clock=lambda: T0
    )
    url = signer.presign("k").url
    assert url.startswith("https://wishlist-images.s3.ap-southeast-2.amazonaws.com/k?")
    assert "AKIAFROMENVIRONMENT%2F20251124%2Fap-southeast-2" in url
    assert "X-Amz-Security-Token=env-token" in url


def test_no_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    with pytest.raises(RuntimeError, match="no AWS credentials"):
        credentials_from_session(boto3.Session())


# ---- end to end against moto's S3 server --------------------------------------------


def test_presigned_url_fetches_the_object_from_moto(moto_endpoint: str, moto_s3: S3Client) -> None:
    """moto serves any GET that carries a signature (it does not verify it), so this
    proves host, path-style bucket and key quoting land on the right object; the
    signature bytes are proven by the botocore equivalence tests above."""
    moto_s3.create_bucket(Bucket="presign-e2e")
    key = "uploads/wishlist/u-1/a b+c%d?e#f&g=h~ü😀.jpg"
    body = b"\xff\xd8\xff fake jpeg"
    moto_s3.put_object(Bucket="presign-e2e", Key=key, Body=body)
    moto_s3.put_object(Bucket="presign-e2e", Key="uploads/wishlist/u-1/a b", Body=b"decoy")
    signer = S3GetPresigner(
        bucket="presign-e2e",
        region="us-east-1",
        expires_in=900,
        credentials=Credentials("testing", "testing"),
        endpoint_url=moto_endpoint,
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(signer.presign(key).url, timeout=10) as response:
        assert response.status == 200
        assert response.read() == body
    # Unsigned, the same object is refused: the 200 above needed the presigned query.
    unsigned = signer.presign(key).url.split("?", 1)[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(unsigned, timeout=10)
    assert refused.value.code == 403
