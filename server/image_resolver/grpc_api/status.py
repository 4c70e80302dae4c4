"""Rich gRPC errors (google.rpc.Status with BadRequest details), for aborts and batch slots."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from image_resolver.errors import FieldError


def field_status(field: str, message: str) -> status_pb2.Status:
    """INVALID_ARGUMENT naming the field, with a BadRequest.FieldViolation for tooling."""
    violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=message)
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.BadRequest(field_violations=[violation]))
    return status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT, message=f"{field}: {message}", details=[detail]
    )


def field_error_status(exc: FieldError, prefix: str = "") -> status_pb2.Status:
    return field_status(prefix + exc.field, exc.message)


def plain_status(code: grpc.StatusCode, message: str) -> status_pb2.Status:
    return status_pb2.Status(code=code.value[0], message=message)


def to_grpc(status: status_pb2.Status) -> grpc.Status:
    return rpc_status.to_status(status)
