"""Image URLs for a page of items: one BatchResolveImageUrls call, never one per item.

The resolver decides CDN vs S3 per viewer (rollout stickiness). If it is down or slow,
the page still renders: each image is `unavailable` with no URL. A stored ref is never
returned as a URL, whatever happens, so a legacy S3 URL cannot leak through.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

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


class ImageStatus(StrEnum):
    """Why `imageUrl` is what it is (documented in the OpenAPI schema)."""

    OK = "ok"  # imageUrl is set (CDN, or S3 for viewers outside the rollout)
    NONE = "none"  # the item has no image
    INVALID = "invalid"  # the stored image reference was refused by the resolver
    UNAVAILABLE = "unavailable"  # the resolver failed or timed out; retry later
    DISABLED = "disabled"  # image resolution is switched off (IMAGES_ENABLED=false)


@dataclass(frozen=True)
class ImageView:
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
        """Raises ResolverCallError."""
        ...

    async def verify_upload(self, user_id: str, key: str) -> UploadedImage:
        """Raises ResolverCallError (NOT_FOUND: nothing uploaded under the key)."""
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
            results = await self._client.batch_resolve(
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
        return await self._client.create_upload_url(user_id, content_type, content_length)

    async def verify_upload(self, user_id: str, key: str) -> UploadedImage:
        return await self._client.verify_upload(user_id, key)

    async def close(self) -> None:
        await self._client.close()


class DisabledImageUrls:
    """IMAGES_ENABLED=false: no RPCs at all; items with an image say `disabled`."""

    async def for_items(
        self, items: Sequence[ItemRecord], user_id: str, request_id: str | None = None
    ) -> list[ImageView]:
        return [DISABLED if item.image_ref else NO_IMAGE for item in items]

    async def upload_form(self, user_id: str, content_type: str, content_length: int) -> UploadForm:
        raise _uploads_disabled()

    async def verify_upload(self, user_id: str, key: str) -> UploadedImage:
        raise _uploads_disabled()


def _uploads_disabled() -> ResolverCallError:
    import grpc

    return ResolverCallError(grpc.StatusCode.UNAVAILABLE, "image uploads are disabled")


def _fill(views: list[ImageView], slots: list[int], view: ImageView) -> list[ImageView]:
    for slot in slots:
        views[slot] = view
    return views
