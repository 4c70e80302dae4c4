"""Register our services on the aio server, one guarded handler per method.

Built from the service descriptor instead of the generated `add_*_to_server`, so that
every call passes two checks before the servicer sees it:
- bytes that are not a valid request message: INVALID_ARGUMENT, one log line, counted
  (grpc itself would log a traceback and answer UNKNOWN, outside our metrics);
- a call arriving while the server drains for shutdown: UNAVAILABLE, which clients retry;
- an admin call over plaintext from another host: PERMISSION_DENIED (see transport.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

from image_resolver import metrics
from image_resolver.grpc_api.drain import Gate
from image_resolver.grpc_api.transport import AdminTransport

log = logging.getLogger(__name__)

Behaviour = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


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


PLAINTEXT_ADMIN = (
    "admin calls need TLS unless they come from this host (or ADMIN_ALLOW_PLAINTEXT=true)"
)


async def _refuse(
    context: grpc.aio.ServicerContext[Any, Any], name: str, code: grpc.StatusCode, why: str
) -> None:
    metrics.RPCS.labels(name, code.name).inc()
    await context.abort(code, why)


def _guarded(
    name: str, type_name: str, behaviour: Behaviour, gate: Gate, admin: AdminTransport | None
) -> Behaviour:
    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        if request is MALFORMED:
            log.info("request refused: malformed message", extra={"method": name})
            await _refuse(
                context,
                name,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"request is not a valid {type_name} message",
            )
        if not gate.arrived():
            await _refuse(
                context, name, grpc.StatusCode.UNAVAILABLE, "server is shutting down; retry"
            )
        if admin is not None and not admin.permits(context):
            log.info("request refused: admin call over plaintext", extra={"method": name})
            await _refuse(context, name, grpc.StatusCode.PERMISSION_DENIED, PLAINTEXT_ADMIN)
        gate.in_flight += 1
        try:
            return await behaviour(request, context)
        finally:
            gate.in_flight -= 1

    return call


def add_service(
    server: grpc.aio.Server,
    servicer: object,
    service: ServiceDescriptor,
    *,
    gate: Gate,
    admin: AdminTransport,
    admin_methods: Collection[str],
) -> None:
    """Serve `servicer`'s unary methods under `service`'s full name; `admin_methods` carry
    the bearer token and follow the `admin` transport policy."""
    handlers = {}
    for method in service.methods:
        request = GetMessageClass(method.input_type)
        response = GetMessageClass(method.output_type)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            _guarded(
                method.name,
                request.DESCRIPTOR.name,
                getattr(servicer, method.name),
                gate,
                admin if method.name in admin_methods else None,
            ),
            request_deserializer=_lenient(request.FromString),
            response_serializer=response.SerializeToString,
        )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service.full_name, handlers),)
    )
    server.add_registered_method_handlers(service.full_name, handlers)
