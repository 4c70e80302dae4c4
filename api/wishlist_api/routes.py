"""The /api/wishlist routes. Thin: auth, repository (in the thread pool), image URLs, schema."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from wishlist_api import cursor
from wishlist_api.deps import Images, Repo, RequestId, User
from wishlist_api.errors import ApiError, not_found
from wishlist_api.images import (
    ImageServiceError,
    ImageUrls,
    ImageView,
    UploaderForbidden,
    UploadMissing,
    UploadRejected,
)
from wishlist_api.repository import Cursor, ItemRecord, WishlistRepository
from wishlist_api.schemas import (
    ConfirmImage,
    CreateItem,
    ErrorResponse,
    ItemOut,
    ItemPage,
    UpdateItem,
    UploadUrlOut,
    UploadUrlRequest,
)

MAX_PAGE = 100

_ERR: dict[str, Any] = {"model": ErrorResponse}
_COMMON: dict[int | str, dict[str, Any]] = {
    401: {**_ERR, "description": "Missing, expired or invalid bearer token."},
    422: {**_ERR, "description": "Input breaks the schema; `details` names the fields."},
}
_ONE: dict[int | str, dict[str, Any]] = {
    **_COMMON,
    404: {**_ERR, "description": "No such item for this user (other users' items included)."},
}
_BODY: dict[int | str, dict[str, Any]] = {
    400: {**_ERR, "description": "The body is not JSON."},
    413: {**_ERR, "description": "The body is over the limit (16 KiB by default); not read."},
}

router = APIRouter(prefix="/api/wishlist", tags=["wishlist"])


def _out(item: ItemRecord, image: ImageView) -> ItemOut:
    return ItemOut(
        id=item.id,
        title=item.title,
        user_id=item.user_id,
        image_url=image.url,
        image_fallback_url=image.fallback_url,
        image_status=image.status,
        image_version=item.image_version,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


async def _one(
    images: ImageUrls, request_id: str | None, user: str, item: ItemRecord | None
) -> ItemOut:
    if item is None:
        raise not_found()
    [image] = await images.for_items([item], user, request_id)
    return _out(item, image)


@router.get("", response_model=ItemPage, responses=_COMMON, summary="List the caller's items")
async def list_items(
    *,
    repo: Repo,
    images: Images,
    request_id: RequestId,
    user: User,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")] = 20,
    cursor_text: Annotated[
        str | None,
        Query(alias="cursor", max_length=cursor.MAX_CURSOR_CHARS, description="From nextCursor."),
    ] = None,
) -> ItemPage:
    """Newest first. Image URLs of the whole page come from one resolver call."""
    return await page_of(
        repo=repo,
        images=images,
        request_id=request_id,
        user=user,
        limit=limit,
        cursor_text=cursor_text,
    )


def parse_cursor(text: str | None, field: str = "query.cursor") -> Cursor | None:
    """An API cursor, or 422 naming the query field."""
    if not text:
        return None
    try:
        return cursor.decode(text)
    except cursor.BadCursor as exc:
        raise ApiError(
            422,
            "validation_failed",
            "request is not valid",
            details=[{"field": field, "message": str(exc)}],
        ) from None


async def items_with_images(
    *,
    repo: WishlistRepository,
    images: ImageUrls,
    request_id: str | None,
    user: str,
    limit: int,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> tuple[list[ItemRecord], list[ItemOut], bool]:
    """One page of the user's records, the same items with image URLs (one resolver call),
    and whether more follow; shared by the API and the gallery."""
    records, more = await repo.run(repo.list_page, user, limit, after, before)
    views = await images.for_items(records, user, request_id)
    return records, [_out(i, v) for i, v in zip(records, views, strict=True)], more


async def page_of(
    *,
    repo: WishlistRepository,
    images: ImageUrls,
    request_id: str | None,
    user: str,
    limit: int,
    cursor_text: str | None,
) -> ItemPage:
    """One page of the user's items with image URLs, and the cursor of the next."""
    records, items, more = await items_with_images(
        repo=repo,
        images=images,
        request_id=request_id,
        user=user,
        limit=limit,
        after=parse_cursor(cursor_text),
    )
    return ItemPage(
        items=items, next_cursor=cursor.encode(records[-1]) if more and records else None
    )


