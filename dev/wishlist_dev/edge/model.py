"""The CloudFront rules the local edge applies, as plain values (read from the template)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

# Status codes CloudFront caches (for the error caching minimum TTL, 10 s unless a
# CustomErrorResponse says otherwise); other statuses >= 400 are never cached.
CACHED_ERROR_CODES = (400, 403, 404, 405, 414, 500, 501, 502, 503, 504)
# For these, an origin's no-store/no-cache/private stops CloudFront caching the error.
ERRORS_HONOURING_NO_STORE = (404, 414, 501)
DEFAULT_ERROR_TTL = 10

TTL_OVERRIDE_KEYS = ("min_ttl", "default_ttl", "max_ttl", "error_ttl")


@dataclass(frozen=True)
class CachePolicy:
    min_ttl: int
    default_ttl: int
    max_ttl: int
    query_string_behavior: str  # none | whitelist | allExcept | all
    query_strings: tuple[str, ...]


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    allow_credentials: bool
    max_age: int | None
    origin_override: bool


@dataclass(frozen=True)
class HeadersPolicy:
    hsts: str | None  # the Strict-Transport-Security value
    nosniff: bool
    frame_options: str | None
    referrer_policy: str | None
    cors: Cors | None


@dataclass(frozen=True)
class Behavior:
    path_pattern: str | None  # None: the default behaviour
    viewer_protocol_policy: str  # allow-all | redirect-to-https | https-only
    allowed_methods: tuple[str, ...]
    cached_methods: tuple[str, ...]
    compress: bool
    cache: CachePolicy
    headers: HeadersPolicy | None
    # A viewer-request CloudFront Function that always answers this status (no origin fetch).
    function_status: int | None = None


@dataclass(frozen=True)
class EdgeConfig:
    """Behaviours in CloudFront's matching order (the default one last) and error caching."""

    behaviors: tuple[Behavior, ...]
    error_ttls: tuple[tuple[int, int], ...]  # (status, ErrorCachingMinTTL) from the template
    default_error_ttl: int = DEFAULT_ERROR_TTL
    # What the bucket policy lets CloudFront do: read keys under these prefixes, and list
    # (without s3:ListBucket S3 answers a missing key 403, not 404).
    origin_read_prefixes: tuple[str, ...] = ("",)
    origin_lists_bucket: bool = True

    def error_ttl(self, status: int) -> int:
        return dict(self.error_ttls).get(status, self.default_error_ttl)

    def with_ttl_overrides(self, overrides: Mapping[str, int]) -> EdgeConfig:
        """Shorter TTLs for tests: keys `min_ttl`, `default_ttl`, `max_ttl` (every behaviour),
        `error_ttl` (the 10 s default) and `error_ttl_<status>` (e.g. `error_ttl_404`)."""
        config = self
        errors = dict(self.error_ttls)
        for key, seconds in overrides.items():
            if not isinstance(seconds, int) or seconds < 0:
                raise ValueError(f"ttl override {key}: must be a whole number of seconds >= 0")
            if key in ("min_ttl", "default_ttl", "max_ttl"):
                config = dataclasses.replace(
                    config,
                    behaviors=tuple(
                        dataclasses.replace(b, cache=_with_ttl(b.cache, key, seconds))
                        for b in config.behaviors
                    ),
                )
            elif key == "error_ttl":
                config = dataclasses.replace(config, default_error_ttl=seconds)
            elif key.startswith("error_ttl_") and key[10:].isdigit():
                errors[int(key[10:])] = seconds
            else:
                raise ValueError(
                    f"unknown ttl override {key!r}: use {', '.join(TTL_OVERRIDE_KEYS)} "
                    "or error_ttl_<status>"
                )
        return dataclasses.replace(config, error_ttls=tuple(sorted(errors.items())))


def _with_ttl(cache: CachePolicy, name: str, seconds: int) -> CachePolicy:
    if name == "min_ttl":
        return dataclasses.replace(cache, min_ttl=seconds)
    if name == "default_ttl":
        return dataclasses.replace(cache, default_ttl=seconds)
    return dataclasses.replace(cache, max_ttl=seconds)
