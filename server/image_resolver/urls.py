"""URL rules: every way a key becomes a URL, and every URL we accept back as a key.

Pure functions and one frozen rules object; no I/O. The gRPC layer maps
`RefError` to INVALID_ARGUMENT. Messages never repeat the input, because a
stored ref may be a foreign URL or carry a presign signature.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from image_resolver.errors import FieldError
from image_resolver.memo import ByteBoundedMemo
from image_resolver.s3.endpoint import DNS_SUFFIXES, REGION, s3_endpoint
from wishlist_runtime.values import MAX_KEY_BYTES, has_invisible, key_prefix

# One quoting rule for CDN URLs, S3 URLs and invalidation paths: botocore quotes S3
# keys with safe="/~", so all three spell the same key the same way.
_KEY_SAFE = "/~"
MAX_VERSION_CHARS = 128
MAX_REF_CHARS = 4096
# Bytes the legacy-URL parse memo may hold (refs, keys, paths and their overhead).
PARSE_CACHE_BYTES = 8 * 1024 * 1024

# Keys made only of these characters need no quoting and no slow-path checks. Possessive
# quantifiers: a segment's characters never include "/", so backtracking cannot find
# another match, and skipping it makes the match (run on every key) ~35% cheaper.
_PLAIN_SEGMENT = r"(?!\.\.?(?:/|$))[A-Za-z0-9_.~-]++"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Every S3 endpoint spelling we have stored: legacy global, s3-REGION, s3.REGION,
# dualstack, FIPS, accelerate, website and external-1, with optional virtual-host bucket;
# regions and DNS suffixes are the endpoint rule's (s3/endpoint.py), so every URL it
# builds parses back, and a region it refuses (ISO partitions) is refused here too.
_S3_HOST = re.compile(
    r"^(?:(?P<bucket>[a-z0-9][a-z0-9.-]*[a-z0-9])\.)?"
    r"s3(?:-external-1"
    rf"|-accelerate(?:\.dualstack)?"
    rf"|(?:-fips)?(?:\.dualstack)?[.-](?:{REGION})"
    rf"|-website[.-](?:{REGION})"
    r")?\.(?:" + "|".join(re.escape(suffix) for suffix in DNS_SUFFIXES) + r")$"
)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
)
# Query parameters a presigned S3 URL carries; any of them marks the query as a signature.
_PRESIGN_PARAMS = frozenset(
    {"x-amz-algorithm", "x-amz-credential", "x-amz-signature", "awsaccesskeyid", "signature"}
)


class RefError(FieldError):
    """A ref (or its version) we refuse; `reason` is a stable label for metrics."""

    def __init__(self, reason: str, message: str, field: str = "ref") -> None:
        super().__init__(field, reason, message)


def quote_key(key: str) -> str:
    """Percent-encode a key for a URL path (RFC 3986 unreserved and "/" kept)."""
    return quote(key, safe=_KEY_SAFE)


def is_valid_hostname(host: str) -> bool:
    """A DNS name with at least two labels, lower case, no scheme, port or path."""
    return bool(_HOSTNAME.match(host))


class ParsedRef(NamedTuple):
    """What a ref names: the S3 key, its version (the caller's, else a CDN URL's `?v=`),
    and `url_tail`, the quoted key plus its `?v=` query, built once by `UrlRules.parse` so
    that a CDN URL and its S3 fallback are each one concatenation."""

    key: str
    version: str = ""
    url_tail: str = ""


@dataclass(frozen=True)
class UrlRules:
    """The URL rules of one deployment: which bucket, region, CDN domain and key prefix."""

    bucket: str
    region: str
    cdn_domain: str | None = None
    allowed_prefix: str = "uploads/wishlist/"
    # Local S3 (moto) endpoint, e.g. "http://127.0.0.1:5000": S3 URLs become path-style on it.
    s3_endpoint: str | None = None
    # "http" only for the local demo edge (a "cdn.localhost:PORT" domain); CloudFront: https.
    cdn_scheme: str = "https"
    # FIPS / dual-stack S3 endpoints (AWS_USE_FIPS_ENDPOINT / AWS_USE_DUALSTACK_ENDPOINT).
    s3_fips: bool = False
    s3_dualstack: bool = False
    _plain_key: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _cdn_base: str = field(init=False, repr=False, compare=False)
    _s3_base: str = field(init=False, repr=False, compare=False)
    _endpoint_host: str | None = field(init=False, repr=False, compare=False)
    _cdn_host_port: tuple[str, int | None] | None = field(init=False, repr=False, compare=False)
    _parse_cached: ByteBoundedMemo[str, str, ParsedRef] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        key_prefix(self.allowed_prefix, "allowed_prefix")
        if re.fullmatch(r"[A-Za-z0-9_.~/-]*", self.allowed_prefix):
            prefix = re.escape(self.allowed_prefix)
            plain = re.compile(rf"{prefix}{_PLAIN_SEGMENT}(?:/{_PLAIN_SEGMENT})*+")
        else:  # a prefix that needs quoting: every key takes the checked slow path
            plain = re.compile(r"(?!)")
        object.__setattr__(self, "_plain_key", plain)
        object.__setattr__(self, "_s3_base", self._compute_s3_base())
        object.__setattr__(self, "_cdn_base", f"{self.cdn_scheme}://{self.cdn_domain}/")
        host = urlsplit(self.s3_endpoint).netloc.lower() if self.s3_endpoint else None
        object.__setattr__(self, "_endpoint_host", host)
        cdn = urlsplit(f"//{self.cdn_domain}") if self.cdn_domain else None
        object.__setattr__(self, "_cdn_host_port", cdn and (cdn.hostname or "", cdn.port))
        # Legacy URLs cost ~7 us to take apart and the same rows are shown again and again;
        # the parse is pure, so accepted results are memoised (refusals are not cached),
        # within a byte budget: refs run to 4 KB, so a count bound is no memory bound.
        object.__setattr__(
            self,
            "_parse_cached",
            ByteBoundedMemo(self._parse_slow, PARSE_CACHE_BYTES, _parsed_size),
        )

    def _compute_s3_base(self) -> str:
        """The same endpoint the presigner signs for (one rule: s3/endpoint.py)."""
        endpoint = s3_endpoint(
            self.bucket,
            self.region,
            endpoint_url=self.s3_endpoint,
            fips=self.s3_fips,
            dualstack=self.s3_dualstack,
        )
        return endpoint.object_url("")

    @property
    def parse_cache_bytes(self) -> int:
        """Bytes the legacy-URL memo holds now (at most PARSE_CACHE_BYTES)."""
        return self._parse_cached.bytes

    # ---- key -> URL -------------------------------------------------------------

    def cdn_url(self, key: str, version: str = "") -> str:
        """The CloudFront URL of a validated key (the caller checks a CDN domain is set)."""
        return self._cdn_base + self.url_path(key) + _version_query(version)

    def s3_url(self, key: str, version: str = "") -> str:
        """The public S3 URL of a validated key; only readable while the bucket allows it."""
        return self._s3_base + self.url_path(key) + _version_query(version)

    def cdn_url_of(self, parsed: ParsedRef) -> str:
        """cdn_url() for a parsed ref, reusing the path and query parse() already built."""
        return self._cdn_base + parsed.url_tail

    def s3_url_of(self, parsed: ParsedRef) -> str:
        """s3_url() for a parsed ref, reusing the path and query parse() already built."""
        return self._s3_base + parsed.url_tail

    def invalidation_path(self, key: str) -> str:
        """The CloudFront invalidation path: the same quoting as the CDN URL, so they match."""
        return "/" + self.url_path(key)

    def url_path(self, key: str) -> str:
        """Key as it appears in a URL path; plain keys skip quoting."""
        return key if self._plain_key.fullmatch(key) else quote_key(key)

    # ---- ref -> key -------------------------------------------------------------

    def parse(self, ref: str, version: str = "") -> ParsedRef:
        """Turn a bare key, a legacy S3 URL or one of our CDN URLs into a validated key."""
        if self._plain_key.fullmatch(ref) and len(ref) <= MAX_KEY_BYTES:
            return ParsedRef(ref, version, ref + _checked_query(version) if version else ref)
        return self._parse_cached(ref, version)

    def _parse_slow(self, ref: str, version: str) -> ParsedRef:
        if not ref or not ref.strip():
            raise RefError("empty", "is empty")
        if len(ref) > MAX_REF_CHARS:
            raise RefError("too_long", f"is longer than {MAX_REF_CHARS} characters")
        if _CONTROL.search(ref):
            raise RefError("control_char", "contains control characters")
        if "://" in ref:
            key, url_version = self._key_from_url(ref)
        else:
            key, url_version = ref, ""
        self.validate_key(key)
        version = version or url_version
        return ParsedRef(key, version, quote_key(key) + _checked_query(version))

    def _key_from_url(self, ref: str) -> tuple[str, str]:
        try:
            parts = urlsplit(ref)
            port = parts.port
        except ValueError:
            raise RefError("bad_url", "is not a valid URL") from None
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        if parts.username is not None or parts.password is not None:
            raise RefError("foreign_host", "is a URL with credentials; only our bucket or CDN")
        if scheme == "s3":
            if host != self.bucket or port is not None:
                raise RefError("foreign_bucket", "names another bucket")
            # s3:// URIs carry the raw key: no percent-decoding.
            return parts.path[1:], ""
        if scheme not in ("http", "https"):
            raise RefError("bad_scheme", "must be a key, or an http(s) or s3 URL")
        path = _decode_path(parts.path)
        if self._is_cdn(host, port):
            return path[1:], _cdn_version(parts.query)
        if self._endpoint_host and parts.netloc.lower() == self._endpoint_host:
            return self._key_from_path_style(path), ""
        match = _S3_HOST.match(host)
        if match is None or port not in (None, 80, 443):
            raise RefError("foreign_host", "is a URL on a host that is not our bucket or CDN")
        if match["bucket"] is None:
            return self._key_from_path_style(path), ""
        if match["bucket"] != self.bucket:
            raise RefError("foreign_bucket", "names another bucket")
        return path[1:], ""

    def _is_cdn(self, host: str, port: int | None) -> bool:
        if self._cdn_host_port is None:
            return False
        cdn_host, cdn_port = self._cdn_host_port
        return host == cdn_host and port in ((None, 443) if cdn_port is None else (cdn_port,))

    def _key_from_path_style(self, path: str) -> str:
        bucket, _, key = path[1:].partition("/")
        if bucket != self.bucket:
            raise RefError("foreign_bucket", "names another bucket")
        return key

    def validate_key(self, key: str) -> None:
        """Refuse keys that escape the prefix or S3, CloudFront and caches read differently."""
        if not key:
            raise RefError("empty", "has an empty key")
        if len(key) > MAX_KEY_BYTES or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            raise RefError("too_long", f"key is longer than {MAX_KEY_BYTES} bytes")
        if _CONTROL.search(key):
            raise RefError("control_char", "key contains control characters")
        if has_invisible(key):
            raise RefError("invisible_char", "key contains invisible or bidi characters")
        if "\\" in key:
            raise RefError("backslash", "key contains a backslash")
        segments = key.split("/")
        if any(seg in (".", "..") for seg in segments):
            raise RefError("dot_segment", "key contains a '.' or '..' segment")
        if "" in segments:
            raise RefError("empty_segment", "key contains an empty path segment")
        if not key.startswith(self.allowed_prefix):
            raise RefError("outside_prefix", f"key is outside {self.allowed_prefix!r}")
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            raise RefError("bad_encoding", "key is not valid UTF-8") from None


def _parsed_size(ref: str, version: str, parsed: ParsedRef) -> int:
    """What one memo entry keeps alive: five strings plus ~200 bytes of containers."""
    strings = (ref, version, *parsed)
    return 200 + sum(sys.getsizeof(s) for s in strings)


def check_version(version: str) -> str:
    """A cache-busting token: short and printable; it is URL-encoded where used."""
    if not version or (_is_plain_token(version) and len(version) <= MAX_VERSION_CHARS):
        return version  # the usual counter or hash: nothing to look for
    if len(version) > MAX_VERSION_CHARS or _CONTROL.search(version) or has_invisible(version):
        raise RefError(
            "bad_version", f"must be at most {MAX_VERSION_CHARS} printable characters", "version"
        )
    return version


def _is_plain_token(text: str) -> bool:
    """ASCII letters and digits only: printable, and the same once URL-encoded."""
    return text.isascii() and text.isalnum()


def _checked_query(version: str) -> str:
    """_version_query() of a version check_version() accepts."""
    if _is_plain_token(version) and len(version) <= MAX_VERSION_CHARS:
        return "?v=" + version  # the usual counter or hash: checked and quoted as it is
    return _version_query(check_version(version))


def _version_query(version: str) -> str:
    """`?v=<version>` URL-encoded, or "" without a version (quote() costs ~1 us: skip it
    for the usual counter or hash)."""
    if not version:
        return ""
    return "?v=" + (version if _is_plain_token(version) else quote(version, safe=""))


def _decode_path(path: str) -> str:
    """Percent-decode once; a path that is not UTF-8 once decoded is refused."""
    try:
        return unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise RefError("bad_encoding", "URL path is not valid UTF-8") from None


def _cdn_version(query: str) -> str:
    """Keep `v` from one of our CDN URLs, so resolving a resolved URL is idempotent."""
    if not query:
        return ""
    params = parse_qsl(query, keep_blank_values=True)
    if any(name.lower() in _PRESIGN_PARAMS for name, _ in params):
        return ""
    return next((value for name, value in params if name == "v"), "")
