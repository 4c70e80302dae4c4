"""Seed rows for the demo and the tests: new keys, every legacy URL form, a bumped version,
with real-looking titles and pictures."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image

from wishlist_api.repository import ItemRecord, WishlistRepository
from wishlist_dev.moc_art import MODELS, render

DEMO_USER = "demo-user"
PREFIX = "uploads/wishlist/"


def tiny_png() -> bytes:
    """A valid 1x1 PNG, so fallback S3 URLs serve a real image."""
    out = io.BytesIO()
    Image.new("RGB", (1, 1), (212, 31, 46)).save(out, format="PNG")
    return out.getvalue()


def sample_png(n: int) -> bytes:
    """The n-th demo picture: a brick-built model at display resolution (moc_art.py)."""
    models = list(MODELS)
    return render(models[n % len(models)], variant=n)


def legacy_urls(bucket: str, region: str, key: str) -> dict[str, str]:
    """Every spelling of an S3 object URL stored before the CDN, keyed by form name."""
    signed = (
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=" + "0" * 64
    )
    return {
        "path-style": f"https://s3.amazonaws.com/{bucket}/{key}",
        "virtual-hosted": f"https://{bucket}.s3.amazonaws.com/{key}",
        "regional": f"https://{bucket}.s3.{region}.amazonaws.com/{key}",
        "regional-path-style": f"https://s3.{region}.amazonaws.com/{bucket}/{key}",
        "dash-region": f"https://{bucket}.s3-{region}.amazonaws.com/{key}",
        "dualstack": f"https://{bucket}.s3.dualstack.{region}.amazonaws.com/{key}",
        "accelerate": f"https://{bucket}.s3-accelerate.amazonaws.com/{key}",
        "s3-uri": f"s3://{bucket}/{key}",
        "presigned": f"https://{bucket}.s3.{region}.amazonaws.com/{key}{signed}",
    }


@dataclass(frozen=True)
class Seeded:
    item: ItemRecord
    kind: str  # "new", "new:<n>", "new-versioned", "legacy:<form>", "no-image", "foreign"
    key: str | None  # the S3 key the item's image resolves to


# (title, model) of the demo's own uploads and of its legacy rows, newest first on the page.
UPLOADS = (
    ("Corner Bakery Modular", "house"),
    ("Galaxy Explorer Rebuild", "ship"),
    ("Castle Gatehouse", "tower"),
    ("Vintage Tram No. 7", "tram"),
    ("Treehouse Hideaway", "tree"),
    ("Harbour Lighthouse", "lighthouse"),
)
LEGACY_TITLES = {
    "path-style": ("Mech Walker MK II", "mech"),
    "virtual-hosted": ("Harbour Tugboat", "tugboat"),
    "regional": ("Fire Station 42", "fire-station"),
    "regional-path-style": ("Windmill on the Dike", "windmill"),
    "dash-region": ("Moon Rocket", "rocket"),
    "dualstack": ("Taco Food Truck", "food-truck"),
    "accelerate": ("Alpine Chalet", "house"),
    "s3-uri": ("Starfighter Escort", "ship"),
    "presigned": ("Watchtower Ruins", "tower"),
}


def seed(
    repo: WishlistRepository,
    user_id: str,
    *,
    bucket: str,
    region: str = "us-east-1",
    s3: Any = None,
) -> list[Seeded]:
    """Insert one item per case; with `s3` (a boto3 client) also upload the images.

    The odd cases go in first, so the page (newest first) opens on the real-looking items
    and ends with the row without an image and the broken one."""
    out: list[Seeded] = []

    def add(kind: str, title: str, key: str | None, model: str = "", **columns: Any) -> None:
        out.append(Seeded(repo.create(user_id, title, **columns), kind, key))
        if s3 is not None and key is not None:
            body = render(model, variant=len(out))
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="image/png")

    add(
        "foreign",
        "Monorail Station",
        None,
        legacy_image_url=f"https://other-bucket.s3.amazonaws.com/{PREFIX}{user_id}/x.png",
    )
    add("no-image", "Town Hall", None)
    for form, url in legacy_urls(bucket, region, f"{PREFIX}{user_id}/legacy-KEY.png").items():
        title, model = LEGACY_TITLES[form]
        key = f"{PREFIX}{user_id}/legacy-{form}.png"
        add(
            f"legacy:{form}",
            title,
            key,
            model,
            legacy_image_url=url.replace("legacy-KEY", f"legacy-{form}"),
        )
    for n, (title, model) in enumerate(UPLOADS[2:], start=3):
        key = f"{PREFIX}{user_id}/new-{n}.png"
        add(f"new:{n}", title, key, model, image_key=key)
    key = f"{PREFIX}{user_id}/new-2.png"
    title, model = UPLOADS[1]
    add("new-versioned", title, key, model, image_key=key, image_version=2)
    key = f"{PREFIX}{user_id}/new-1.png"
    title, model = UPLOADS[0]
    add("new", title, key, model, image_key=key)
    return out
