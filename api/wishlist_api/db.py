"""Engine and session factory for SQLite (default, embedded) or PostgreSQL (DATABASE_URL).

Every wait is bounded (lock, connect, pool checkout): a locked or unreachable database
must turn into a quick 503 the client can retry, not a request that hangs for its proxy's
timeout (see errors.py for the mapping)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_LOCK_TIMEOUT = 2.0
DEFAULT_CONNECT_TIMEOUT = 3
DEFAULT_STATEMENT_TIMEOUT = 4.0
POOL_SIZE, MAX_OVERFLOW = 10, 10
# A peer that vanished (a node lost, a partition) is noticed in about 10 + 3 * 5 s
# instead of the kernel's two hours; a hung but connected server is the deadline's job.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def make_engine(
    url: str,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
) -> Engine:
    """An engine tuned per backend; creates the SQLite file's folder, never the schema."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Requests run in a thread pool, so connections move between threads. `timeout` is
        # sqlite3's busy handler: how long a write waits for another writer's lock.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": lock_timeout}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=connect_timeout,
        connect_args={
            "connect_timeout": connect_timeout,
            "options": (
                f"-c lock_timeout={int(lock_timeout * 1000)}"
                f" -c statement_timeout={int(statement_timeout * 1000)}"
            ),
            **KEEPALIVES,
        },
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while one writer commits; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
