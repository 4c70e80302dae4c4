"""Wishlist storage: every query is scoped to one user, so no path can read another's rows.

Blocking SQLAlchemy calls; the routes run them through `run` (deadline.py). Returns plain
records, never ORM objects, so nothing lazy-loads after the session is gone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from wishlist_api.db import DEFAULT_STATEMENT_TIMEOUT
from wishlist_api.deadline import DatabaseDeadline
from wishlist_api.models import WishlistItem

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class ItemRecord:
    id: str
    user_id: str
    title: str
    image_key: str | None
    legacy_image_url: str | None
    image_version: int
    created_at: datetime
    updated_at: datetime

    @property
    def image_ref(self) -> str | None:
        """What the resolver is asked about: the key, else the legacy URL."""
        return self.image_key or self.legacy_image_url


@dataclass(frozen=True)
class Cursor:
    """Keyset position: the last item of the previous page (newest first)."""

    created_at: datetime
    id: str


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _record(row: WishlistItem) -> ItemRecord:
    return ItemRecord(
        id=row.id,
        user_id=row.user_id,
        title=row.title,
        image_key=row.image_key,
        legacy_image_url=row.legacy_image_url,
        image_version=row.image_version,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _older_than(cursor: Cursor) -> ColumnElement[bool]:
    return or_(
        WishlistItem.created_at < cursor.created_at,
        and_(WishlistItem.created_at == cursor.created_at, WishlistItem.id < cursor.id),
    )


def _newer_than(cursor: Cursor) -> ColumnElement[bool]:
    return or_(
        WishlistItem.created_at > cursor.created_at,
        and_(WishlistItem.created_at == cursor.created_at, WishlistItem.id > cursor.id),
    )


def _now() -> datetime:
    return datetime.now(UTC)


class WishlistRepository:
    """Blocking calls, each one short transaction. From the event loop, go through `run`,
    which keeps them off the loop and inside the database deadline."""

    def __init__(
        self, sessions: sessionmaker[Session], deadline: DatabaseDeadline | None = None
    ) -> None:
        self._sessions = sessions
        self._deadline = deadline or DatabaseDeadline(DEFAULT_STATEMENT_TIMEOUT, workers=8)

    async def run(self, method: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`await repo.run(repo.get, user, item_id)`: one of this repository's calls, bounded."""
        return await self._deadline.run(method, *args, **kwargs)

    def close(self) -> None:
        self._deadline.close()

    def list_page(
        self,
        user_id: str,
        limit: int,
        after: Cursor | None = None,
        before: Cursor | None = None,
    ) -> tuple[list[ItemRecord], bool]:
        """Up to `limit` items newest first, and whether more follow: older ones after
        `after`, or with `before` (the gallery's Previous) the newer ones just before it."""
        query = select(WishlistItem).where(WishlistItem.user_id == user_id)
        if after is not None:
            query = query.where(_older_than(after))
        if before is not None:
            query = query.where(_newer_than(before))
            query = query.order_by(WishlistItem.created_at.asc(), WishlistItem.id.asc())
        else:
            query = query.order_by(WishlistItem.created_at.desc(), WishlistItem.id.desc())
        with self._sessions() as session:
            rows = session.scalars(query.limit(limit + 1)).all()
            records = [_record(r) for r in rows[:limit]]
            return (records[::-1] if before is not None else records), len(rows) > limit

    def count(self, user_id: str, newer_than: Cursor | None = None) -> int:
        """How many items the user has (newer than a cursor: the page's position)."""
        query = select(func.count()).select_from(WishlistItem)
        query = query.where(WishlistItem.user_id == user_id)
        if newer_than is not None:
            query = query.where(_newer_than(newer_than))
        with self._sessions() as session:
            return int(session.scalar(query) or 0)

    def get(self, user_id: str, item_id: str) -> ItemRecord | None:
        with self._sessions() as session:
            row = self._owned(session, user_id, item_id)
            return _record(row) if row else None

    def create(
        self,
        user_id: str,
        title: str,
        *,
        image_key: str | None = None,
        legacy_image_url: str | None = None,
        image_version: int = 0,
        at: datetime | None = None,
    ) -> ItemRecord:
        """A new item; the image columns are for seeding and migrations of old data."""
        now = at or _now()
        row = WishlistItem(
            id=str(uuid.uuid4()),
            user_id=user_id,
            title=title,
            image_key=image_key,
            legacy_image_url=legacy_image_url,
            image_version=image_version,
            created_at=now,
            updated_at=now,
        )
        with self._sessions.begin() as session:
            session.add(row)
        return _record(row)

    def update_title(self, user_id: str, item_id: str, title: str) -> ItemRecord | None:
        with self._sessions.begin() as session:
            row = self._owned(session, user_id, item_id, lock=True)
            if row is None:
                return None
            row.title = title
            row.updated_at = _now()
            session.flush()
            return _record(row)

    def set_image(self, user_id: str, item_id: str, key: str) -> ItemRecord | None:
        """Point the item at a new upload and bump the version, so its URL misses the cache."""
        with self._sessions.begin() as session:
            row = self._owned(session, user_id, item_id, lock=True)
            if row is None:
                return None
            row.image_key = key
            row.legacy_image_url = None
            row.image_version = row.image_version + 1
            row.updated_at = _now()
            session.flush()
            return _record(row)

    def delete(self, user_id: str, item_id: str) -> bool:
        with self._sessions.begin() as session:
            result = session.execute(
                delete(WishlistItem).where(
                    WishlistItem.id == item_id, WishlistItem.user_id == user_id
                )
            )
            return bool(getattr(result, "rowcount", 0))

    @staticmethod
    def _owned(
        session: Session, user_id: str, item_id: str, lock: bool = False
    ) -> WishlistItem | None:
        query = select(WishlistItem).where(
            WishlistItem.id == item_id, WishlistItem.user_id == user_id
        )
        if lock:
            query = query.with_for_update()
        return session.scalars(query).one_or_none()
