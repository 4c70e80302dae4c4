"""Rich gRPC errors (google.rpc.Status with BadRequest details), for aborts and batch slots."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from image_resolver.invalidation import FailureKind, InvalidationFailed, InvalidationResult
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist_runtime.values import InvalidValue

_INVALIDATION_CODES: dict[FailureKind, grpc.StatusCode] = {
    "throttled": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "denied": grpc.StatusCode.PERMISSION_DENIED,
    "no_distribution": grpc.StatusCode.FAILED_PRECONDITION,
    "unavailable": grpc.StatusCode.UNAVAILABLE,
    "error": grpc.StatusCode.INTERNAL,
}


def field_status(field: str, message: str) -> status_pb2.Status:
    """INVALID_ARGUMENT naming the field, with a BadRequest.FieldViolation for tooling."""
    violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=message)
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.BadRequest(field_violations=[violation]))
    return status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT, message=f"{field}: {message}", details=[detail]
    )


def field_error_status(exc: InvalidValue, prefix: str = "") -> status_pb2.Status:
    return field_status(prefix + exc.field, exc.message)


def plain_status(code: grpc.StatusCode, message: str) -> status_pb2.Status:
    return status_pb2.Status(code=code.value[0], message=message)


OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"  # ErrorInfo reason: a write was sent, never answered
ERROR_DOMAIN = "wishlist.images.v1"


def outcome_unknown_status(message: str) -> status_pb2.Status:
    """DEADLINE_EXCEEDED (gRPC: "may be returned even if the operation has completed") with
    an ErrorInfo whose reason is OUTCOME_UNKNOWN: distinct from any refusal."""
    status = plain_status(grpc.StatusCode.DEADLINE_EXCEEDED, message)
    info = error_details_pb2.ErrorInfo(reason=OUTCOME_UNKNOWN, domain=ERROR_DOMAIN)
    status.details.append(_packed(info))
    return status


def _packed(message: Message) -> any_pb2.Any:
    detail = any_pb2.Any()
    detail.Pack(message)
    return detail


def invalidation_failure_status(exc: InvalidationFailed) -> status_pb2.Status:
    """The mapped code, a RetryInfo when waiting helps, and the batches already created
    (an InvalidationsCreated detail), so a caller knows what is being purged."""
    status = plain_status(_INVALIDATION_CODES[exc.kind], exc.message)
    if exc.retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(exc.retry_after * 1e9))
        status.details.append(_packed(error_details_pb2.RetryInfo(retry_delay=delay)))
    if exc.done:
        created = pb.InvalidationsCreated(
            invalidations=[pb.Invalidation(id=r.id, status=r.status) for r in exc.done],
            paths_created=sum(len(r.paths) for r in exc.done),
        )
        status.details.append(_packed(created))
    return status


def invalidations_to_wire(results: Sequence[InvalidationResult]) -> pb.InvalidateImagesResponse:
    return pb.InvalidateImagesResponse(
        invalidations=[
            pb.Invalidation(id=r.id, status=r.status, paths=list(r.paths)) for r in results
        ]
    )


def to_grpc(status: status_pb2.Status) -> grpc.Status:
    return rpc_status.to_status(status)
