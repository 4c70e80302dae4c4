"""The FastAPI application: wiring only (settings -> engine, repository, resolver client)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from wishlist_api import errors, health, limits
from wishlist_api.auth import Authenticator
from wishlist_api.db import session_factory
from wishlist_api.images import DisabledImageUrls, ImageUrls, ResolverImageUrls
from wishlist_api.migrate import check_schema
from wishlist_api.pages import router as pages_router
from wishlist_api.pages import static_files
from wishlist_api.repository import WishlistRepository
from wishlist_api.routes import router
from wishlist_api.settings import ApiSettings
from wishlist_images_client import AsyncImageResolverClient

DESCRIPTION = """\
Wishlist items with CDN image URLs. `imageUrl` comes from image-resolver: CloudFront for
users in the CDN rollout, S3 otherwise; stored (legacy) URLs are never returned as is.

Errors are always `{"error": {"code", "message", "details"?}}`: 400 `malformed_json`,
401 `unauthenticated`, 403 `forbidden`, 404 `not_found` (other users' items too),
413 `payload_too_large` (bodies over 16 KiB by default), 422 `validation_failed` (body,
query or path; `details` lists fields), 503 `resolver_unavailable` (uploads only; reads
degrade to `imageStatus: unavailable`), 503 `database_unavailable` and 503
`auth_unavailable` (the JWKS endpoint is down; both with `Retry-After`).
"""


def create_app(
    settings: ApiSettings, *, engine: Engine | None = None, images: ImageUrls | None = None
) -> FastAPI:
    """`engine`/`images` are injectable for tests; by default both come from settings."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = engine or settings.make_engine()
        await run_in_threadpool(check_schema, db)  # fail fast on a schema that is behind
        app.state.engine = db
        repository = WishlistRepository(session_factory(db), settings.database_deadline())
        app.state.repository = repository
        client: AsyncImageResolverClient | None = None
        if images is not None:
            app.state.images = images
        elif settings.images_enabled:
            client = AsyncImageResolverClient(
                settings.resolver_target,
                timeout=settings.resolver_timeout_seconds,
                credentials=settings.resolver_credentials(),
                load_balancing=settings.resolver_load_balancing,
            )
            app.state.images = ResolverImageUrls(client, settings.resolver_timeout_seconds)
        else:
            app.state.images = DisabledImageUrls()
        try:
            yield
        finally:
            repository.close()
            if client is not None:
                await client.close()
            if engine is None:
                db.dispose()

    app = FastAPI(
        title="Wishlist API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # Starlette's trailing-slash redirect builds its Location from the request's Host
        # header (an open redirect to whatever host was sent): `/gallery/` is a 404 instead.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.authenticator = Authenticator(settings)
    errors.install(app, [*router.routes, *pages_router.routes])
    limits.install(app, settings.max_body_bytes)
    app.include_router(router)
    app.include_router(health.router)
    app.include_router(pages_router)
    app.mount("/static", static_files, name="static")
    return app
