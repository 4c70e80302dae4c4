"""The one S3 endpoint rule: which host and path an object of a bucket lives at.

Used by the public S3 fallback (`UrlRules.s3_url`), the presigner and the legacy-URL
parser, so all three agree. It reproduces botocore's endpoint rules for the aws, aws-cn and
aws-us-gov partitions (tests/server/test_s3_endpoint.py compares every case with botocore):
us-east-1 keeps the global `s3.amazonaws.com` host unless FIPS or dual-stack is asked for,
aws-cn hosts end in `.amazonaws.com.cn` and have no FIPS endpoints, and only lower-case
DNS-label bucket names are virtual-hosted (dotted names break the `*.s3` certificate).
Other partitions (ISO, EUSC) are refused: set `endpoint_url` for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# aws (eu-west-1, il-central-1, ...), aws-cn (cn-north-1) and aws-us-gov (us-gov-west-1).
REGION = r"[a-z]{2}(?:-gov)?-[a-z]+-\d{1,2}"
_REGION = re.compile(REGION)
# DNS suffix per partition (botocore's partitions.json); aws-us-gov shares aws's.
DNS_SUFFIXES = ("amazonaws.com", "amazonaws.com.cn")
_VIRTUAL_HOSTABLE = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class S3Endpoint:
    """Where a bucket's objects are: `{base_url}/{path_prefix}{quoted key}`. `host` is the
    Host header SigV4 signs (no default port); `authority` is the URL's, as given (botocore
    keeps an `endpoint_url`'s spelling, default port included)."""

    scheme: str
    host: str
    path_prefix: str  # "" when virtual-hosted, else "bucket/"
    authority: str

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.authority}"

    def object_url(self, quoted_key: str) -> str:
        return f"{self.base_url}/{self.path_prefix}{quoted_key}"


def partition(region: str) -> str:
    """The AWS partition of a region name; ValueError for a name outside the three."""
    if not _REGION.fullmatch(region):
        raise ValueError(
            "region must look like 'eu-west-1' (aws, aws-cn, aws-us-gov partitions); "
            "use endpoint_url for other partitions"
        )
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def s3_endpoint(
    bucket: str,
    region: str,
    *,
    endpoint_url: str | None = None,
    fips: bool = False,
    dualstack: bool = False,
) -> S3Endpoint:
    """The endpoint botocore would sign for; `endpoint_url` (moto, a gateway) is path-style."""
    if endpoint_url is not None:
        return _custom(bucket, endpoint_url)
    part = partition(region)
    if fips and part == "aws-cn":
        raise ValueError("the aws-cn partition has no FIPS S3 endpoints")
    suffix = "amazonaws.com.cn" if part == "aws-cn" else "amazonaws.com"
    service = "s3" + ("-fips" if fips else "") + (".dualstack" if dualstack else "")
    if region == "us-east-1" and not (fips or dualstack):
        host = f"{service}.{suffix}"
    else:
        host = f"{service}.{region}.{suffix}"
    if _VIRTUAL_HOSTABLE.fullmatch(bucket):
        host = f"{bucket}.{host}"
        return S3Endpoint("https", host, "", host)
    return S3Endpoint("https", host, f"{bucket}/", host)


def _custom(bucket: str, endpoint_url: str) -> S3Endpoint:
    parts = urlsplit(endpoint_url)
    if (
        parts.scheme not in _DEFAULT_PORTS
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValueError("endpoint_url must be http(s)://host[:port] with no path")
    port = parts.port  # raises ValueError on a bad port
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{port}"
    return S3Endpoint(parts.scheme, host, f"{bucket}/", parts.netloc)
