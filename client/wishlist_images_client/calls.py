"""Channel options, call errors and the batch-size rule the client applies.

Retries are gRPC's own (service config retryPolicy): UNAVAILABLE is retried with
exponential backoff inside the call's deadline. SetRollout is left out: it is a
compare-and-set, and a retried success would report a false conflict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist_images_client.types import (
    InvalidationsCreated,
    error_from,
    invalidations_from,
)

MAX_BATCH = 1000
IMAGE_SERVICE = "wishlist.images.v1.ImageUrlService"
ROLLOUT_SERVICE = "wishlist.images.v1.RolloutService"
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"  # the resolver's ErrorInfo reason (grpc_api/status.py)


class ResolverCallError(Exception):
    """A failed call: the gRPC code, the server's message and, for bad input, the field.

    `retry_after`: seconds the server suggests waiting (RetryInfo), if any.
    `created`: for InvalidateImages, the batches CloudFront accepted before the failure.
    `reason`: the server's ErrorInfo reason, if any (OUTCOME_UNKNOWN, see below).
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        field: str = "",
        retry_after: float | None = None,
        created: InvalidationsCreated | None = None,
        *,
        reason: str = "",
    ) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after
        self.created = created
        self.reason = reason

    @property
    def outcome_unknown(self) -> bool:
        """A write (SetRollout) may have taken effect, or may still: the server said so
        (DEADLINE_EXCEEDED with ErrorInfo reason OUTCOME_UNKNOWN: its store did not answer),
        or the deadline passed before any answer came. Read the state again; never treat
        this as a refusal."""
        return self.reason == OUTCOME_UNKNOWN or (
            self.code == grpc.StatusCode.DEADLINE_EXCEEDED and not self.reason
        )


# How a channel spreads calls over the addresses its target resolves to. gRPC's default,
# pick_first, sends every call to the first address: behind a headless Service's DNS name
# (or an ipv4: list) the other replicas would get nothing.
LOAD_BALANCING = ("round_robin", "pick_first")


def channel_options(
    max_attempts: int, load_balancing: str = "round_robin"
) -> list[tuple[str, Any]]:
    if load_balancing not in LOAD_BALANCING:
        raise ValueError(f"load_balancing must be one of {', '.join(LOAD_BALANCING)}")
    retry = {
        "maxAttempts": max(2, min(max_attempts, 5)),
        "initialBackoff": "0.05s",
        "maxBackoff": "1s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE"],
    }
    config = {
        "loadBalancingConfig": [{load_balancing: {}}],
        "methodConfig": [
            {
                "name": [
                    {"service": IMAGE_SERVICE},
                    {"service": ROLLOUT_SERVICE, "method": "GetRollout"},
                ],
                "retryPolicy": retry,
            }
        ],
    }
    return [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", json.dumps(config)),
        ("grpc.keepalive_time_ms", 30_000),
        # Reconnect soon after a resolver restart, so retries can land within a short deadline.
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 2000),
        # A DNS target is looked up again when a connection ends (the resolver's
        # max_connection_age GOAWAY), at most this often: new replicas get calls soon.
        ("grpc.dns_min_time_between_resolutions_ms", 5_000),
    ]


def tls_credentials(
    ca_file: str | Path | None = None,
    cert_file: str | Path | None = None,
    key_file: str | Path | None = None,
) -> grpc.ChannelCredentials:
    """Channel credentials for a TLS resolver: `ca_file` to trust (default: the system
    roots), and a client certificate and key when the server requires mTLS."""
    if (cert_file is None) != (key_file is None):
        raise ValueError("a client certificate needs its key, and the key its certificate")
    return grpc.ssl_channel_credentials(
        root_certificates=Path(ca_file).read_bytes() if ca_file else None,
        private_key=Path(key_file).read_bytes() if key_file else None,
        certificate_chain=Path(cert_file).read_bytes() if cert_file else None,
    )


def call_error(err: grpc.RpcError) -> ResolverCallError:
    """Decode a failed call, reading the BadRequest field from the rich status if present."""
    call: Any = err
    code = call.code() if callable(getattr(call, "code", None)) else grpc.StatusCode.UNKNOWN
    message = call.details() if callable(getattr(call, "details", None)) else str(err)
    status = rpc_status.from_call(call) if hasattr(call, "trailing_metadata") else None
    if status is None:
        return ResolverCallError(code, message or "")
    retry_after, created, reason = _details(status)
    field = error_from(status).field
    return ResolverCallError(code, message or "", field, retry_after, created, reason=reason)


def _details(
    status: status_pb2.Status,
) -> tuple[float | None, InvalidationsCreated | None, str]:
    retry_after: float | None = None
    created: InvalidationsCreated | None = None
    reason = ""
    for detail in status.details:
        retry = error_details_pb2.RetryInfo()
        batches = pb.InvalidationsCreated()
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(retry):
            retry_after = retry.retry_delay.ToNanoseconds() / 1e9
        elif detail.Unpack(batches):
            created = InvalidationsCreated(invalidations_from(batches), batches.paths_created)
        elif detail.Unpack(info):
            reason = info.reason
    return retry_after, created, reason


def refused_as_too_many(exc: ResolverCallError) -> bool:
    """The resolver refused the whole batch for its size (its `max_batch` is smaller)."""
    return exc.code == grpc.StatusCode.INVALID_ARGUMENT and exc.field == "images"


def smaller_batch(exc: ResolverCallError, sent: int, published: int) -> int:
    """The batch size to retry with after a too-many refusal: the resolver's published
    `max_batch`, if it is smaller than what was sent; otherwise the refusal stands."""
    if 0 < published < sent:
        return published
    raise exc