@router.get("/{item_id}", response_model=ItemOut, responses=_ONE, summary="Get one item")
async def get_item(
    repo: Repo, images: Images, request_id: RequestId, user: User, item_id: uuid.UUID
) -> ItemOut:
    return await _one(images, request_id, user, await repo.run(repo.get, user, str(item_id)))


@router.post(
    "",
    response_model=ItemOut,
    status_code=201,
    responses={**_COMMON, **_BODY},
    summary="Create an item (add its image with the upload endpoints)",
)
async def create_item(
    *,
    repo: Repo,
    images: Images,
    request_id: RequestId,
    response: Response,
    user: User,
    body: CreateItem,
) -> ItemOut:
    item = await repo.run(repo.create, user, body.title)
    response.headers["Location"] = f"/api/wishlist/{item.id}"
    return await _one(images, request_id, user, item)


@router.patch(
    "/{item_id}", response_model=ItemOut, responses={**_ONE, **_BODY}, summary="Rename an item"
)
async def update_item(
    *,
    repo: Repo,
    images: Images,
    request_id: RequestId,
    user: User,
    item_id: uuid.UUID,
    body: UpdateItem,
) -> ItemOut:
    item = await repo.run(repo.update_title, user, str(item_id), body.title)
    return await _one(images, request_id, user, item)


@router.delete(
    "/{item_id}", status_code=204, response_class=Response, responses=_ONE, summary="Delete"
)
async def delete_item(repo: Repo, user: User, item_id: uuid.UUID) -> Response:
    if not await repo.run(repo.delete, user, str(item_id)):
        raise not_found()
    return Response(status_code=204)


@router.post(
    "/{item_id}/image/upload-url",
    response_model=UploadUrlOut,
    responses={
        **_ONE,
        **_BODY,
        403: {**_ERR, "description": "This user id cannot own uploads."},
        503: {**_ERR, "description": "The image service is unavailable; retry."},
    },
    summary="Presigned S3 POST form for the item's new image (uploads never use the CDN)",
)
async def create_upload_url(
    repo: Repo, images: Images, user: User, item_id: uuid.UUID, body: UploadUrlRequest
) -> UploadUrlOut:
    if await repo.run(repo.get, user, str(item_id)) is None:
        raise not_found()
    try:
        form = await images.upload_form(user, body.content_type, body.content_length)
    except ImageServiceError as exc:
        raise _image_error(exc) from None
    return UploadUrlOut(
        url=form.url,
        fields=form.fields,
        key=form.key,
        expires_at=form.expires_at,
        max_bytes=form.max_bytes,
    )


def _image_error(exc: ImageServiceError) -> ApiError:
    """The image adapter's errors as HTTP errors (no gRPC in sight)."""
    if isinstance(exc, UploadRejected):
        return ApiError(
            422,
            "validation_failed",
            "request is not valid",
            details=[{"field": exc.field, "message": exc.message}],
        )
    if isinstance(exc, UploaderForbidden):
        return ApiError(403, "forbidden", "this account cannot upload images")
    if isinstance(exc, UploadMissing):
        return ApiError(
            409, "image_not_uploaded", "no image has been uploaded under this key; upload it first"
        )
    return ApiError(503, "resolver_unavailable", "image service unavailable; retry later")


@router.post(
    "/{item_id}/image",
    response_model=ItemOut,
    responses={
        **_ONE,
        **_BODY,
        403: {**_ERR, "description": "This user id cannot own uploads."},
        409: {**_ERR, "description": "Nothing has been uploaded under this key yet."},
        503: {**_ERR, "description": "The image service is unavailable; retry."},
    },
    summary="Attach an uploaded image; bumps imageVersion so the new URL bypasses caches",
)
async def confirm_image(
    *,
    repo: Repo,
    images: Images,
    request_id: RequestId,
    user: User,
    item_id: uuid.UUID,
    body: ConfirmImage,
) -> ItemOut:
    # Whether the key is one issued to this user is image-resolver's rule: VerifyUpload
    # refuses any other key (INVALID_ARGUMENT, field "key") before it looks at S3.
    if await repo.run(repo.get, user, str(item_id)) is None:
        raise not_found()
    try:
        await images.verify_upload(user, body.key)
    except ImageServiceError as exc:
        raise _image_error(exc) from None
    item = await repo.run(repo.set_image, user, str(item_id), body.key)
    return await _one(images, request_id, user, item)
