"""Fixtures for the wishlist API: a migrated database (PostgreSQL when DATABASE_URL is set,
else a SQLite file), a real resolver and the API under uvicorn, all on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, inspect, text

from image_resolver.config import load_settings as load_resolver_settings
from tests.conftest import BUCKET, CDN
from tests.support.background_api import BackgroundApi
from wishlist_api.app import create_app
from wishlist_api.db import make_engine, session_factory
from wishlist_api.migrate import upgrade
from wishlist_api.repository import WishlistRepository
from wishlist_api.settings import ApiSettings, load_settings
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_dev.localaws import LocalAws
from wishlist_dev.tokens import mint_token

JWT_SECRET = "wishlist-api-test-secret-0123456789abcdef"
_backend: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _backend:
        terminalreporter.write_line(f"wishlist-api tests ran on: {_backend[0]}")


def _reset(engine: Engine) -> None:
    """A shared PostgreSQL database: drop what a previous run left, then migrate from zero."""
    present = set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        for table in ("wishlist_items", "alembic_version"):
            if table in present:
                conn.execute(text(f"DROP TABLE {table}"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        if not url.startswith("postgresql"):
            pytest.fail("DATABASE_URL must be a postgresql+psycopg:// URL for these tests")
        _backend.append("PostgreSQL (DATABASE_URL)")
        return url
    _backend.append("SQLite (temporary file; set DATABASE_URL for PostgreSQL)")
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'wishlist.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    _reset(engine)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def repo(engine: Engine) -> WishlistRepository:
    return WishlistRepository(session_factory(engine))


def resolver_settings(local_aws: LocalAws, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "cloudfront_distribution_domain": CDN,
        "s3_bucket": BUCKET,
        "aws_region": "us-east-1",
        "s3_endpoint_url": local_aws.endpoint,
        "s3_fallback_mode": "presigned",
        "grpc_port": 0,
        "metrics_port": 0,
        "log_format": "text",
        "rollout_store": None,
        "cdn_rollout_percent": 100,
    }
    return load_resolver_settings(**{**values, **overrides})


@pytest.fixture(scope="session")
def resolver(local_aws: LocalAws) -> Iterator[EmbeddedResolver]:
    """The shared resolver: CDN for everyone."""
    server = EmbeddedResolver(resolver_settings(local_aws), session=local_aws.session()).start()
    yield server
    server.stop(grace=0.1)


def api_settings(database_url: str, resolver_target: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "database_url": database_url,
        "resolver_target": resolver_target,
        "jwt_secret": JWT_SECRET,
        "jwt_public_key": None,
        "jwt_jwks_url": None,
        "jwt_issuer": None,
        "jwt_audience": None,
        "images_enabled": True,
        "resolver_timeout_seconds": 0.5,
    }
    return load_settings(**{**values, **overrides})


@pytest.fixture(scope="session")
def api(engine: Engine, database_url: str, resolver: EmbeddedResolver) -> Iterator[BackgroundApi]:
    server = BackgroundApi(create_app(api_settings(database_url, resolver.target), engine=engine))
    yield server.start()
    server.stop()


@pytest.fixture
def serve_api(engine: Engine) -> Iterator[Callable[[ApiSettings], BackgroundApi]]:
    """Another API instance with these settings on the shared engine; stopped after the test."""
    started: list[BackgroundApi] = []

    def serve(settings: ApiSettings) -> BackgroundApi:
        server = BackgroundApi(create_app(settings, engine=engine)).start()
        started.append(server)
        return server

    yield serve
    for server in started:
        server.stop()


@pytest.fixture
def start_api(
    serve_api: Callable[[ApiSettings], BackgroundApi], database_url: str
) -> Callable[..., BackgroundApi]:
    """Another API instance (e.g. on its own resolver); stopped after the test."""

    def start(resolver_target: str, **overrides: Any) -> BackgroundApi:
        return serve_api(api_settings(database_url, resolver_target, **overrides))

    return start


@pytest.fixture
def http(api: BackgroundApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=10) as client:
        yield client


@pytest.fixture
def user() -> str:
    """A fresh user per test, so tests never see each other's rows."""
    return f"u-{uuid.uuid4().hex[:16]}"


def bearer(user_id: str, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(JWT_SECRET, user_id, **claims)}"}


def run_api_serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`wishlist-api serve` in a child process with these variables over the test's own
    (a JWT secret included), as an operator starts it; for start-up refusals."""
    exe = Path(sys.executable).with_name("wishlist-api")
    return subprocess.run(
        [str(exe), "serve", "--port", "0"],
        env={**os.environ, "JWT_SECRET": JWT_SECRET, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
