"""The one path every RPC takes, applied where the services are registered.

Built from the service descriptors instead of the generated `add_*_to_server`, so each
method is one handler doing, in this order:
1. bytes that are not a valid request message: INVALID_ARGUMENT, one log line (grpc
   itself would log a traceback and answer UNKNOWN, outside our metrics);
2. the drain gate: a call arriving while the server drains for shutdown is UNAVAILABLE,
   which clients retry (see drain.py);
3. admin calls, the methods the proto marks `option (wishlist.images.v1.admin) = true`
   (ADMIN_METHODS, read from the descriptors): over plaintext from another host
   PERMISSION_DENIED (transport.py), then the bearer token, else UNAUTHENTICATED;
4. the servicer's method, plain domain code: no try/except, no auth, no metrics;
5. the outcome, counted once (image_resolver_rpcs{method, code}, latency): a domain error
   becomes its status here (a broken value rule, InvalidValue or FieldError, is
   INVALID_ARGUMENT naming the field), anything unexpected is logged with its traceback
   and answered as a bare INTERNAL.
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass
from google.rpc import status_pb2

from image_resolver import metrics
from image_resolver.errors import NotConfigured, NotFound, Unauthenticated
from image_resolver.grpc_api.drain import Gate
from image_resolver.grpc_api.status import (
    field_error_status,
    invalidation_failure_status,
    outcome_unknown_status,
    plain_status,
    to_grpc,
)
from image_resolver.grpc_api.transport import AdminTransport
from image_resolver.invalidation import InvalidationFailed
from image_resolver.rollout.store import RevisionConflict, StoreError, WriteOutcomeUnknown
from wishlist_runtime import values
from wishlist_runtime.admin import ADMIN_METHODS
from wishlist_runtime.logsetup import request_id

__all__ = ["ADMIN_METHODS", "Policy", "add_service"]

log = logging.getLogger(__name__)

Behaviour = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]

PLAINTEXT_ADMIN = (
    "admin calls need TLS unless they come from this host (or ADMIN_ALLOW_PLAINTEXT=true)"
)


@dataclass(frozen=True)
class Policy:
    """What the pipeline enforces on one server."""

    gate: Gate
    transport: AdminTransport
    admin_token: bytes | None  # None: admin calls are refused (no ADMIN_TOKEN configured)


class _Malformed:
    """Stands in for a request whose bytes did not parse."""


MALFORMED = _Malformed()


def _lenient(parse: Callable[[bytes], Message]) -> Callable[[bytes], Message | _Malformed]:
    def deserialize(data: bytes) -> Message | _Malformed:
        try:
            return parse(data)
        except DecodeError:
            return MALFORMED

    return deserialize


class _Refused(Exception):
    """Refused before the servicer ran; `log_line` None: not worth a log line (draining)."""

    def __init__(self, code: grpc.StatusCode, message: str, log_line: str | None) -> None:
        super().__init__(message)
        self.status = plain_status(code, message)
        self.log_line = log_line


def _authenticate(context: grpc.aio.ServicerContext[Any, Any], token: bytes | None) -> None:
    """Bearer token check in constant time; raises Unauthenticated."""
    if token is None:
        raise Unauthenticated("admin calls are disabled: no ADMIN_TOKEN is configured")
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, presented = value.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), token):
                return
    raise Unauthenticated("missing or wrong admin bearer token")


def _status_for(exc: Exception) -> status_pb2.Status | None:
    """The status a domain error maps to; None for a bug."""
    if isinstance(exc, values.InvalidValue):  # FieldError included
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
    if isinstance(exc, WriteOutcomeUnknown):
        return outcome_unknown_status(str(exc))
    if isinstance(exc, StoreError):
        return plain_status(
            grpc.StatusCode.UNAVAILABLE, "rollout store unavailable, nothing was written; try again"
        )
    return None


def _request_id(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    """The caller's x-request-id when it is a sane token (the contract's rule), else a new one."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id":
            return values.request_id(value) or uuid.uuid4().hex
    return uuid.uuid4().hex


def _refusal(
    exc: Exception, method: str, context: grpc.aio.ServicerContext[Any, Any]
) -> grpc.Status:
    """The status for a failed call, with its one log line; called while handling `exc`."""
    if isinstance(exc, _Refused):
        if exc.log_line is not None:
            log.info(exc.log_line, extra={"method": method})
        return to_grpc(exc.status)
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
    return to_grpc(status)


def _pipeline(method: MethodDescriptor, behaviour: Behaviour, policy: Policy) -> Behaviour:
    name = method.name
    gate = policy.gate
    admin = method.full_name in ADMIN_METHODS
    malformed = f"request is not a valid {method.input_type.name} message"
    ok = metrics.RPCS.labels(name, "OK")
    latency = metrics.RPC_SECONDS.labels(name)

    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        start = time.perf_counter()
        try:
            if request is MALFORMED:
                raise _Refused(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    malformed,
                    "request refused: malformed message",
                )
            if not gate.arrived():
                raise _Refused(grpc.StatusCode.UNAVAILABLE, "server is shutting down; retry", None)
            if admin:
                if not policy.transport.permits(context):
                    raise _Refused(
                        grpc.StatusCode.PERMISSION_DENIED,
                        PLAINTEXT_ADMIN,
                        "request refused: admin call over plaintext",
                    )
                _authenticate(context, policy.admin_token)
            gate.in_flight += 1
            try:
                response = await behaviour(request, context)
            finally:
                gate.in_flight -= 1
        except grpc.aio.AbortError:  # a handler aborted by itself: count what it sent
            metrics.RPCS.labels(name, (context.code() or grpc.StatusCode.UNKNOWN).name).inc()
            latency.observe(time.perf_counter() - start)
            raise
        except Exception as exc:
            code = _refusal(exc, name, context)
            metrics.RPCS.labels(name, code.code.name).inc()
            latency.observe(time.perf_counter() - start)
            await context.abort(code.code, code.details, code.trailing_metadata)
        ok.inc()
        latency.observe(time.perf_counter() - start)
        return response

    return call


def add_service(
    server: grpc.aio.Server, servicer: object, service: ServiceDescriptor, policy: Policy
) -> None:
    """Serve `servicer`'s unary methods under `service`'s full name, each through the
    pipeline (admin calls as the proto declares them)."""
    handlers = {}
    for method in service.methods:
        request = GetMessageClass(method.input_type)
        response = GetMessageClass(method.output_type)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            _pipeline(method, getattr(servicer, method.name), policy),
            request_deserializer=_lenient(request.FromString),
            response_serializer=response.SerializeToString,
        )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service.full_name, handlers),)
    )
    server.add_registered_method_handlers(service.full_name, handlers)
