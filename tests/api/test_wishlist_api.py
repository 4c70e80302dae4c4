"""Integration tests: the API over HTTP on loopback, a real resolver over gRPC, moto S3.

AC5/AC6: list and detail return CloudFront URLs on the configured domain.
AC8: every stored legacy S3 URL form comes back as the CDN URL of its key.
AC9: upload forms point at S3, never the CDN; a confirmed upload bumps the ?v= version.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import jwt
import pytest
from prometheus_client import REGISTRY

from tests.api.conftest import JWT_SECRET, bearer
from tests.conftest import BUCKET, CDN
from tests.support.background_api import BackgroundApi
from wishlist_api.repository import WishlistRepository
from wishlist_dev.demo_data import PREFIX, legacy_urls, seed, tiny_png
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_dev.localaws import LocalAws


def cdn_url(key: str, version: int = 0) -> str:
    return f"https://{CDN}/{key}" + (f"?v={version}" if version else "")


def items_of(http: httpx.Client, user: str, **params: object) -> list[dict[str, object]]:
    resp = http.get("/api/wishlist", params={"limit": 100, **params}, headers=bearer(user))
    assert resp.status_code == 200, resp.text
    items: list[dict[str, object]] = resp.json()["items"]
    return items


def assert_error(resp: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    error: dict[str, object] = resp.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


# ---- AC5 / AC6 / AC8: CDN URLs ------------------------------------------------------------


def test_list_returns_cdn_urls_on_the_configured_domain(
    http: httpx.Client, repo: WishlistRepository, user: str
) -> None:
    seeded = {s.kind: s for s in seed(repo, user, bucket=BUCKET)}
    by_id = {i["id"]: i for i in items_of(http, user)}
    assert len(by_id) == len(seeded)
    new = by_id[seeded["new"].item.id]
    assert new["imageUrl"] == cdn_url(f"{PREFIX}{user}/new-1.png")
    assert new["imageStatus"] == "ok"
    bumped = by_id[seeded["new-versioned"].item.id]
    assert bumped["imageUrl"] == cdn_url(f"{PREFIX}{user}/new-2.png", 2)
    assert bumped["imageVersion"] == 2
    assert (
        by_id[seeded["no-image"].item.id] | {"imageUrl": None, "imageStatus": "none"}
        == (by_id[seeded["no-image"].item.id])
    )


def test_detail_returns_the_cdn_url(
    http: httpx.Client, repo: WishlistRepository, user: str
) -> None:
    key = f"{PREFIX}{user}/detail.jpg"
    item = repo.create(user, "Detail", image_key=key, image_version=3)
    resp = http.get(f"/api/wishlist/{item.id}", headers=bearer(user))
    assert resp.status_code == 200
    body = resp.json()
    assert body["imageUrl"] == cdn_url(key, 3)
    assert body["id"] == item.id and body["title"] == "Detail" and body["userId"] == user
    assert "imageKey" not in body and "legacyImageUrl" not in body  # AC4: keys stay inside


@pytest.mark.parametrize("form", sorted(legacy_urls(BUCKET, "us-east-1", "k")))
def test_legacy_rows_come_back_as_cdn_urls(
    http: httpx.Client, repo: WishlistRepository, user: str, form: str
) -> None:
    key = f"{PREFIX}{user}/legacy-{form}.png"
    item = repo.create(user, form, legacy_image_url=legacy_urls(BUCKET, "us-east-1", key)[form])
    resp = http.get(f"/api/wishlist/{item.id}", headers=bearer(user))
    assert resp.status_code == 200
    assert resp.json()["imageUrl"] == cdn_url(key)
    assert [i["imageUrl"] for i in items_of(http, user)] == [cdn_url(key)]


def test_no_response_contains_amazonaws_at_full_rollout(
    http: httpx.Client, repo: WishlistRepository, local_aws: LocalAws, user: str
) -> None:
    seeded = seed(repo, user, bucket=BUCKET)
    page = http.get("/api/wishlist", headers=bearer(user)).json()
    items = page["items"] + [
        http.get(f"/api/wishlist/{s.item.id}", headers=bearer(user)).json() for s in seeded
    ]
    assert len(items) == 2 * len(seeded)
    for item in items:
        # The S3 copy of a CDN image is only ever the separate fallback field.
        fallback = item.pop("imageFallbackUrl")
        assert fallback is None or fallback.startswith(f"{local_aws.endpoint}/{BUCKET}/")
        body = json.dumps(item)
        assert '"imageStatus"' in body
        assert "amazonaws.com" not in body
        assert "s3://" not in body and "X-Amz-" not in body


def test_a_stored_ref_the_resolver_refuses_is_marked_invalid(
    http: httpx.Client, repo: WishlistRepository, user: str
) -> None:
    good = repo.create(user, "good", image_key=f"{PREFIX}{user}/ok.png")
    foreign = repo.create(
        user, "foreign", legacy_image_url="https://evil.example.com/uploads/wishlist/x.png"
    )
    outside = repo.create(user, "outside", image_key="private/secrets.png")
    by_id = {i["id"]: i for i in items_of(http, user)}
    assert by_id[good.id]["imageStatus"] == "ok"
    for bad in (foreign, outside):
        assert (by_id[bad.id]["imageUrl"], by_id[bad.id]["imageStatus"]) == (None, "invalid")
    assert "evil.example.com" not in http.get("/api/wishlist", headers=bearer(user)).text


def rpc_count(method: str) -> float:
    value = REGISTRY.get_sample_value("image_resolver_rpcs_total", {"method": method, "code": "OK"})
    return value or 0.0


def test_one_batch_rpc_per_page(http: httpx.Client, repo: WishlistRepository, user: str) -> None:
    for n in range(30):
        repo.create(user, f"item {n}", image_key=f"{PREFIX}{user}/{n}.png")
    before_batch, before_one = rpc_count("BatchResolveImageUrls"), rpc_count("ResolveImageUrl")
    assert len(items_of(http, user, limit=25)) == 25
    assert rpc_count("BatchResolveImageUrls") - before_batch == 1
    assert rpc_count("ResolveImageUrl") == before_one


# ---- rollout and resolver failures --------------------------------------------------------


def test_zero_rollout_gives_presigned_s3_urls_that_serve_the_image(
    start_resolver: Callable[..., EmbeddedResolver],
    start_api: Callable[..., BackgroundApi],
    repo: WishlistRepository,
    local_aws: LocalAws,
    user: str,
) -> None:
    key = f"{PREFIX}{user}/s3.png"
    local_aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=tiny_png())
    item = repo.create(user, "S3 user", image_key=key)
    resolver = start_resolver(cdn_rollout_percent=0, s3_fallback_mode="presigned")
    api = start_api(resolver.target)
    body = httpx.get(f"{api.url}/api/wishlist/{item.id}", headers=bearer(user)).json()
    url = body["imageUrl"]
    assert body["imageStatus"] == "ok"
    assert url.startswith(f"{local_aws.endpoint}/{BUCKET}/{key}?")
    assert "X-Amz-Signature=" in url and CDN not in url
    image = httpx.get(url)
    assert image.status_code == 200 and image.content == tiny_png()


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: a hung resolver."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def test_stopped_resolver_gives_200_with_null_urls(
    start_resolver: Callable[..., EmbeddedResolver],
    start_api: Callable[..., BackgroundApi],
    repo: WishlistRepository,
    user: str,
) -> None:
    for n in range(3):
        repo.create(user, f"item {n}", image_key=f"{PREFIX}{user}/{n}.png")
    repo.create(user, "no image")
    resolver = start_resolver()
    api = start_api(resolver.target, resolver_timeout_seconds=0.3)
    url, headers = f"{api.url}/api/wishlist", bearer(user)
    assert {i["imageStatus"] for i in httpx.get(url, headers=headers).json()["items"]} == {
        "ok",
        "none",
    }
    resolver.stop(grace=0)
    started = time.monotonic()
    resp = httpx.get(url, headers=headers)
    assert resp.status_code == 200
    assert time.monotonic() - started < 2.0
    items = resp.json()["items"]
    assert sorted(i["imageStatus"] for i in items) == [
        "none",
        "unavailable",
        "unavailable",
        "unavailable",
    ]
    assert all(i["imageUrl"] is None for i in items)
    detail = httpx.get(f"{url}/{items[0]['id']}", headers=headers)
    assert detail.status_code == 200 and detail.json()["imageUrl"] is None


def test_hung_resolver_is_cut_off_at_the_deadline(
    blackhole: str, start_api: Callable[..., BackgroundApi], repo: WishlistRepository, user: str
) -> None:
    repo.create(user, "slow", image_key=f"{PREFIX}{user}/slow.png")
    api = start_api(blackhole, resolver_timeout_seconds=0.2)
    started = time.monotonic()
    resp = httpx.get(f"{api.url}/api/wishlist", headers=bearer(user))
    elapsed = time.monotonic() - started
    assert resp.status_code == 200
    assert [(i["imageUrl"], i["imageStatus"]) for i in resp.json()["items"]] == [
        (None, "unavailable")
    ]
    assert elapsed < 1.5


def test_images_disabled_makes_no_rpc(
    start_api: Callable[..., BackgroundApi], repo: WishlistRepository, user: str
) -> None:
    repo.create(user, "x", image_key=f"{PREFIX}{user}/x.png")
    api = start_api("127.0.0.1:1", images_enabled=False)
    before = rpc_count("BatchResolveImageUrls")
    items = httpx.get(f"{api.url}/api/wishlist", headers=bearer(user)).json()["items"]
    assert [(i["imageUrl"], i["imageStatus"]) for i in items] == [(None, "disabled")]
    assert rpc_count("BatchResolveImageUrls") == before


# ---- pagination ---------------------------------------------------------------------------


def test_pagination_walks_every_item_once_newest_first(
    http: httpx.Client, repo: WishlistRepository, user: str
) -> None:
    created = [repo.create(user, f"item {n}").id for n in range(7)]
    seen: list[str] = []
    sizes = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = http.get("/api/wishlist", params=params, headers=bearer(user)).json()
        sizes.append(len(page["items"]))
        seen += [i["id"] for i in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sizes == [3, 3, 1]
    assert seen == list(reversed(created))


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"cursor": "not-a-cursor"},
        {"cursor": "x" * 201},
    ],
)
def test_bad_page_parameters_are_422(
    http: httpx.Client, user: str, params: dict[str, object]
) -> None:
    error = assert_error(
        http.get("/api/wishlist", params=params, headers=bearer(user)), 422, "validation_failed"
    )
    assert str(error["details"]).startswith("[{'field': 'query.")


# ---- ownership, auth, bad input -----------------------------------------------------------


def test_other_users_items_are_404_and_never_leak(
    http: httpx.Client, repo: WishlistRepository, user: str
) -> None:
    theirs = repo.create(
        "someone-else", "Their secret title", image_key=f"{PREFIX}someone-else/a.png"
    )
    me = bearer(user)
    path = f"/api/wishlist/{theirs.id}"
    responses = [
        http.get(path, headers=me),
        http.patch(path, json={"title": "mine now"}, headers=me),
        http.delete(path, headers=me),
        http.post(
            f"{path}/image/upload-url",
            json={"contentType": "image/png", "contentLength": 10},
            headers=me,
        ),
        http.post(f"{path}/image", json={"key": f"{PREFIX}{user}/abc.png"}, headers=me),
    ]
    for resp in responses:
        assert_error(resp, 404, "not_found")
        assert "secret" not in resp.text and "someone-else" not in resp.text
    assert items_of(http, user) == []
    assert repo.get("someone-else", theirs.id) == theirs  # untouched


def _token(**claims: object) -> str:
    payload = {"sub": "u-1", "exp": int(time.time()) + 60} | claims
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer not.a.jwt",
        "Basic dXNlcjpwYXNz",
        f"Bearer {_token(exp=int(time.time()) - 3600)}",
        f"Bearer {jwt.encode({'sub': 'u-1', 'exp': 2**31}, 'x' * 40, algorithm='HS256')}",
        f"Bearer {jwt.encode({'sub': 'u-1', 'exp': 2**31}, None, algorithm='none')}",
        f"Bearer {_token(sub='')}",
        f"Bearer {_token(sub=None)}",
    ],
)
def test_missing_or_invalid_tokens_are_401_json(
    http: httpx.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    resp = http.get("/api/wishlist", headers=headers)
    assert_error(resp, 401, "unauthenticated")
    assert resp.headers["www-authenticate"].startswith("Bearer")
    if authorization and "." in authorization:
        assert authorization.split()[-1] not in resp.text


def test_crud_lifecycle(http: httpx.Client, user: str) -> None:
    me = bearer(user)
    created = http.post("/api/wishlist", json={"title": "  Death Star  "}, headers=me)
    assert created.status_code == 201
    item = created.json()
    assert created.headers["location"] == f"/api/wishlist/{item['id']}"
    assert (item["title"], item["imageUrl"], item["imageStatus"], item["imageVersion"]) == (
        "Death Star",
        None,
        "none",
        0,
    )
    renamed = http.patch(f"/api/wishlist/{item['id']}", json={"title": "Death Star II"}, headers=me)
    assert renamed.status_code == 200 and renamed.json()["title"] == "Death Star II"
    assert renamed.json()["updatedAt"] >= item["updatedAt"]
    assert http.get(f"/api/wishlist/{item['id']}", headers=me).json()["title"] == "Death Star II"
    deleted = http.delete(f"/api/wishlist/{item['id']}", headers=me)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(http.get(f"/api/wishlist/{item['id']}", headers=me), 404, "not_found")
    assert_error(http.delete(f"/api/wishlist/{item['id']}", headers=me), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "", b"{not json", 400, "malformed_json"),
        ("POST", "", b"[]", 422, "validation_failed"),
        ("POST", "", b"{}", 422, "validation_failed"),
        ("POST", "", b'{"title": ""}', 422, "validation_failed"),
        ("POST", "", b'{"title": "   "}', 422, "validation_failed"),
        ("POST", "", b'{"title": "a\\u0000b"}', 422, "validation_failed"),
        ("POST", "", b'{"title": "\\ud800"}', 422, "validation_failed"),
        ("POST", "", b'{"title": "' + b"x" * 201 + b'"}', 422, "validation_failed"),
        (
            "POST",
            "",
            b'{"title": "ok", "imageUrl": "https://s3.amazonaws.com/b/k"}',
            422,
            "validation_failed",
        ),
        ("POST", "", b'{"title": 5}', 422, "validation_failed"),
        ("GET", "/not-a-uuid", None, 422, "validation_failed"),
        ("GET", "/12345678-1234-1234-1234-1234567890123", None, 422, "validation_failed"),
        ("PATCH", "/00000000-0000-4000-8000-000000000000", b'{"title": "x"}', 404, "not_found"),
        ("GET", "/00000000-0000-4000-8000-000000000000/nope", None, 404, "not_found"),
        ("PUT", "", b"{}", 405, "method_not_allowed"),
    ],
)
def test_bad_ids_and_bodies_are_4xx_json(
    http: httpx.Client,
    user: str,
    method: str,
    path: str,
    body: bytes | None,
    status: int,
    code: str,
) -> None:
    headers = bearer(user) | {"content-type": "application/json"}
    resp = http.request(method, f"/api/wishlist{path}", content=body, headers=headers)
    assert_error(resp, status, code)
    assert "amazonaws" not in resp.text and "Traceback" not in resp.text
    if status == 405:
        assert resp.headers["allow"] == "GET, POST"


# ---- uploads (AC9) ------------------------------------------------------------------------


def test_upload_form_points_at_s3_and_confirming_bumps_the_version(
    http: httpx.Client, local_aws: LocalAws, user: str
) -> None:
    me = bearer(user)
    item = http.post("/api/wishlist", json={"title": "With photo"}, headers=me).json()
    png = tiny_png()
    versions = []
    for _ in range(2):
        form = http.post(
            f"/api/wishlist/{item['id']}/image/upload-url",
            json={"contentType": "image/png", "contentLength": len(png)},
            headers=me,
        )
        assert form.status_code == 200, form.text
        upload = form.json()
        assert upload["url"].startswith(local_aws.endpoint) and CDN not in upload["url"]
        assert upload["key"].startswith(f"{PREFIX}{user}/") and upload["key"].endswith(".png")
        assert upload["maxBytes"] == len(png)
        posted = httpx.post(
            upload["url"], data=upload["fields"], files={"file": ("x.png", png, "image/png")}
        )
        assert posted.status_code in (200, 201, 204), posted.text
        head = local_aws.client("s3").head_object(Bucket=BUCKET, Key=upload["key"])
        assert head["ContentLength"] == len(png)
        confirmed = http.post(
            f"/api/wishlist/{item['id']}/image", json={"key": upload["key"]}, headers=me
        )
        assert confirmed.status_code == 200, confirmed.text
        body = confirmed.json()
        versions.append(body["imageVersion"])
        assert body["imageUrl"] == cdn_url(upload["key"], body["imageVersion"])
    assert versions == [1, 2]


def test_attaching_a_never_uploaded_key_is_409_and_changes_nothing(
    http: httpx.Client, repo: WishlistRepository, user: str
) -> None:
    me = bearer(user)
    item = repo.create(user, "no upload yet")
    form = http.post(
        f"/api/wishlist/{item.id}/image/upload-url",
        json={"contentType": "image/png", "contentLength": 10},
        headers=me,
    ).json()
    resp = http.post(f"/api/wishlist/{item.id}/image", json={"key": form["key"]}, headers=me)
    error = assert_error(resp, 409, "image_not_uploaded")
    assert form["key"] not in error["message"]
    assert repo.get(user, item.id) == item


def test_attaching_an_object_of_another_type_is_422(
    http: httpx.Client, repo: WishlistRepository, local_aws: LocalAws, user: str
) -> None:
    key = f"{PREFIX}{user}/0123abcd.png"
    local_aws.client("s3").put_object(
        Bucket=BUCKET, Key=key, Body=b"<html>", ContentType="text/html"
    )
    item = repo.create(user, "wrong type")
    resp = http.post(f"/api/wishlist/{item.id}/image", json={"key": key}, headers=bearer(user))
    error = assert_error(resp, 422, "validation_failed")
    assert error["details"][0]["field"] == "body.key"
    assert repo.get(user, item.id) == item


def test_cdn_images_come_with_a_presigned_s3_fallback(
    http: httpx.Client, repo: WishlistRepository, local_aws: LocalAws, user: str
) -> None:
    key = f"{PREFIX}{user}/fallback01.png"
    local_aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=tiny_png())
    item = repo.create(user, "with fallback")
    repo.set_image(user, item.id, key)
    [got] = items_of(http, user)
    assert got["imageUrl"] == cdn_url(key, 1)
    fallback = got["imageFallbackUrl"]
    assert fallback.startswith(f"{local_aws.endpoint}/{BUCKET}/{key}?")
    assert "X-Amz-Signature=" in fallback
    assert httpx.get(fallback).content == tiny_png()


@pytest.mark.parametrize(
    "key",
    [
        "uploads/wishlist/someone-else/0123abcd.png",
        "uploads/wishlist/{user}/../someone-else/0123abcd.png",
        "uploads/wishlist/{user}/0123abcd.svg",
        "uploads/wishlist/{user}/sub/0123abcd.png",
        "https://s3.amazonaws.com/lego-moc-wishlist-uploads/uploads/wishlist/{user}/a.png",
        "private/{user}/a.png",
    ],
)
def test_confirm_refuses_keys_not_issued_to_the_user(
    http: httpx.Client, repo: WishlistRepository, user: str, key: str
) -> None:
    item = repo.create(user, "x")
    resp = http.post(
        f"/api/wishlist/{item.id}/image", json={"key": key.format(user=user)}, headers=bearer(user)
    )
    error = assert_error(resp, 422, "validation_failed")
    # The resolver owns the rule (VerifyUpload); its message comes through.
    assert error["details"] == [
        {"field": "body.key", "message": "key: is not an upload key issued to this user"}
    ]
    assert repo.get(user, item.id) == item


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contentType": "image/svg+xml", "contentLength": 10}, "body.contentType"),
        ({"contentType": "x" * 256, "contentLength": 10}, "body.contentType"),
        ({"contentType": "image/png", "contentLength": 0}, "body.contentLength"),
        ({"contentType": "image/png", "contentLength": 10 * 1024 * 1024 + 1}, "body.contentLength"),
        ({"contentType": "image/png", "contentLength": 2**63}, "body.contentLength"),
        ({"contentType": "image/png"}, "body.contentLength"),
    ],
)
def test_bad_upload_requests_are_422(
    http: httpx.Client, repo: WishlistRepository, user: str, body: dict[str, object], field: str
) -> None:
    """Types and sizes are the resolver's rule (GetUploadPolicy); the API passes its
    refusal on, naming the field, as it does its own (length, JSON type) refusals."""
    item = repo.create(user, "x")
    resp = http.post(f"/api/wishlist/{item.id}/image/upload-url", json=body, headers=bearer(user))
    error = assert_error(resp, 422, "validation_failed")
    assert [d["field"] for d in error["details"]] == [field]  # type: ignore[attr-defined]


@pytest.mark.parametrize("length", [True, "100", 100.0, "1e2", None])
def test_upload_length_must_be_a_json_integer(
    http: httpx.Client, repo: WishlistRepository, user: str, length: object
) -> None:
    """Strict: a bool, a numeric string or a float is refused, not coerced to 100."""
    item = repo.create(user, "x")
    body = {"contentType": "image/png", "contentLength": length}
    resp = http.post(f"/api/wishlist/{item.id}/image/upload-url", json=body, headers=bearer(user))
    error = assert_error(resp, 422, "validation_failed")
    assert [d["field"] for d in error["details"]] == ["body.contentLength"]  # type: ignore[attr-defined]


def test_upload_with_resolver_down_is_503(
    start_api: Callable[..., BackgroundApi], repo: WishlistRepository, blackhole: str, user: str
) -> None:
    item = repo.create(user, "x")
    api = start_api(blackhole, resolver_timeout_seconds=0.2)
    resp = httpx.post(
        f"{api.url}/api/wishlist/{item.id}/image/upload-url",
        json={"contentType": "image/png", "contentLength": 10},
        headers=bearer(user),
    )
    assert_error(resp, 503, "resolver_unavailable")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("image/upload-url", {"contentType": "image/png", "contentLength": 10}),
        ("image", {"key": "uploads/wishlist/x/0123abcd.png"}),
    ],
)
def test_uploads_with_images_off_are_503_and_a_user_id_uploads_refuse_is_403(
    start_api: Callable[..., BackgroundApi],
    http: httpx.Client,
    repo: WishlistRepository,
    path: str,
    body: dict[str, object],
) -> None:
    """The image adapter's own errors: images off -> 503 without any RPC; a user id the
    resolver's upload rule refuses (GetUploadPolicy: A-Z, a-z, 0-9, '_', '-') -> 403."""
    off = start_api("127.0.0.1:1", images_enabled=False)
    item = repo.create("u-1", "x")
    resp = httpx.post(f"{off.url}/api/wishlist/{item.id}/{path}", json=body, headers=bearer("u-1"))
    assert_error(resp, 503, "resolver_unavailable")
    odd_user = "someone@example.com"
    odd_item = repo.create(odd_user, "x")
    resp = http.post(f"/api/wishlist/{odd_item.id}/{path}", json=body, headers=bearer(odd_user))
    assert_error(resp, 403, "forbidden")


