"""Plain result types, so callers never handle protobuf messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import NamedTuple

from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2, status_pb2

from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import rollout_service_pb2 as rpb


class Origin(IntEnum):
    UNSPECIFIED = 0
    CDN = 1
    S3 = 2


@dataclass(frozen=True)
class ImageRef:
    """An S3 key or stored legacy URL, with an optional cache-busting version."""

    ref: str
    version: str = ""


@dataclass(frozen=True)
class ResolvedImage:
    url: str
    origin: Origin
    expires_at: datetime | None = None
    # Asked for with include_fallback: the same image from S3, for when the CDN fails.
    fallback_url: str = ""
    fallback_expires_at: datetime | None = None


class ImageUrl(NamedTuple):
    """Only the URLs of one resolved image (`batch_resolve_urls`): what a page renders,
    decoded in one pass, without the origin and timestamps ResolvedImage converts."""

    url: str
    fallback_url: str = ""


@dataclass(frozen=True)
class UploadedImage:
    """An uploaded object that matches the upload policy (VerifyUpload)."""

    key: str
    content_type: str
    size_bytes: int
    etag: str


@dataclass(frozen=True)
class UploadPolicy:
    """The rules the resolver enforces (GetUploadPolicy): learn them, don't copy them.
    With uploads off on the resolver, `content_types` is empty and `max_bytes` 0."""

    content_types: tuple[str, ...]
    max_bytes: int
    key_prefix: str
    max_upload_user_id_chars: int
    max_user_id_chars: int
    max_batch: int


@dataclass(frozen=True)
class ResolveError:
    """One refused ref of a batch: `field` names it (e.g. "images[3].ref")."""

    code: int
    message: str
    field: str = ""


@dataclass(frozen=True)
class UploadForm:
    url: str
    fields: dict[str, str]
    key: str
    expires_at: datetime | None
    max_bytes: int


@dataclass(frozen=True)
class Invalidation:
    id: str
    status: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class InvalidationsCreated:
    """What a failed invalidate() had already started: batch i covers the i-th 1000 of the
    de-duplicated paths (`paths` of each item is empty, to keep error trailers small)."""

    invalidations: tuple[Invalidation, ...]
    paths_created: int


@dataclass(frozen=True)
class RolloutInfo:
    percent: int
    cdn_enabled: bool
    revision: int
    updated_by: str
    updated_at: datetime | None
    # Filled by get_rollout: where the flag lives and whether it is readable now.
    store: str = ""
    store_healthy: bool = True
    store_error: str = ""


def as_ref(item: ImageRef | str) -> dict[str, str]:
    """The ImageRef message's fields: request constructors build a message from a mapping
    about twice as fast as they copy one built first (it matters for a batch's refs)."""
    if isinstance(item, str):
        return {"ref": item}
    return {"ref": item.ref, "version": item.version}


def _time(msg: Timestamp, present: bool) -> datetime | None:
    return msg.ToDatetime(tzinfo=UTC) if present else None


_ORIGINS = {int(o): o for o in Origin}


def resolved_from(msg: pb.ResolvedImageUrl) -> ResolvedImage:
    # A newer server may send an Origin this client does not know: still a usable URL.
    return ResolvedImage(
        msg.url,
        _ORIGINS.get(msg.origin, Origin.UNSPECIFIED),
        _time(msg.expires_at, msg.HasField("expires_at")),
        msg.fallback_url,
        _time(msg.fallback_expires_at, msg.HasField("fallback_expires_at")),
    )


def uploaded_from(msg: pb.VerifyUploadResponse) -> UploadedImage:
    return UploadedImage(msg.key, msg.content_type, msg.size_bytes, msg.etag)


def policy_from(msg: pb.GetUploadPolicyResponse) -> UploadPolicy:
    return UploadPolicy(
        tuple(msg.content_types),
        msg.max_bytes,
        msg.key_prefix,
        msg.max_upload_user_id_chars,
        msg.max_user_id_chars,
        msg.max_batch,
    )


def error_from(status: status_pb2.Status) -> ResolveError:
    field = ""
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad) and bad.field_violations:
            field = bad.field_violations[0].field
    return ResolveError(status.code, status.message, field)


def batch_from(msg: pb.BatchResolveImageUrlsResponse) -> list[ResolvedImage | ResolveError]:
    return [
        resolved_from(r.image) if r.HasField("image") else error_from(r.error) for r in msg.results
    ]


def urls_from(msg: pb.BatchResolveImageUrlsResponse) -> list[ImageUrl | ResolveError]:
    """batch_from's slots with only the URLs: no Origin lookup, no timestamp conversion."""
    out: list[ImageUrl | ResolveError] = []
    for result in msg.results:
        if result.HasField("image"):
            image = result.image
            out.append(ImageUrl(image.url, image.fallback_url))
        else:
            out.append(error_from(result.error))
    return out


def upload_from(msg: pb.CreateUploadUrlResponse) -> UploadForm:
    return UploadForm(
        msg.url,
        dict(msg.fields),
        msg.key,
        _time(msg.expires_at, msg.HasField("expires_at")),
        msg.max_bytes,
    )


def invalidations_from(
    msg: pb.InvalidateImagesResponse | pb.InvalidationsCreated,
) -> tuple[Invalidation, ...]:
    return tuple(Invalidation(i.id, i.status, tuple(i.paths)) for i in msg.invalidations)


def rollout_from(msg: rpb.Rollout) -> RolloutInfo:
    return RolloutInfo(
        msg.percent,
        msg.cdn_enabled,
        msg.revision,
        msg.updated_by,
        _time(msg.updated_at, msg.HasField("updated_at")),
    )
