"""Refuse request bodies over a small limit before anything buffers them.

FastAPI reads the whole body before it checks the token or the schema, so without this
one request of 200 MB grows the process by ~600 MB. Pure ASGI, so the limit applies
before any reading: a declared Content-Length over the limit is answered at once, and
a chunked body is counted as it streams in and cut off at the first byte too many.
Both answers close the connection, so the client stops sending.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wishlist_api.errors import error_response

_CLOSE = {"Connection": "close"}


class BodyTooLarge(HTTPException):
    """Raised from receive(). An HTTPException, because FastAPI's body parsing turns any
    other exception into 400 but passes these on to the exception handlers."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, headers=_CLOSE)
        self.limit = limit


def too_large(limit: int) -> JSONResponse:
    message = f"request body is larger than {limit} bytes"
    return error_response(413, "payload_too_large", message, headers=_CLOSE)


class BodyLimit:
    """ASGI middleware: at most `max_bytes` of request body reach the application."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await too_large(self.max_bytes)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)


def _declared_length(scope: Scope) -> int:
    """Content-Length, or 0 when absent (chunked); the server has already refused
    malformed values, so digits are all that can arrive."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return 0


async def _too_large_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    return too_large(exc.limit)


def install(app: FastAPI, max_bytes: int) -> None:
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
    app.add_exception_handler(BodyTooLarge, _too_large_handler)
