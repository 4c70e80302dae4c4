"""A database that is locked or down gives a quick 503 with Retry-After, readiness follows
the database and liveness does not (issue 12, database faults). Each test has its own
database, so the shared one is never locked or stopped."""

from __future__ import annotations

import glob
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.api.conftest import api_settings, bearer
from tests.api.test_wishlist_api import assert_error
from tests.support.background_api import BackgroundApi
from wishlist_api.app import create_app
from wishlist_api.db import make_engine
from wishlist_api.migrate import upgrade
from wishlist_api.repository import WishlistRepository

START_POSTGRES = Path(__file__).with_name("start_postgres.sh")
QUICK = 5.0  # seconds: the default lock/connect timeouts are well inside this


def _own_api(url: str) -> BackgroundApi:
    """An API that builds its own engine from settings (the production path), images off."""
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = api_settings(url, "127.0.0.1:1", images_enabled=False)
    return BackgroundApi(create_app(settings)).start()


def _assert_unavailable(resp: httpx.Response, elapsed: float) -> None:
    assert_error(resp, 503, "database_unavailable")
    assert int(resp.headers["retry-after"]) >= 1
    assert elapsed < QUICK, f"took {elapsed:.1f}s"
    assert "sqlite" not in resp.text.lower() and "postgres" not in resp.text.lower()


def _timed(
    call: httpx.Client, method: str, path: str, **kwargs: object
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    resp = call.request(method, path, **kwargs)  # type: ignore[arg-type]
    return resp, time.monotonic() - started


def test_sqlite_locked_by_another_writer_is_a_quick_503(tmp_path: Path, user: str) -> None:
    path = tmp_path / "locked.db"
    api = _own_api(f"sqlite:///{path}")
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        with httpx.Client(base_url=api.url, timeout=30, headers=bearer(user)) as http:
            assert http.post("/api/wishlist", json={"title": "before"}).status_code == 201
            locker.execute("BEGIN EXCLUSIVE")
            resp, elapsed = _timed(http, "POST", "/api/wishlist", json={"title": "locked"})
            _assert_unavailable(resp, elapsed)
            # WAL: readers are not blocked by the writer, and the database is reachable.
            assert [i["title"] for i in http.get("/api/wishlist").json()["items"]] == ["before"]
            assert http.get("/readyz").status_code == 200
            assert http.get("/healthz").status_code == 200
            locker.execute("ROLLBACK")
            assert http.post("/api/wishlist", json={"title": "after"}).status_code == 201
    finally:
        locker.close()
        api.stop()


def _postgres_binaries() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


@pytest.fixture
def throwaway_postgres(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(URL, stop script) of a cluster of its own; stopped and removed afterwards."""
    if not _postgres_binaries():
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    stop = tmp_path / "stop-postgres.sh"
    result = subprocess.run(
        ["bash", str(START_POSTGRES)],
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "PG_STOP_SCRIPT": str(stop)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        assert result.returncode == 0, result.stderr
        yield result.stdout.strip(), stop
    finally:
        if stop.exists():
            subprocess.run(["bash", str(stop)], capture_output=True, timeout=60, check=False)


def test_postgres_stopped_is_a_quick_503_and_not_ready(
    throwaway_postgres: tuple[str, Path], user: str
) -> None:
    url, stop = throwaway_postgres
    api = _own_api(url)
    try:
        with httpx.Client(base_url=api.url, timeout=30, headers=bearer(user)) as http:
            assert http.post("/api/wishlist", json={"title": "before"}).status_code == 201
            assert http.get("/readyz").json() == {"status": "ready"}
            subprocess.run(["bash", str(stop)], check=True, timeout=60)
            for method, body in (("GET", None), ("POST", {"title": "down"})):
                resp, elapsed = _timed(http, method, "/api/wishlist", json=body)
                _assert_unavailable(resp, elapsed)
            resp, elapsed = _timed(http, "GET", "/readyz")
            _assert_unavailable(resp, elapsed)
            assert http.get("/healthz").json() == {"status": "ok"}
    finally:
        api.stop()


def test_postgres_row_lock_is_a_quick_503(
    database_url: str, repo: WishlistRepository, user: str
) -> None:
    """lock_timeout reaches PostgreSQL: a rename waiting on another transaction's row lock
    gives up after DATABASE_LOCK_TIMEOUT_SECONDS instead of waiting for ever."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks with a timeout are PostgreSQL's (set DATABASE_URL)")
    item = repo.create(user, "locked row")
    api = BackgroundApi(create_app(api_settings(database_url, "127.0.0.1:1", images_enabled=False)))
    holder = make_engine(database_url)
    try:
        api.start()
        with holder.connect() as conn, conn.begin():
            lock = text("SELECT 1 FROM wishlist_items WHERE id = :id FOR UPDATE")
            conn.execute(lock, {"id": item.id})
            with httpx.Client(base_url=api.url, timeout=30, headers=bearer(user)) as http:
                resp, elapsed = _timed(
                    http, "PATCH", f"/api/wishlist/{item.id}", json={"title": "renamed"}
                )
                _assert_unavailable(resp, elapsed)
                assert http.get(f"/api/wishlist/{item.id}").json()["title"] == "locked row"
        assert repo.get(user, item.id).title == "locked row"  # type: ignore[union-attr]
    finally:
        api.stop()
        holder.dispose()
