"""The demo's one-click sign-in is the demo's own route on the product's app; the product
knows nothing of it (its signed-out page offers no demo button)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.api.conftest import JWT_SECRET, api_settings
from tests.support.background_api import BackgroundApi
from wishlist_api.app import create_app
from wishlist_api.db import make_engine
from wishlist_api.migrate import upgrade
from wishlist_api.pages import SESSION_COOKIE
from wishlist_dev.demo import DEMO_SIGN_IN, add_demo_sign_in
from wishlist_dev.demo_data import DEMO_USER
from wishlist_dev.tokens import mint_token


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wishlist.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def _app(database_url: str) -> FastAPI:
    settings = api_settings(
        database_url, "127.0.0.1:1", images_enabled=False, session_cookie_secure=False
    )
    return create_app(settings)


def test_the_demo_route_signs_in_with_the_products_session_cookie(database_url: str) -> None:
    app = _app(database_url)
    add_demo_sign_in(app, mint_token(JWT_SECRET, DEMO_USER))
    with BackgroundApi(app) as api, httpx.Client(base_url=api.url, timeout=10) as client:
        resp = client.get(DEMO_SIGN_IN)
        assert resp.status_code == 303
        assert resp.headers["location"] == "/gallery"
        assert resp.cookies[SESSION_COOKIE]
        assert "HttpOnly" in resp.headers["set-cookie"]
        gallery = client.get("/gallery")  # the cookie, read by the product's page
        assert gallery.status_code == 200
        assert DEMO_USER in gallery.text
        assert DEMO_SIGN_IN not in client.get("/openapi.json").text


def test_the_product_app_has_no_demo_sign_in(database_url: str) -> None:
    with BackgroundApi(_app(database_url)) as api:
        assert httpx.get(f"{api.url}{DEMO_SIGN_IN}").status_code == 404
        signed_out = httpx.get(f"{api.url}/gallery")
    assert signed_out.status_code == 401
    assert "POST /session" in signed_out.text
    assert "demo" not in signed_out.text.lower()
