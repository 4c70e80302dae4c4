"""Image URLs for a page of items: one BatchResolveImageUrls call, never one per item.

The resolver decides CDN vs S3 per viewer (rollout stickiness). If it is down or slow,
the page still renders: each image is `unavailable` with no URL. A stored ref is never
returned as a URL, whatever happens, so a legacy S3 URL cannot leak through.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple, Protocol

from wishlist_api.repository import ItemRecord
from wishlist_images_client import (
    AsyncImageResolverClient,
    ImageRef,
    ResolveError,
    ResolverCallError,
    UploadedImage,
    UploadForm,
)

log = logging.getLogger(__name__)


class ImageServiceError(Exception):
    """What the image adapter raises: the API's own errors, never gRPC's."""


class ImagesUnavailable(ImageServiceError):
    """The image service failed, timed out or is switched off: retry later (503)."""


class UploadRejected(ImageServiceError):
    """The image service refused an upload request; `field` is the API's name for the
    input at fault (e.g. "body.contentType"), `message` the service's reason."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class UploaderForbidden(ImageServiceError):
    """This user id cannot own uploads (the image service's user-id rule)."""


class UploadMissing(ImageServiceError):
    """Nothing has been uploaded under the key yet."""


# The image service's request fields, by their API names.
_API_FIELDS = {
    "content_type": "body.contentType",
    "content_length": "body.contentLength",
    "key": "body.key",
}


class ImageStatus(StrEnum):
    """Why `imageUrl` is what it is (documented in the OpenAPI schema)."""

    OK = "ok"  # imageUrl is set (CDN, or S3 for viewers outside the rollout)
    NONE = "none"  # the item has no image
    INVALID = "invalid"  # the stored image reference was refused by the resolver
    UNAVAILABLE = "unavailable"  # the resolver failed or timed out; retry later
    DISABLED = "disabled"  # image resolution is switched off (IMAGES_ENABLED=false)


class ImageView(NamedTuple):
    """One item's image on a page (a NamedTuple: a page makes up to 100 of them, and a
    tuple is several times cheaper to create than a frozen dataclass)."""

    url: str | None
    status: ImageStatus
    # CDN images: the same image from S3, for a browser to use when the CDN fails.
    fallback_url: str | None = None


NO_IMAGE = ImageView(None, ImageStatus.NONE)
UNAVAILABLE = ImageView(None, ImageStatus.UNAVAILABLE)
INVALID = ImageView(None, ImageStatus.INVALID)
DISABLED = ImageView(None, ImageStatus.DISABLED)


def image_ref(item: ItemRecord) -> ImageRef | None:
    ref = item.image_ref
    if not ref:
        return None
    return ImageRef(ref, str(item.image_version) if item.image_version else "")


class ImageUrls(Protocol):
    async def for_items(
        self, items: Sequence[ItemRecord], user_id: str, request_id: str | None = None
    ) -> list[ImageView]: ...

    async def upload_form(self, user_id: str, content_type: str, content_length: int) -> UploadForm:
        """Raises UploadRejected, UploaderForbidden or ImagesUnavailable."""
        ...

    async def verify_upload(self, user_id: str, key: str) -> UploadedImage:
        """Raises UploadMissing, UploadRejected, UploaderForbidden or ImagesUnavailable."""
        ...


class ResolverImageUrls:
    """Backed by a running image-resolver; create inside the event loop."""

    def __init__(self, client: AsyncImageResolverClient, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    async def for_items(
        self, items: Sequence[ItemRecord], user_id: str, request_id: str | None = None
    ) -> list[ImageView]:
        views = [NO_IMAGE] * len(items)
        slots: list[int] = []
        refs: list[ImageRef] = []
        for i, item in enumerate(items):
            ref = image_ref(item)
            if ref is not None:
                slots.append(i)
                refs.append(ref)
        if not refs:
            return views
        try:
            results = await self._client.batch_resolve_urls(
                refs,
                user_id=user_id,
                timeout=self._timeout,
                request_id=request_id,
                include_fallback=True,
            )
        except ResolverCallError as exc:
            log.warning(
                "image resolver call failed; returning items without image URLs",
                extra={"grpc_code": exc.code.name, "images": len(refs), "request_id": request_id},
            )
            return _fill(views, slots, UNAVAILABLE)
        except Exception:  # a client bug must not turn a page into a 500
            log.exception("image resolution failed", extra={"request_id": request_id})
            return _fill(views, slots, UNAVAILABLE)
        if len(results) != len(refs):
            log.error("resolver returned %d results for %d refs", len(results), len(refs))
            return _fill(views, slots, UNAVAILABLE)
        for slot, result in zip(slots, results, strict=True):
            if isinstance(result, ResolveError):
                # The stored ref may be a foreign or signed URL: log the item, not the ref.
                log.info(
                    "stored image reference refused",
                    extra={"item_id": items[slot].id, "reason": result.message},
                )
                views[slot] = INVALID
            else:
                views[slot] = ImageView(result.url, ImageStatus.OK, result.fallback_url or None)
        return views

    async def upload_form(self, user_id: str, content_type: str, content_length: int) -> UploadForm:
        try:
            return await self._client.create_upload_url(user_id, content_type, content_length)
        except ResolverCallError as exc:
            raise _upload_error(exc) from None

    async def verify_upload(self, user_id: str, key: str) -> UploadedImage:
        try:
            return await self._client.verify_upload(user_id, key)
        except ResolverCallError as exc:
            raise _upload_error(exc) from None


class DisabledImageUrls:
    """IMAGES_ENABLED=false: no RPCs at all; items with an image say `disabled`."""

    async def for_items(
        self, items: Sequence[ItemRecord], user_id: str, request_id: str | None = None
    ) -> list[ImageView]:
        return [DISABLED if item.image_ref else NO_IMAGE for item in items]

    async def upload_form(self, user_id: str, content_type: str, content_length: int) -> UploadForm:
        raise ImagesUnavailable("image uploads are disabled")

    async def verify_upload(self, user_id: str, key: str) -> UploadedImage:
        raise ImagesUnavailable("image uploads are disabled")


def _upload_error(exc: ResolverCallError) -> ImageServiceError:
    """The one place the image service's gRPC statuses become the API's errors."""
    import grpc

    if exc.code == grpc.StatusCode.INVALID_ARGUMENT:
        if exc.field == "user_id":
            return UploaderForbidden(exc.message)
        return UploadRejected(_API_FIELDS.get(exc.field, "body"), exc.message)
    if exc.code == grpc.StatusCode.NOT_FOUND:
        return UploadMissing(exc.message)
    log.warning("image service call failed", extra={"grpc_code": exc.code.name})
    return ImagesUnavailable(exc.message)


def _fill(views: list[ImageView], slots: list[int], view: ImageView) -> list[ImageView]:
    for slot in slots:
        views[slot] = view
    return views
