"""Seed rows for the demo and the tests: new keys, every legacy URL form, a bumped version."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wishlist_api.repository import ItemRecord, WishlistRepository

DEMO_USER = "demo-user"
PREFIX = "uploads/wishlist/"


# LEGO-ish colours, so each demo image is visibly a different picture.
PALETTE = ((201, 26, 9), (0, 85, 191), (242, 205, 55), (35, 120, 65), (254, 138, 24), (5, 19, 29))


def _png(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def tiny_png() -> bytes:
    """A valid 1x1 PNG, so fallback S3 URLs serve a real image."""
    return _png(1, 1, lambda _x, _y: (212, 31, 46))


def color_png(n: int) -> bytes:
    """A 48x36 brick: one palette colour with a row of lighter studs."""
    r, g, b = PALETTE[n % len(PALETTE)]
    light = (min(r + 60, 255), min(g + 60, 255), min(b + 60, 255))

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        stud = 4 <= y < 10 and (x % 12) in range(3, 9)
        return light if stud else (r, g, b)

    return _png(48, 36, pixel)


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
    kind: str  # "new", "new-versioned", "legacy:<form>", "no-image", "foreign"
    key: str | None  # the S3 key the item's image resolves to


def seed(
    repo: WishlistRepository,
    user_id: str,
    *,
    bucket: str,
    region: str = "us-east-1",
    s3: Any = None,
) -> list[Seeded]:
    """Insert one item per case; with `s3` (a boto3 client) also upload the images."""
    out: list[Seeded] = []

    def add(kind: str, title: str, key: str | None, **columns: Any) -> None:
        out.append(Seeded(repo.create(user_id, title, **columns), kind, key))
        if s3 is not None and key is not None:
            body = color_png(len(out))
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="image/png")

    key = f"{PREFIX}{user_id}/new-1.png"
    add("new", "Millennium Falcon (new upload)", key, image_key=key)
    key = f"{PREFIX}{user_id}/new-2.png"
    add("new-versioned", "Hogwarts Castle (re-uploaded twice)", key, image_key=key, image_version=2)
    for form, url in legacy_urls(bucket, region, f"{PREFIX}{user_id}/legacy-KEY.png").items():
        key = f"{PREFIX}{user_id}/legacy-{form}.png"
        add(
            f"legacy:{form}",
            f"Legacy row ({form} S3 URL)",
            key,
            legacy_image_url=url.replace("legacy-KEY", f"legacy-{form}"),
        )
    add("no-image", "Town Hall (no image yet)", None)
    add(
        "foreign",
        "Broken legacy row (someone else's bucket)",
        None,
        legacy_image_url=f"https://other-bucket.s3.amazonaws.com/{PREFIX}{user_id}/x.png",
    )
    return out
