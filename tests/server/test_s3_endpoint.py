"""The one S3 endpoint rule, case by case against botocore's own endpoint resolution
(offline: botocore resolves endpoints from its bundled rules, no network)."""

from __future__ import annotations

import itertools

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointResolutionError

from image_resolver.s3.endpoint import partition, s3_endpoint
from image_resolver.s3.presign import S3GetPresigner
from image_resolver.urls import RefError, UrlRules

REGIONS = {
    "us-east-1": "aws",
    "us-west-2": "aws",
    "eu-west-1": "aws",
    "ap-southeast-2": "aws",
    "il-central-1": "aws",
    "cn-north-1": "aws-cn",
    "cn-northwest-1": "aws-cn",
    "us-gov-west-1": "aws-us-gov",
    "us-gov-east-1": "aws-us-gov",
}
BUCKETS = ["wishlist-images", "images.example.com", "Upper-Case"]
CASES = list(itertools.product(REGIONS, BUCKETS, [False, True], [False, True]))
KEY = "uploads/wishlist/u-1/a b.png"


def botocore_object_url(bucket: str, region: str, fips: bool, dualstack: bool) -> str:
    """What botocore presigns for GetObject, up to the query (a fresh session per case:
    botocore caches resolved endpoints per client)."""
    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x" * 40)
    client = session.client(
        "s3",
        region_name=region,
        config=Config(
            signature_version="s3v4",
            use_fips_endpoint=fips,
            use_dualstack_endpoint=dualstack,
            s3={"addressing_style": "virtual"},
        ),
    )
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": KEY})
    return url.partition("?")[0]


@pytest.mark.parametrize(("region", "bucket", "fips", "dualstack"), CASES)
def test_endpoint_matches_botocore(region: str, bucket: str, fips: bool, dualstack: bool) -> None:
    try:
        theirs = botocore_object_url(bucket, region, fips, dualstack)
    except EndpointResolutionError:
        with pytest.raises(ValueError, match="no FIPS"):
            s3_endpoint(bucket, region, fips=fips, dualstack=dualstack)
        assert REGIONS[region] == "aws-cn" and fips
        return
    ours = s3_endpoint(bucket, region, fips=fips, dualstack=dualstack)
    assert ours.object_url("uploads/wishlist/u-1/a%20b.png") == theirs
    assert partition(region) == REGIONS[region]


@pytest.mark.parametrize(("region", "bucket", "fips", "dualstack"), CASES)
def test_public_fallback_presigner_and_parser_agree(
    region: str, bucket: str, fips: bool, dualstack: bool
) -> None:
    """The public URL and the presigned one name the same host and path, and the
    legacy-URL parser takes both back to the key."""
    if fips and REGIONS[region] == "aws-cn":
        with pytest.raises(ValueError, match="no FIPS"):
            UrlRules(bucket=bucket, region=region, s3_fips=True, s3_dualstack=dualstack)
        return
    rules = UrlRules(bucket=bucket, region=region, s3_fips=fips, s3_dualstack=dualstack)
    presigner = S3GetPresigner(
        bucket=bucket,
        region=region,
        expires_in=600,
        credentials=_Creds(),
        fips=fips,
        dualstack=dualstack,
        clock=lambda: 1_700_000_000.0,
    )
    public = rules.s3_url(KEY)
    presigned = presigner.presign(KEY).url
    assert presigned.partition("?")[0] == public
    assert rules.parse(public).key == KEY
    assert rules.parse(presigned).key == KEY


def test_us_east_1_public_and_presigned_use_one_host() -> None:
    """Both used to differ here (s3.us-east-1 vs the global s3.amazonaws.com)."""
    rules = UrlRules(bucket="wishlist-images", region="us-east-1")
    assert rules.s3_url("uploads/wishlist/a.png") == (
        "https://wishlist-images.s3.amazonaws.com/uploads/wishlist/a.png"
    )


def test_china_regions_get_the_cn_suffix() -> None:
    rules = UrlRules(bucket="wishlist-images", region="cn-north-1")
    assert rules.s3_url("uploads/wishlist/a.png") == (
        "https://wishlist-images.s3.cn-north-1.amazonaws.com.cn/uploads/wishlist/a.png"
    )


@pytest.mark.parametrize("region", ["us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "moon-1"])
def test_regions_outside_the_three_partitions_are_refused_everywhere(region: str) -> None:
    with pytest.raises(ValueError, match="partitions"):
        s3_endpoint("wishlist-images", region)
    with pytest.raises(ValueError, match="partitions"):
        UrlRules(bucket="wishlist-images", region=region)
    rules = UrlRules(bucket="wishlist-images", region="us-east-1")
    with pytest.raises(RefError) as caught:
        rules.parse(f"https://wishlist-images.s3.{region.lower()}.amazonaws.com/uploads/wishlist/a")
    assert caught.value.reason == "foreign_host"


def test_region_names_are_lower_case() -> None:
    with pytest.raises(ValueError, match="partitions"):
        s3_endpoint("wishlist-images", "EU-WEST-1")


class _Creds:
    """A static credential source (the presigner's protocol)."""

    def get_frozen_credentials(self) -> _Creds:
        return self

    access_key = "AKIDEXAMPLE"
    secret_key = "x" * 40
    token = None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AWS_REGION": "cn-north-1", "AWS_USE_FIPS_ENDPOINT": "true"}, "no FIPS"),
        ({"AWS_REGION": "us-iso-east-1"}, "partitions"),
    ],
)
def test_an_s3_host_that_cannot_exist_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    from image_resolver.config import ConfigError, load_settings

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_settings(s3_fallback_mode="public")


def test_fips_and_dualstack_settings_reach_both_url_builders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AWS_USE_FIPS_ENDPOINT / AWS_USE_DUALSTACK_ENDPOINT (botocore's own variables) switch
    the public fallback and the presigner together."""
    from image_resolver.config import load_settings
    from image_resolver.server import build_components

    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    monkeypatch.setenv("AWS_USE_DUALSTACK_ENDPOINT", "true")
    settings = load_settings(aws_region="us-gov-west-1", s3_fallback_mode="public")
    components = build_components(settings, session=boto3.Session(region_name="us-gov-west-1"))
    assert components.rules.s3_url("uploads/wishlist/a.png").startswith(
        "https://lego-moc-wishlist-uploads.s3-fips.dualstack.us-gov-west-1.amazonaws.com/"
    )
