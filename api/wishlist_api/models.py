"""The one table: wishlist items. New rows store an S3 key, old rows a legacy URL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wishlist_runtime.values import MAX_KEY_BYTES, MAX_USER_ID_CHARS

MAX_TITLE_CHARS = 200
MAX_KEY_CHARS = MAX_KEY_BYTES  # S3's key limit; the resolver checks the bytes


class Base(DeclarativeBase):
    pass


class WishlistItem(Base):
    """A user's wishlist entry. At most one of image_key / legacy_image_url is set."""

    __tablename__ = "wishlist_items"
    __table_args__ = (
        CheckConstraint(
            "image_key IS NULL OR legacy_image_url IS NULL", name="ck_wishlist_items_one_image"
        ),
        CheckConstraint("image_version >= 0", name="ck_wishlist_items_version"),
        # Serves the list query: a user's items, newest first, keyset-paginated.
        Index("ix_wishlist_items_user_created", "user_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(MAX_USER_ID_CHARS), nullable=False)
    title: Mapped[str] = mapped_column(String(MAX_TITLE_CHARS), nullable=False)
    # "uploads/wishlist/<user>/<id>.jpg": what new uploads store.
    image_key: Mapped[str | None] = mapped_column(String(MAX_KEY_CHARS), nullable=True)
    # An S3 URL written before the CDN existed; resolved on read, never returned as is.
    legacy_image_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Bumped on every confirmed upload; sent as the CDN URL's ?v= cache buster.
    image_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
