"""Routes get their services through `Depends` (wishlist_api/deps.py), so a test can swap
one with `app.dependency_overrides` and keep everything else real (HTTP server, database)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
from sqlalchemy import Engine

from tests.api.conftest import api_settings, bearer
from tests.support.background_api import BackgroundApi
from wishlist_api.app import create_app
from wishlist_api.deps import get_images
from wishlist_api.images import ImageStatus, ImageView, UploadRejected
from wishlist_api.repository import ItemRecord, WishlistRepository
from wishlist_images_client import UploadedImage, UploadForm

URL = "https://d111111abcdef8.cloudfront.net/fixed.png"


class FixedImages:
    """Every item shows one URL; every upload request is refused on its content type."""

    async def for_items(
        self, items: Sequence[ItemRecord], user_id: str, request_id: str | None = None
    ) -> list[ImageView]:
        return [ImageView(URL, ImageStatus.OK) for _ in items]

    async def upload_form(self, user_id: str, content_type: str, content_length: int) -> UploadForm:
        raise UploadRejected("body.contentType", "not today")

    async def verify_upload(self, user_id: str, key: str) -> UploadedImage:
        raise UploadRejected("body.key", "not today")


def test_a_dependency_override_replaces_the_image_service(
    engine: Engine, database_url: str, repo: WishlistRepository
) -> None:
    # No resolver listens on 127.0.0.1:1: only the override can answer.
    app = create_app(api_settings(database_url, "127.0.0.1:1"), engine=engine)
    app.dependency_overrides[get_images] = FixedImages
    server = BackgroundApi(app).start()
    try:
        item = repo.create("u-deps", "x")
        listed = httpx.get(f"{server.url}/api/wishlist", headers=bearer("u-deps"), timeout=10)
        assert listed.status_code == 200
        assert [(i["id"], i["imageUrl"]) for i in listed.json()["items"]] == [(item.id, URL)]
        refused = httpx.post(
            f"{server.url}/api/wishlist/{item.id}/image/upload-url",
            json={"contentType": "image/png", "contentLength": 10},
            headers=bearer("u-deps"),
            timeout=10,
        )
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["details"] == [{"field": "body.contentType", "message": "not today"}]
    finally:
        server.stop()