# ---- contract and start-up ----------------------------------------------------------------


def test_openapi_documents_the_contract(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["ImageStatus"]["enum"] == ["ok", "none", "invalid", "unavailable", "disabled"]
    assert set(schemas["ItemOut"]["properties"]) >= {
        "imageUrl",
        "imageStatus",
        "imageVersion",
        "userId",
    }
    assert spec["paths"]["/api/wishlist"]["get"]["parameters"][0]["schema"]["maximum"] == 100
    assert spec["paths"]["/api/wishlist/{item_id}"]["get"]["responses"]["404"]


def test_api_refuses_to_start_on_an_unmigrated_database(
    tmp_path: object, resolver: EmbeddedResolver
) -> None:
    from tests.api.conftest import api_settings
    from wishlist_api.app import create_app

    settings = api_settings(f"sqlite:///{tmp_path}/empty-{uuid.uuid4().hex}.db", resolver.target)
    with pytest.raises(RuntimeError, match="did not start"):
        BackgroundApi(create_app(settings), log_level="critical").start()


@pytest.mark.parametrize(
    "char",
    ["\u202e", "\u2066", "\u200b", "\u200d", "\u00ad", "\ufeff", "\u2028", "\u2029"],
    ids=["RLO", "LRI", "ZWSP", "ZWJ", "SHY", "BOM", "LS", "PS"],
)
def test_titles_refuse_what_keys_refuse(http: httpx.Client, user: str, char: str) -> None:
    """Bidi overrides and zero-width characters were accepted in titles while keys refused
    them: a title shown in the gallery could read as another. One rule for both now."""
    from wishlist_runtime.values import has_invisible

    assert has_invisible(f"Castle{char}Tower")  # the keys' rule refuses it
    resp = http.post("/api/wishlist", json={"title": f"Castle{char}Tower"}, headers=bearer(user))
    error = assert_error(resp, 422, "validation_failed")
    assert error["details"][0]["field"] == "body.title"  # type: ignore[index]
    assert char not in resp.text


def test_titles_keep_accents_and_plain_emoji(http: httpx.Client, user: str) -> None:
    resp = http.post("/api/wishlist", json={"title": "Café Corner 🏰 Ü"}, headers=bearer(user))
    assert resp.status_code == 201
    assert resp.json()["title"] == "Café Corner 🏰 Ü"
