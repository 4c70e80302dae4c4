"""The /api/wishlist routes. Thin: auth, repository (in the thread pool), image URLs, schema."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from wishlist_api import cursor
from wishlist_api.auth import Authenticator, AuthError
from wishlist_api.errors import ApiError, not_found
from wishlist_api.images import (
    ImageServiceError,
    ImageUrls,
    ImageView,
    UploaderForbidden,
    UploadMissing,
    UploadRejected,
)
from wishlist_api.repository import ItemRecord, WishlistRepository
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
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_bearer = HTTPBearer(auto_error=False, description="JWT whose `sub` is the user id.")

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


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    challenge = {"WWW-Authenticate": 'Bearer realm="wishlist"'}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthenticated", "bearer token required", headers=challenge)
    authenticator: Authenticator = request.app.state.authenticator
    try:
        return await authenticator.user_id(credentials.credentials)
    except AuthError as exc:
        raise ApiError(401, "unauthenticated", str(exc), headers=challenge) from None


User = Annotated[str, Depends(current_user)]


def _repo(request: Request) -> WishlistRepository:
    repo: WishlistRepository = request.app.state.repository
    return repo


def _images(request: Request) -> ImageUrls:
    images: ImageUrls = request.app.state.images
    return images


def _request_id(request: Request) -> str | None:
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else None


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


async def _one(request: Request, user: str, item: ItemRecord | None) -> ItemOut:
    if item is None:
        raise not_found()
    [image] = await _images(request).for_items([item], user, _request_id(request))
    return _out(item, image)


@router.get("", response_model=ItemPage, responses=_COMMON, summary="List the caller's items")
async def list_items(
    request: Request,
    user: User,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")] = 20,
    cursor_text: Annotated[
        str | None,
        Query(alias="cursor", max_length=cursor.MAX_CURSOR_CHARS, description="From nextCursor."),
    ] = None,
) -> ItemPage:
    """Newest first. Image URLs of the whole page come from one resolver call."""
    return await page_of(request, user, limit, cursor_text)


async def page_of(request: Request, user: str, limit: int, cursor_text: str | None) -> ItemPage:
    """One page of the user's items with image URLs; shared by the API and the gallery."""
    after = None
    if cursor_text:
        try:
            after = cursor.decode(cursor_text)
        except cursor.BadCursor as exc:
            raise ApiError(
                422,
                "validation_failed",
                "request is not valid",
                details=[{"field": "query.cursor", "message": str(exc)}],
            ) from None
    items, more = await run_in_threadpool(_repo(request).list_page, user, limit, after)
    images = await _images(request).for_items(items, user, _request_id(request))
    return ItemPage(
        items=[_out(i, v) for i, v in zip(items, images, strict=True)],
        next_cursor=cursor.encode(items[-1]) if more and items else None,
    )


@router.get("/{item_id}", response_model=ItemOut, responses=_ONE, summary="Get one item")
async def get_item(request: Request, user: User, item_id: uuid.UUID) -> ItemOut:
    return await _one(
        request, user, await run_in_threadpool(_repo(request).get, user, str(item_id))
    )


@router.post(
    "",
    response_model=ItemOut,
    status_code=201,
    responses={**_COMMON, **_BODY},
    summary="Create an item (add its image with the upload endpoints)",
)
async def create_item(
    request: Request, response: Response, user: User, body: CreateItem
) -> ItemOut:
    item = await run_in_threadpool(_repo(request).create, user, body.title)
    response.headers["Location"] = f"/api/wishlist/{item.id}"
    return await _one(request, user, item)


@router.patch(
    "/{item_id}", response_model=ItemOut, responses={**_ONE, **_BODY}, summary="Rename an item"
)
async def update_item(
    request: Request, user: User, item_id: uuid.UUID, body: UpdateItem
) -> ItemOut:
    repo = _repo(request)
    return await _one(
        request, user, await run_in_threadpool(repo.update_title, user, str(item_id), body.title)
    )


@router.delete(
    "/{item_id}", status_code=204, response_class=Response, responses=_ONE, summary="Delete"
)
async def delete_item(request: Request, user: User, item_id: uuid.UUID) -> Response:
    if not await run_in_threadpool(_repo(request).delete, user, str(item_id)):
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
    request: Request, user: User, item_id: uuid.UUID, body: UploadUrlRequest
) -> UploadUrlOut:
    if await run_in_threadpool(_repo(request).get, user, str(item_id)) is None:
        raise not_found()
    try:
        form = await _images(request).upload_form(user, body.content_type, body.content_length)
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
    request: Request, user: User, item_id: uuid.UUID, body: ConfirmImage
) -> ItemOut:
    # Whether the key is one issued to this user is image-resolver's rule: VerifyUpload
    # refuses any other key (INVALID_ARGUMENT, field "key") before it looks at S3.
    repo = _repo(request)
    if await run_in_threadpool(repo.get, user, str(item_id)) is None:
        raise not_found()
    try:
        await _images(request).verify_upload(user, body.key)
    except ImageServiceError as exc:
        raise _image_error(exc) from None
    return await _one(
        request, user, await run_in_threadpool(repo.set_image, user, str(item_id), body.key)
    )
