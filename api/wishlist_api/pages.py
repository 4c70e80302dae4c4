"""The wishlist gallery: a server-rendered page of the signed-in user's items and images.

Same data as `GET /api/wishlist` (one resolver call per page). Signed in by the API's own
bearer JWT, kept in an HttpOnly cookie by `POST /session`; only these GET pages read the
cookie, so the JSON API stays header-only and needs no CSRF defence. The page's CSP lets
images load only from the origins the resolver handed out (the CDN and the S3 fallback).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import jwt
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security.utils import get_authorization_scheme_param
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from wishlist_api import cursor
from wishlist_api.auth import AuthError
from wishlist_api.deps import Auth, Images, Repo, RequestId, Settings
from wishlist_api.errors import ApiError
from wishlist_api.repository import Cursor, ItemRecord, WishlistRepository
from wishlist_api.routes import items_with_images, parse_cursor
from wishlist_api.schemas import ItemOut

SESSION_COOKIE = "wishlist_session"
MAX_SESSION_SECONDS = 12 * 3600
PAGE_SIZE = 12
_HERE = Path(__file__).parent
templates = Jinja2Templates(directory=_HERE / "templates")  # autoescapes .html
static_files = StaticFiles(directory=_HERE / "static")
router = APIRouter(include_in_schema=False)


async def page_user(request: Request, authenticator: Auth) -> str | None:
    """The user of a page request: bearer header first, then the session cookie."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer":
        token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    try:
        return await authenticator.user_id(token)
    except AuthError:
        return None


PageUser = Annotated[str | None, Depends(page_user)]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(items: list[ItemOut]) -> str:
    """img-src: only the origins of this page's image and fallback URLs (CDN, S3);
    connect-src: the CDN, which the page asks why an image failed."""
    images = {"'self'": None}
    cdn = {"'self'": None}
    for item in items:
        for url in (item.image_url, item.image_fallback_url):
            if url:
                images[_origin(url)] = None
        if item.image_url and item.image_fallback_url:
            cdn[_origin(item.image_url)] = None
    return (
        f"default-src 'none'; img-src {' '.join(images)}; connect-src {' '.join(cdn)}; "
        "script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'self'"
    )


def _html_headers(csp: str) -> dict[str, str]:
    """Every page: no framing (CSP frame-ancestors, and X-Frame-Options for browsers
    without CSP level 2), no caching of a signed-in page, no referrer, no sniffing."""
    return {
        "Content-Security-Policy": f"{csp}; frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


@router.get("/", response_class=RedirectResponse)
async def home() -> RedirectResponse:
    return RedirectResponse("/gallery", status_code=303)


@dataclass(frozen=True)
class Card:
    item: ItemOut
    legacy: bool  # the image comes from a stored S3 URL, converted on the fly


@dataclass(frozen=True)
class Position:
    first: int
    last: int
    total: int
    previous: str | None  # the Previous link's `before` cursor
    next: str | None  # the Next link's `cursor`

    @property
    def page(self) -> int:
        return (self.first - 1) // PAGE_SIZE + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


async def _position(repo: WishlistRepository, user: str, records: list[ItemRecord]) -> Position:
    total = await repo.run(repo.count, user)
    if not records:
        return Position(0, 0, total, None, None)
    top = records[0]
    first = await repo.run(repo.count, user, Cursor(top.created_at, top.id)) + 1
    last = first + len(records) - 1
    return Position(
        first,
        last,
        total,
        cursor.encode(records[0]) if first > 1 else None,
        cursor.encode(records[-1]) if last < total else None,
    )


@router.get("/gallery", response_class=HTMLResponse)
async def gallery(
    request: Request,
    *,
    user: PageUser,
    repo: Repo,
    images: Images,
    request_id: RequestId,
    cursor_text: Annotated[
        str | None, Query(alias="cursor", max_length=cursor.MAX_CURSOR_CHARS)
    ] = None,
    before_text: Annotated[
        str | None, Query(alias="before", max_length=cursor.MAX_CURSOR_CHARS)
    ] = None,
) -> HTMLResponse:
    if user is None:
        signed_out: HTMLResponse = templates.TemplateResponse(
            request,
            "signed_out.html",
            status_code=401,
            headers=_html_headers(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'"
            ),
        )
        return signed_out
    records, items, _ = await items_with_images(
        repo=repo,
        images=images,
        request_id=request_id,
        user=user,
        limit=PAGE_SIZE,
        after=parse_cursor(cursor_text),
        before=parse_cursor(before_text, "query.before"),
    )
    cards = [
        Card(item, record.image_key is None and record.legacy_image_url is not None)
        for record, item in zip(records, items, strict=True)
    ]
    shown: HTMLResponse = templates.TemplateResponse(
        request,
        "gallery.html",
        {"user": user, "cards": cards, "position": await _position(repo, user, records)},
        headers=_html_headers(content_security_policy(items)),
    )
    return shown


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> RedirectResponse:
    """Browsers ask for /favicon.ico whatever the page links; the icon is a static SVG."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.post("/session", status_code=204, response_class=Response)
async def sign_in(request: Request, authenticator: Auth, settings: Settings) -> Response:
    """Exchange the bearer JWT (Authorization header) for an HttpOnly session cookie."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", "bearer token required")
    try:
        await authenticator.user_id(token)
    except AuthError as exc:
        raise ApiError(401, "unauthenticated", str(exc)) from None
    response = Response(status_code=204)
    set_session_cookie(response, token, secure=settings.session_cookie_secure)
    return response


@router.post("/session/sign-out", response_class=RedirectResponse)
async def sign_out(settings: Settings) -> RedirectResponse:
    response = RedirectResponse("/gallery", status_code=303)
    # The deleting Set-Cookie carries the same attributes as the one that set it.
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    """The cookie lives no longer than the token (and at most 12 h)."""
    exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    max_age = MAX_SESSION_SECONDS
    if isinstance(exp, int):
        max_age = max(0, min(max_age, exp - int(time.time())))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
