"""A database that is locked or down gives a quick 503 with Retry-After, readiness follows
the database and liveness does not (issue 12, database faults). Each test has its own
database, so the shared one is never locked or stopped."""

from __future__ import annotations

import glob
import os
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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


def _cluster_pids(stop: Path) -> list[int]:
    """The postmaster of a throwaway cluster and every process it forked (backends)."""
    match = re.search(r'-D "([^"]+)" -m fast', stop.read_text())
    assert match, "stop script names no data directory"
    postmaster = int((Path(match.group(1)) / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if int(fields.get("PPid", "0").strip()) == postmaster:
            pids.append(int(status.parent.name))
    return pids


def test_postgres_hung_by_sigstop_is_a_quick_503_then_recovers(
    throwaway_postgres: tuple[str, Path], user: str
) -> None:
    """A stopped server accepts nothing and answers nothing: no lock, connect or pool
    timeout fires (measured before the fix: 16 requests stuck 15.1 s for a 15 s stop).
    Each call's deadline gives 503 + Retry-After, and the API recovers by itself."""
    url, stop = throwaway_postgres
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = api_settings(
        url, "127.0.0.1:1", images_enabled=False, database_statement_timeout_seconds=1.5
    )
    api = BackgroundApi(create_app(settings)).start()
    pids: list[int] = []
    try:
        with httpx.Client(base_url=api.url, timeout=30, headers=bearer(user)) as http:
            for _ in range(4):  # warm the pool: the hang must meet open connections
                assert http.post("/api/wishlist", json={"title": "before"}).status_code == 201
            pids = _cluster_pids(stop)
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)

            def one(_: int) -> tuple[httpx.Response, float]:
                return _timed(http, "GET", "/api/wishlist")

            with ThreadPoolExecutor(16) as pool:
                results = list(pool.map(one, range(16)))
            for resp, elapsed in results:
                _assert_unavailable(resp, elapsed)
            resp, elapsed = _timed(http, "GET", "/readyz")
            _assert_unavailable(resp, elapsed)
            assert http.get("/healthz").json() == {"status": "ok"}

            for pid in pids:
                os.kill(pid, signal.SIGCONT)
            pids = []
            deadline = time.monotonic() + 15
            while (resp := http.get("/api/wishlist")).status_code != 200:
                assert time.monotonic() < deadline, resp.text
                time.sleep(0.2)
            assert {i["title"] for i in resp.json()["items"]} == {"before"}
            assert http.get("/readyz").json() == {"status": "ready"}
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        api.stop()


def test_sqlite_corrupt_is_503_database_error_and_not_ready(tmp_path: Path, user: str) -> None:
    """ "database disk image is malformed" was 49 x 500 under load, and /readyz (SELECT 1)
    stayed 200. A corrupt file is the database's fault: 503 with a clear code, not ready."""
    path = tmp_path / "wishlist.db"
    api = _own_api(f"sqlite:///{path}")
    try:
        with httpx.Client(base_url=api.url, timeout=30, headers=bearer(user)) as http:
            for n in range(30):
                assert http.post("/api/wishlist", json={"title": f"item {n}"}).status_code == 201
            data = bytearray(path.read_bytes())
            page = 4096
            for offset in range(page, len(data), page):  # every page but the header's
                data[offset : offset + page] = b"\xff" * min(page, len(data) - offset)
            with sqlite3.connect(path) as conn:  # fold the WAL in first, then break the file
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            path.write_bytes(bytes(data))
            for method, body in (("GET", None), ("POST", {"title": "after"})):
                resp = http.request(method, "/api/wishlist", json=body)
                assert_error(resp, 503, "database_error")
                assert int(resp.headers["retry-after"]) >= 1
                assert "malformed" not in resp.text and "sqlite" not in resp.text.lower()
            ready = http.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert http.get("/healthz").status_code == 200
    finally:
        api.stop()


def test_readiness_fails_on_a_schema_that_lost_its_tables(tmp_path: Path, user: str) -> None:
    path = tmp_path / "wishlist.db"
    api = _own_api(f"sqlite:///{path}")
    try:
        with httpx.Client(base_url=api.url, timeout=30, headers=bearer(user)) as http:
            assert http.get("/readyz").json() == {"status": "ready"}
            with sqlite3.connect(path) as conn:
                conn.execute("DROP TABLE alembic_version")
                conn.execute("DROP TABLE wishlist_items")
            ready = http.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["error"]["code"] == "schema_out_of_date"
            assert_error(http.get("/api/wishlist"), 503, "database_unavailable")  # no such table
    finally:
        api.stop()
