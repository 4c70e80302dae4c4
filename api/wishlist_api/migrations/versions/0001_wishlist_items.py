"""Create wishlist_items.

Revision ID: 0001
Revises:
Create Date: 2026-01-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wishlist_items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("image_key", sa.String(1024), nullable=True),
        sa.Column("legacy_image_url", sa.Text(), nullable=True),
        sa.Column("image_version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "image_key IS NULL OR legacy_image_url IS NULL", name="ck_wishlist_items_one_image"
        ),
        sa.CheckConstraint("image_version >= 0", name="ck_wishlist_items_version"),
    )
    op.create_index(
        "ix_wishlist_items_user_created", "wishlist_items", ["user_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_wishlist_items_user_created", table_name="wishlist_items")
    op.drop_table("wishlist_items")
