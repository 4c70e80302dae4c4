"""Kubernetes probes. Liveness (/healthz) only proves the process answers: restarting
pods does not fix a database outage. Readiness (/readyz) does one round trip to the
database, so a replica that cannot reach it leaves the load balancer until it can."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from wishlist_api.db import ping

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> dict[str, str]:
    """200 `ready`, or 503 `database_unavailable` (errors.py maps the database error)."""
    await run_in_threadpool(ping, request.app.state.engine)
    return {"status": "ready"}
