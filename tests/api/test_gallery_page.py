"""The gallery page over HTTP: sign-in by cookie, what it renders, its CSP and headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.api.conftest import bearer
from tests.conftest import BUCKET, CDN
from tests.support.background_api import BackgroundApi
from wishlist_api.pages import PAGE_SIZE, SESSION_COOKIE
from wishlist_api.repository import WishlistRepository
from wishlist_dev.demo_data import PREFIX, tiny_png
from wishlist_dev.localaws import LocalAws


@contextmanager
def _signed_in(api: BackgroundApi, user: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=10) as client:
        resp = client.post("/session", headers=bearer(user))
        assert resp.status_code == 204
        cookie = resp.headers["set-cookie"]
        assert f"{SESSION_COOKIE}=" in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
        # The cookie is Secure; httpx would not send it over http://, so pass it on by hand.
        client.cookies.set(SESSION_COOKIE, resp.cookies[SESSION_COOKIE])
        yield client


def test_signed_out_gallery_is_401_html_without_items(api: BackgroundApi) -> None:
    resp = httpx.get(f"{api.url}/gallery")
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("text/html")
    assert "Sign in" in resp.text
    assert "default-src 'none'" in resp.headers["content-security-policy"]


def test_a_bad_token_does_not_sign_in(api: BackgroundApi) -> None:
    resp = httpx.post(f"{api.url}/session", headers={"Authorization": "Bearer not-a-jwt"})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "unauthenticated"
    assert "set-cookie" not in resp.headers


def test_gallery_shows_titles_images_fallbacks_and_a_tight_csp(
    api: BackgroundApi, repo: WishlistRepository, local_aws: LocalAws, user: str
) -> None:
    key = f"{PREFIX}{user}/gallery01.png"
    local_aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=tiny_png())
    with_image = repo.create(user, "Castle <MOC> & tower")
    repo.set_image(user, with_image.id, key)
    repo.create(user, "No photo yet")
    with _signed_in(api, user) as client:
        resp = client.get("/gallery")
    assert resp.status_code == 200
    html = resp.text
    assert "Castle &lt;MOC&gt; &amp; tower" in html  # escaped, never raw markup
    assert "No photo yet" in html
    assert f'src="https://{CDN}/{key}?v=1"' in html
    fallback = re.search(r'data-fallback="([^"]+)"', html)
    assert fallback and fallback.group(1).startswith(f"{local_aws.endpoint}/{BUCKET}/{key}?")
    csp = resp.headers["content-security-policy"]
    img_src = re.search(r"img-src ([^;]+);", csp)
    assert img_src and img_src.group(1).split() == ["'self'", f"https://{CDN}", local_aws.endpoint]
    assert f"connect-src 'self' https://{CDN};" in csp
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert resp.headers["cache-control"] == "no-store"


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_gallery_pages_both_ways_with_its_position(
    api: BackgroundApi, repo: WishlistRepository, user: str
) -> None:
    total = 2 * PAGE_SIZE + 3
    for n in range(total):
        repo.create(user, f"item {n:02d}")
    with _signed_in(api, user) as client:
        pages = [client.get("/gallery").text]
        while (after := _link(pages[-1], "next")) is not None:
            pages.append(client.get(after).text)
        assert len(pages) == 3
        titles = re.findall(r"<figcaption>(item \d\d)</figcaption>", "".join(pages))
        assert titles == [f"item {n:02d}" for n in reversed(range(total))]
        assert "Items 1&ndash;12 of 27 &middot; page 1 of 3" in pages[0]
        assert "Items 25&ndash;27 of 27 &middot; page 3 of 3" in pages[2]
        assert _link(pages[0], "prev") is None and _link(pages[2], "next") is None
        # Back from the last page: the same pages, in the same order, with their positions.
        back = [pages[2]]
        while (before := _link(back[-1], "prev")) is not None:
            back.append(client.get(before).text)
        assert len(back) == 3
        for there, again in zip(pages, reversed(back), strict=True):
            assert re.findall(r"<figcaption>(.*?)</figcaption>", there) == re.findall(
                r"<figcaption>(.*?)</figcaption>", again
            )
        assert "Items 13&ndash;24 of 27 &middot; page 2 of 3" in back[1]
        bad = client.get("/gallery", params={"before": "garbage"})
        assert bad.status_code == 422


def test_no_photo_and_a_broken_link_look_different(
    api: BackgroundApi, repo: WishlistRepository, user: str
) -> None:
    repo.create(user, "Town Hall")
    repo.create(user, "Monorail", legacy_image_url="https://other-bucket.s3.amazonaws.com/x.png")
    with _signed_in(api, user) as client:
        html = client.get("/gallery").text
    assert 'src="/static/no-photo.svg" alt="No photo yet"' in html
    assert 'src="/static/placeholder.svg" alt="Image not found"' in html


def test_a_legacy_row_carries_a_badge_not_a_technical_title(
    api: BackgroundApi, repo: WishlistRepository, user: str
) -> None:
    key = f"{PREFIX}{user}/legacy.png"
    repo.create(
        user, "Harbour Tugboat", legacy_image_url=f"https://{BUCKET}.s3.amazonaws.com/{key}"
    )
    new = repo.create(user, "Moon Rocket")
    repo.set_image(user, new.id, f"{PREFIX}{user}/new.png")
    with _signed_in(api, user) as client:
        html = client.get("/gallery").text
    cards = re.findall(r"<figure.*?</figure>", html, flags=re.S)
    assert len(cards) == 2
    rocket, tugboat = cards  # newest first
    assert "legacy S3 URL" in tugboat and "legacy S3 URL" not in rocket
    assert f"https://{CDN}/{key}" in tugboat and "amazonaws" not in tugboat


def test_the_favicon_is_there(api: BackgroundApi) -> None:
    resp = httpx.get(f"{api.url}/favicon.ico", follow_redirects=True)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/svg")


@pytest.mark.parametrize("cursor", ["garbage", "A" * 500])
def test_a_bad_gallery_cursor_is_422_not_500(api: BackgroundApi, user: str, cursor: str) -> None:
    with _signed_in(api, user) as client:
        resp = client.get("/gallery", params={"cursor": cursor})
    assert resp.status_code == 422


def test_static_assets_are_served(api: BackgroundApi) -> None:
    js = httpx.get(f"{api.url}/static/gallery.js")
    assert js.status_code == 200 and "onImageError" in js.text
    for name in ("placeholder.svg", "no-photo.svg", "favicon.svg"):
        svg = httpx.get(f"{api.url}/static/{name}")
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg")


def _assert_unframeable(resp: httpx.Response) -> None:
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    assert resp.headers["x-frame-options"] == "DENY"


def test_every_page_refuses_to_be_framed(api: BackgroundApi, user: str) -> None:
    """The signed-out page had no frame-ancestors: clickjacking its sign-in."""
    _assert_unframeable(httpx.get(f"{api.url}/gallery"))
    with _signed_in(api, user) as client:
        _assert_unframeable(client.get("/gallery"))


@pytest.mark.parametrize("path", ["/gallery/", "/api/wishlist/"])
def test_a_trailing_slash_never_redirects_to_the_host_header(
    api: BackgroundApi, user: str, path: str
) -> None:
    """Starlette's slash redirect built its Location from the Host header sent."""
    resp = httpx.get(
        f"{api.url}{path}", headers={**bearer(user), "Host": "evil.example"}, follow_redirects=False
    )
    assert resp.status_code == 404
    assert "location" not in resp.headers
    assert resp.json()["error"]["code"] == "not_found"
    assert "evil.example" not in resp.text


def test_sign_out_deletes_the_cookie_with_its_attributes(api: BackgroundApi, user: str) -> None:
    with _signed_in(api, user) as client:
        resp = client.post("/session/sign-out", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/gallery"
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f'{SESSION_COOKIE}=""') or cookie.startswith(f"{SESSION_COOKIE}=;")
    for attribute in ("Max-Age=0", "HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert attribute in cookie, cookie
