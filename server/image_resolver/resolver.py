"""The resolver's one decision: for this ref and this viewer, which URL.

Joins the URL rules, the live rollout and the S3 fallback signer. No wire types here:
the gRPC adapters translate; this module raises RefError for a bad ref.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import IntEnum
from typing import NamedTuple, Protocol

from image_resolver import metrics
from image_resolver.errors import FieldError
from image_resolver.rollout.decision import uses_cdn
from image_resolver.rollout.live import LiveRollout
from image_resolver.urls import ParsedRef, RefError, UrlRules

MAX_USER_ID_CHARS = 256


class Origin(IntEnum):
    """Same numbers as wishlist.images.v1.Origin."""

    CDN = 1
    S3 = 2


class Resolved(NamedTuple):
    url: str
    origin: Origin
    expires_at: datetime | None = None
    # CDN results asked for a fallback: the same image from S3, for when the CDN fails.
    fallback_url: str = ""
    fallback_expires_at: datetime | None = None


class SignedUrl(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def expires_at(self) -> datetime: ...


class FallbackSigner(Protocol):
    """Presigns S3 GETs for users outside the rollout once direct reads are blocked."""

    def presign(self, key: str) -> SignedUrl: ...


class ImageResolver:
    """Turns refs into URLs. Thread-safe: it reads the rollout state once per call."""

    def __init__(
        self,
        rules: UrlRules,
        rollout: LiveRollout,
        group_id: str,
        signer: FallbackSigner | None = None,
    ) -> None:
        self.rules = rules
        self.rollout = rollout
        self.group_id = group_id
        self.signer = signer
        self.cdn_available = rules.cdn_domain is not None

    def resolve(
        self, ref: str, version: str = "", user_id: str = "", with_fallback: bool = False
    ) -> Resolved:
        """One ref; raises RefError when the ref is refused."""
        check_user_id(user_id)
        try:
            parsed = self.rules.parse(ref, version)
        except RefError as exc:
            metrics.INVALID_REFS.labels(exc.reason).inc()
            raise
        on_cdn = self._on_cdn(user_id or parsed.key)
        (metrics.CDN_RESOLUTIONS if on_cdn else metrics.S3_RESOLUTIONS).inc()
        return self._url(parsed, on_cdn, with_fallback)

    def resolve_many(
        self, refs: Sequence[tuple[str, str]], user_id: str = "", with_fallback: bool = False
    ) -> list[Resolved | RefError]:
        """Many (ref, version) pairs for one viewer; a bad ref fails only its own slot."""
        check_user_id(user_id)
        state = self.rollout.state
        user_on_cdn = (
            (self.cdn_available and uses_cdn(state, self.group_id, user_id)) if user_id else None
        )
        parse, url = self.rules.parse, self._url
        out: list[Resolved | RefError] = []
        cdn = s3 = 0
        for ref, version in refs:
            try:
                parsed = parse(ref, version)
            except RefError as exc:
                metrics.INVALID_REFS.labels(exc.reason).inc()
                out.append(exc)
                continue
            on_cdn = user_on_cdn
            if on_cdn is None:
                on_cdn = self.cdn_available and uses_cdn(state, self.group_id, parsed.key)
            if on_cdn:
                cdn += 1
            else:
                s3 += 1
            out.append(url(parsed, on_cdn, with_fallback))
        if cdn:
            metrics.CDN_RESOLUTIONS.inc(cdn)
        if s3:
            metrics.S3_RESOLUTIONS.inc(s3)
        return out

    def _on_cdn(self, subject: str) -> bool:
        return self.cdn_available and uses_cdn(self.rollout.state, self.group_id, subject)

    def _url(self, parsed: ParsedRef, on_cdn: bool, with_fallback: bool = False) -> Resolved:
        if on_cdn:
            cdn_url = self.rules.cdn_url_of(parsed)
            if not with_fallback:
                return Resolved(cdn_url, Origin.CDN)
            s3 = self._s3(parsed)
            return Resolved(cdn_url, Origin.CDN, None, s3.url, s3.expires_at)
        return self._s3(parsed)

    def _s3(self, parsed: ParsedRef) -> Resolved:
        if self.signer is not None:
            signed = self.signer.presign(parsed.key)
            return Resolved(signed.url, Origin.S3, signed.expires_at)
        return Resolved(self.rules.s3_url_of(parsed), Origin.S3)


def check_user_id(user_id: str) -> None:
    if len(user_id) > MAX_USER_ID_CHARS or not user_id.isprintable():
        raise FieldError(
            "user_id", "bad_user_id", f"must be at most {MAX_USER_ID_CHARS} printable characters"
        )
