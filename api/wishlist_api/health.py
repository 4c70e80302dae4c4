"""Kubernetes probes. Liveness (/healthz) only proves the process answers: restarting
pods does not fix a database outage. Readiness (/readyz) reads the schema revision the code
needs (inside the database deadline), so a replica whose database is unreachable, hung,
corrupt or behind leaves the load balancer until it is fixed; `SELECT 1` would pass on a
database that has lost its tables."""

from __future__ import annotations

from fastapi import APIRouter, Request

from wishlist_api.errors import RETRY_AFTER_SECONDS, ApiError
from wishlist_api.migrate import SchemaOutOfDate, check_schema

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> dict[str, str]:
    """200 `ready`; 503 `schema_out_of_date`, or the database's own 503 (errors.py)."""
    try:
        await request.app.state.repository.run(check_schema, request.app.state.engine)
    except SchemaOutOfDate:
        raise ApiError(
            503,
            "schema_out_of_date",
            "the database schema is not the one this release needs: run `wishlist-api migrate`",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    return {"status": "ready"}
