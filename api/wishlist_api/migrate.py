"""Schema migrations (Alembic, shipped in the package): apply them, or check they were applied.

The API never creates tables on import or start-up: `wishlist-api migrate` does, once per
release, and `serve` refuses to start on a schema that is behind.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


class SchemaOutOfDate(Exception):
    """The database is not at the code's head revision."""


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "wishlist_api:migrations")
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations on this engine (the URL is never put in config: it may hold a password)."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def check_schema(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"database schema is at {current or 'nothing'}, code needs {head}: "
            "run `wishlist-api migrate`"
        )
