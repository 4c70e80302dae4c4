"""One error shape for every failure: `{"error": {"code", "message", "details"?}}`.

Status policy (also in the OpenAPI description):
- 400 `malformed_json`: the body is not JSON.
- 422 `validation_failed`: well-formed input that breaks the schema (body, query or path,
  e.g. a non-UUID id or limit > 100), or a contract value rule (wishlist_runtime.values,
  InvalidValue); `details` names each field, never echoes its value.
- 401 `unauthenticated`, 403 `forbidden`, 404 `not_found` (also for other users' items),
  405 `method_not_allowed`, 413 `payload_too_large`, 503 `resolver_unavailable`,
  500 `internal` (a bug; logged, never a traceback).
- 503 `database_unavailable` + Retry-After: the database is locked past its timeout,
  down, hung past DATABASE_STATEMENT_TIMEOUT_SECONDS or out of connections. Transient, so
  clients and proxies may retry; never 500.
- 503 `database_error` + Retry-After: any other driver error (a corrupt file, a missing
  table); `/readyz` fails too, so the replica leaves the load balancer.
- 503 `auth_unavailable` + Retry-After: the JWKS endpoint failed or timed out (auth.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from wishlist_api.deadline import DatabaseTimeout
from wishlist_runtime.values import InvalidValue

log = logging.getLogger(__name__)

# Lock timeouts, refused or dropped connections, an exhausted pool: retryable, not bugs.
DATABASE_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    DatabaseTimeout,
)
RETRY_AFTER_SECONDS = 2

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class ApiError(Exception):
    """A failure the client should see; `message` must be safe to show (no secrets, no URLs)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def not_found() -> ApiError:
    return ApiError(404, "not_found", "wishlist item not found")


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status, headers=headers)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = "no such route" if exc.status_code == 404 else code.replace("_", " ")
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return error_response(exc.status_code, code, message, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method of the path. Starlette names only the first route that matched, but
    FastAPI makes one route per method, so GET and PATCH on one path are two routes
    (and routes under include_router are not reachable from app.router as plain routes)."""
    methods: set[str] = set()
    for route in request.app.state.method_routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in errors):
        return error_response(400, "malformed_json", "request body is not valid JSON")
    # Only location and pydantic's message: the input itself may be large or sensitive.
    details = [
        {"field": _field(err.get("loc", ())), "message": str(err.get("msg", ""))} for err in errors
    ]
    return error_response(422, "validation_failed", "request is not valid", details[:20])


async def _invalid_value(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidValue)
    details = [{"field": exc.field, "message": exc.message}]
    return error_response(422, "validation_failed", "request is not valid", details)


def _database_failed(level: int, code: str, message: str) -> Any:
    """A handler answering 503 `code` with Retry-After; the log names the driver error's
    class only (its message can carry host names and SQL)."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        cause = type(getattr(exc, "orig", None) or exc).__name__
        log.log(level, "%s: %s", code, cause, extra={"path": request.url.path})
        return error_response(503, code, message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    return handle


_database_unavailable = _database_failed(
    logging.WARNING, "database_unavailable", "the database is unavailable; retry later"
)
# Any other driver error (a corrupt file, a table gone): the database's fault, never the
# client's, so 503, not 500; a client's mistakes are refused before any query.
_database_error = _database_failed(
    logging.ERROR, "database_error", "the database failed; retry later"
)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"path": request.url.path}, exc_info=exc)
    return error_response(500, "internal", "internal error")


def install(app: FastAPI, routes: Sequence[BaseRoute]) -> None:
    """Register the handlers; `routes` (full paths) are what 405's Allow header lists."""
    app.state.method_routes = list(routes)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidValue, _invalid_value)
    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, _database_unavailable)
    app.add_exception_handler(sa_exc.DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
