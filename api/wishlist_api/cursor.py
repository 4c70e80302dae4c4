"""Opaque page cursors: base64url of the last item's (created_at, id)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from wishlist_api.repository import Cursor, ItemRecord, utc

MAX_CURSOR_CHARS = 200


class BadCursor(ValueError):
    pass


def encode(item: ItemRecord) -> str:
    raw = json.dumps([item.created_at.isoformat(), item.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(text: str) -> Cursor:
    if len(text) > MAX_CURSOR_CHARS:
        raise BadCursor("cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        created, item_id = json.loads(raw)
        if not isinstance(created, str) or not isinstance(item_id, str):
            raise TypeError("cursor parts must be strings")
        # OverflowError: a valid timestamp whose UTC form leaves the calendar (year 0/10000).
        return Cursor(utc(datetime.fromisoformat(created)), str(uuid.UUID(item_id)))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, OverflowError):
        raise BadCursor("cursor is not one this API returned") from None
