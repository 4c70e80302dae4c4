"""What a route needs, as FastAPI dependencies (the full-stack template's `api/deps.py`).

Routes declare `repo: Repo`, `images: Images`, ... instead of reading `request.app.state`,
so a test swaps any of them with `app.dependency_overrides[get_images] = ...`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wishlist_api.auth import Authenticator, AuthError
from wishlist_api.errors import ApiError
from wishlist_api.images import ImageUrls
from wishlist_api.repository import WishlistRepository
from wishlist_api.settings import ApiSettings
from wishlist_runtime import values

_bearer = HTTPBearer(auto_error=False, description="JWT whose `sub` is the user id.")


def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def get_repository(request: Request) -> WishlistRepository:
    repo: WishlistRepository = request.app.state.repository
    return repo


def get_images(request: Request) -> ImageUrls:
    images: ImageUrls = request.app.state.images
    return images


def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


def get_request_id(request: Request) -> str | None:
    """The caller's X-Request-Id, passed on to the resolver when it is a sane token (the
    contract's rule, which the resolver applies too); else None, never an error."""
    return values.request_id(request.headers.get("x-request-id"))


Settings = Annotated[ApiSettings, Depends(get_settings)]
Repo = Annotated[WishlistRepository, Depends(get_repository)]
Images = Annotated[ImageUrls, Depends(get_images)]
Auth = Annotated[Authenticator, Depends(get_authenticator)]
RequestId = Annotated[str | None, Depends(get_request_id)]


async def current_user(
    authenticator: Auth,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    challenge = {"WWW-Authenticate": 'Bearer realm="wishlist"'}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthenticated", "bearer token required", headers=challenge)
    try:
        return await authenticator.user_id(credentials.credentials)
    except AuthError as exc:
        raise ApiError(401, "unauthenticated", str(exc), headers=challenge) from None


User = Annotated[str, Depends(current_user)]
