"""Any page cursor gives 200 or a 422 JSON error, never a 500 (issue 12, crafted cursor)."""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import bearer
from tests.api.test_wishlist_api import assert_error
from tests.support.background_api import BackgroundApi
from wishlist_api import cursor


def _cursor(*parts: object) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


ITEM = str(uuid.UUID(int=1))
# Valid ISO timestamps whose UTC form falls outside datetime's range (year 0 or 10000).
EDGE_CURSORS = [
    _cursor("9999-12-31T23:59:59-14:00", ITEM),
    _cursor("0001-01-01T00:00:00+14:00", ITEM),
    _cursor("9999-12-31T23:59:59.999999-00:01", ITEM),
]

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
timestamps = st.one_of(
    st.datetimes(timezones=st.none() | offsets).map(datetime.isoformat),
    st.text(max_size=40),
)
json_cursors = st.builds(
    _cursor, timestamps, st.one_of(st.uuids().map(str), st.text(max_size=40), st.integers())
)
cursor_texts = st.one_of(
    json_cursors,
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=200
    ),
    st.binary(max_size=140).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")),
)


@given(text=cursor_texts)
@settings(max_examples=500, deadline=None)
def test_the_decoder_accepts_or_refuses_every_cursor(text: str) -> None:
    try:
        decoded, refusal = cursor.decode(text), ""
    except cursor.BadCursor as exc:
        decoded, refusal = None, str(exc)
    if decoded is None:
        assert refusal in ("cursor is too long", "cursor is not one this API returned")
    else:
        assert decoded.created_at.tzinfo == UTC
        assert str(uuid.UUID(decoded.id)) == decoded.id


def _expected_status(text: str) -> int:
    try:
        cursor.decode(text)
    except cursor.BadCursor:
        return 422
    return 200


@given(text=cursor_texts)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_the_live_api_answers_every_cursor_with_200_or_422(
    http: httpx.Client, user: str, text: str
) -> None:
    resp = http.get("/api/wishlist", params={"cursor": text}, headers=bearer(user))
    if _expected_status(text) == 200 or text == "":
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"items": [], "nextCursor": None}
    else:
        error = assert_error(resp, 422, "validation_failed")
        assert [d["field"] for d in error["details"]] == ["query.cursor"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("crafted", EDGE_CURSORS)
def test_a_calendar_edge_cursor_is_422_and_keeps_the_connection(
    api: BackgroundApi, user: str, crafted: str
) -> None:
    conn = http.client.HTTPConnection(api.host, api.port, timeout=10)
    try:
        conn.request("GET", f"/api/wishlist?cursor={crafted}", headers=bearer(user))
        first = conn.getresponse()
        body = json.loads(first.read())
        sock = conn.sock
        assert first.status == 422, body
        assert body["error"]["details"][0]["field"] == "query.cursor"
        assert first.getheader("connection") != "close"
        conn.request("GET", "/api/wishlist", headers=bearer(user))
        second = conn.getresponse()
        assert second.status == 200 and json.loads(second.read())["items"] == []
        assert conn.sock is sock, "the server dropped the keep-alive connection"
    finally:
        conn.close()
