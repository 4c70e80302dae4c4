"""The resolver's one decision: for this ref and this viewer, which URL.

Joins the URL rules, the live rollout and the S3 fallback signer. No wire types here:
the gRPC adapters translate; this module raises RefError for a bad ref.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import IntEnum
from functools import partial
from typing import NamedTuple, Protocol

from image_resolver import metrics
from image_resolver.rollout.decision import uses_cdn
from image_resolver.rollout.live import LiveRollout
from image_resolver.urls import ParsedRef, RefError, UrlRules
from wishlist_runtime.values import viewer_id


class Origin(IntEnum):
    """Same numbers as wishlist.images.v1.Origin."""

    CDN = 1
    S3 = 2


# Module-level names for the members: `Origin.CDN` is an enum attribute lookup (~90 ns in
# Python 3.11), paid per key in a batch.
_CDN, _S3 = Origin.CDN, Origin.S3


class Resolved(NamedTuple):
    url: str
    origin: Origin
    expires_at: datetime | None = None
    # CDN results asked for a fallback: the same image from S3, for when the CDN fails.
    fallback_url: str = ""
    fallback_expires_at: datetime | None = None


class RefLike(Protocol):
    """A ref and its version, as the wire's ImageRef carries them (read, not copied)."""

    @property
    def ref(self) -> str: ...

    @property
    def version(self) -> str: ...


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

    def resolve(self, image: RefLike, user_id: str = "", with_fallback: bool = False) -> Resolved:
        """One ref; raises RefError when the ref is refused."""
        (result,) = self.resolve_many((image,), user_id, with_fallback)
        if isinstance(result, RefError):
            raise result
        return result

    def resolve_many(
        self, images: Iterable[RefLike], user_id: str = "", with_fallback: bool = False
    ) -> list[Resolved | RefError]:
        """Many refs for one viewer; a bad ref fails only its own slot.

        Per-key cost is what a page pays 50 times and a batch 1000 times, so the choices
        that hold for the whole call (origin rule, fallback or not) are made once, here.
        """
        viewer_id(user_id)
        on_cdn = self._cdn_rule(user_id)
        parse, to_s3 = self.rules.parse, self._s3
        to_cdn = self._cdn_with_fallback if with_fallback else self._cdn
        out: list[Resolved | RefError] = []
        cdn_count = s3_count = 0
        refused: Counter[str] = Counter()  # by reason: labels() costs ~2 us, so once each
        for image in images:
            try:
                parsed = parse(image.ref, image.version)
            except RefError as exc:
                refused[exc.reason] += 1
                out.append(exc)
                continue
            if on_cdn(parsed.key):
                cdn_count += 1
                out.append(to_cdn(parsed))
            else:
                s3_count += 1
                out.append(to_s3(parsed))
        if cdn_count:
            metrics.CDN_RESOLUTIONS.inc(cdn_count)
        if s3_count:
            metrics.S3_RESOLUTIONS.inc(s3_count)
        for reason, count in refused.items():
            metrics.INVALID_REFS.labels(reason).inc(count)
        return out

    def _cdn_rule(self, user_id: str) -> Callable[[str], bool]:
        """The one CDN/S3 decision, as a test of an image key. A viewer stays on one origin
        (hashed once per call); without one, each key is hashed; 0% and 100% hash nothing."""
        state = self.rollout.state
        if not self.cdn_available or state.nobody_on_cdn:
            return _never
        if state.everyone_on_cdn:
            return _always
        if user_id:
            return _always if uses_cdn(state, self.group_id, user_id) else _never
        return partial(uses_cdn, state, self.group_id)

    def _cdn(self, parsed: ParsedRef) -> Resolved:
        return Resolved(self.rules.cdn_url_of(parsed), _CDN)

    def _cdn_with_fallback(self, parsed: ParsedRef) -> Resolved:
        s3_url, expires_at = self._s3_url(parsed)
        return Resolved(self.rules.cdn_url_of(parsed), _CDN, None, s3_url, expires_at)

    def _s3(self, parsed: ParsedRef) -> Resolved:
        s3_url, expires_at = self._s3_url(parsed)
        return Resolved(s3_url, _S3, expires_at)

    def _s3_url(self, parsed: ParsedRef) -> tuple[str, datetime | None]:
        """Presigned once direct reads are blocked (a signer is set), else the public URL."""
        if self.signer is None:
            return self.rules.s3_url_of(parsed), None
        signed = self.signer.presign(parsed.key)
        return signed.url, signed.expires_at


def _always(key: str) -> bool:
    return True


def _never(key: str) -> bool:
    return False
