"""The one place where RPCs meet the domain: errors to statuses, metrics, request ids, auth.

Every servicer method is wrapped by `rpc(name)`, so handlers hold no try/except and
every method reports the same metrics. A client's mistake is INVALID_ARGUMENT naming
the field; anything unexpected is logged here and returned as a bare INTERNAL.
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.rpc import status_pb2

from image_resolver import metrics
from image_resolver.errors import FieldError, NotConfigured, NotFound, Unauthenticated
from image_resolver.grpc_api.status import (
    field_error_status,
    invalidation_failure_status,
    plain_status,
    to_grpc,
)
from image_resolver.invalidation import InvalidationFailed
from image_resolver.rollout.store import RevisionConflict, StoreError
from wishlist_runtime.logsetup import request_id

log = logging.getLogger(__name__)

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Handler = Callable[[Any, Req, grpc.aio.ServicerContext[Any, Any]], Awaitable[Resp]]


def _status_for(exc: Exception) -> status_pb2.Status | None:
    """The status a domain error maps to; None for a bug."""
    if isinstance(exc, FieldError):
        return field_error_status(exc)
    if isinstance(exc, Unauthenticated):
        return plain_status(grpc.StatusCode.UNAUTHENTICATED, str(exc))
    if isinstance(exc, RevisionConflict):
        return plain_status(grpc.StatusCode.ABORTED, str(exc))
    if isinstance(exc, NotConfigured):
        return plain_status(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
    if isinstance(exc, NotFound):
        return plain_status(grpc.StatusCode.NOT_FOUND, str(exc))
    if isinstance(exc, InvalidationFailed):
        return invalidation_failure_status(exc)
    if isinstance(exc, StoreError):
        return plain_status(grpc.StatusCode.UNAVAILABLE, "rollout store unavailable; try again")
    return None


def _request_id(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and isinstance(value, str) and value.isprintable():
            return value[:64]
    return uuid.uuid4().hex


def rpc(method: str) -> Callable[[Handler[Req, Resp]], Handler[Req, Resp]]:
    ok = metrics.RPCS.labels(method, "OK")
    latency = metrics.RPC_SECONDS.labels(method)

    def wrap(handler: Handler[Req, Resp]) -> Handler[Req, Resp]:
        @functools.wraps(handler)
        async def call(
            self: Any, request: Req, context: grpc.aio.ServicerContext[Any, Any]
        ) -> Resp:
            start = time.perf_counter()
            try:
                response = await handler(self, request, context)
            except grpc.aio.AbortError:
                metrics.RPCS.labels(method, (context.code() or grpc.StatusCode.UNKNOWN).name).inc()
                raise
            except Exception as exc:
                status = _status_for(exc)
                token = request_id.set(_request_id(context))
                try:
                    if status is None:
                        log.exception("unhandled error", extra={"method": method})
                        status = plain_status(grpc.StatusCode.INTERNAL, "internal error")
                    else:
                        log.info(
                            "request refused",
                            extra={"method": method, "status": status.code, "why": status.message},
                        )
                finally:
                    request_id.reset(token)
                code = to_grpc(status)
                metrics.RPCS.labels(method, code.code.name).inc()
                latency.observe(time.perf_counter() - start)
                await context.abort(code.code, code.details, code.trailing_metadata)
            ok.inc()
            latency.observe(time.perf_counter() - start)
            return response

        return call

    return wrap


def require_admin(context: grpc.aio.ServicerContext[Any, Any], token: bytes | None) -> None:
    """Bearer token check in constant time; raises Unauthenticated."""
    if token is None:
        raise Unauthenticated("admin calls are disabled: no ADMIN_TOKEN is configured")
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, presented = value.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), token):
                return
    raise Unauthenticated("missing or wrong admin bearer token")
