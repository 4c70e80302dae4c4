"""The API applies the contract's value rules (wishlist_runtime.values), the same ones the
resolver applies: a user the API lets in is one the resolver serves, uploads included."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request

from tests.api.conftest import bearer
from tests.api.test_wishlist_api import assert_error
from wishlist_api import errors
from wishlist_api.deps import get_request_id
from wishlist_api.models import WishlistItem
from wishlist_runtime import values

LONGEST = "u" * values.MAX_USER_ID_CHARS


def test_the_longest_user_id_lists_creates_and_uploads(http: httpx.Client) -> None:
    me = bearer(LONGEST)
    assert http.get("/api/wishlist", headers=me).status_code == 200  # the resolver agrees
    created = http.post("/api/wishlist", json={"title": "X-wing"}, headers=me)
    assert created.status_code == 201, created.text
    form = http.post(
        f"/api/wishlist/{created.json()['id']}/image/upload-url",
        json={"contentType": "image/png", "contentLength": 10},
        headers=me,
    )
    assert form.status_code == 200, form.text  # upload keys take it too: one limit


def test_one_character_more_is_not_a_user(http: httpx.Client) -> None:
    resp = http.get("/api/wishlist", headers=bearer(LONGEST + "u"))
    assert_error(resp, 401, "unauthenticated")


def test_the_table_holds_the_longest_user_id() -> None:
    assert WishlistItem.__table__.c.user_id.type.length == values.MAX_USER_ID_CHARS  # type: ignore[attr-defined]


def _request(request_id: bytes) -> Request:
    return Request({"type": "http", "headers": [(b"x-request-id", request_id)]})


@pytest.mark.parametrize(
    ("sent", "kept"),
    [(b"req-1", True), (b"x" * 128, True), (b"x" * 129, False), (b"a b", False), (b"", False)],
)
def test_request_ids_follow_the_contracts_rule(sent: bytes, kept: bool) -> None:
    got = get_request_id(_request(sent))
    assert got == (sent.decode() if kept else None)
    assert got == values.request_id(sent.decode())


def test_a_broken_value_rule_is_a_422_naming_the_field() -> None:
    app = FastAPI()
    errors.install(app, [])

    @app.get("/percent")
    def percent() -> int:
        return values.percent(101)

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.get("/percent")

    resp = asyncio.run(get())
    error = assert_error(resp, 422, "validation_failed")  # type: ignore[arg-type]
    assert error["details"] == [{"field": "percent", "message": "must be between 0 and 100"}]
