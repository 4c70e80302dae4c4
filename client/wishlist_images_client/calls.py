"""What the sync and async clients share: channel options, request building, error decoding.

Retries are gRPC's own (service config retryPolicy): UNAVAILABLE is retried with
exponential backoff inside the call's deadline. SetRollout is left out: it is a
compare-and-set, and a retried success would report a false conflict.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import grpc
from grpc_status import rpc_status

from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import rollout_service_pb2 as rpb
from wishlist_images_client.types import ImageRef, as_ref, error_from

MAX_BATCH = 1000
IMAGE_SERVICE = "wishlist.images.v1.ImageUrlService"
ROLLOUT_SERVICE = "wishlist.images.v1.RolloutService"


class ResolverCallError(Exception):
    """A failed call: the gRPC code, the server's message and, for bad input, the field."""

    def __init__(self, code: grpc.StatusCode, message: str, field: str = "") -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.field = field


def channel_options(max_attempts: int) -> list[tuple[str, Any]]:
    retry = {
        "maxAttempts": max(2, min(max_attempts, 5)),
        "initialBackoff": "0.05s",
        "maxBackoff": "1s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE"],
    }
    config = {
        "methodConfig": [
            {
                "name": [
                    {"service": IMAGE_SERVICE},
                    {"service": ROLLOUT_SERVICE, "method": "GetRollout"},
                ],
                "retryPolicy": retry,
            }
        ]
    }
    return [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", json.dumps(config)),
        ("grpc.keepalive_time_ms", 30_000),
        # Reconnect soon after a resolver restart, so retries can land within a short deadline.
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 2000),
    ]


def metadata(admin_token: str | None, request_id: str | None = None) -> list[tuple[str, str]]:
    md = []
    if admin_token:
        md.append(("authorization", f"Bearer {admin_token}"))
    if request_id:
        md.append(("x-request-id", request_id))
    return md


def call_error(err: grpc.RpcError) -> ResolverCallError:
    """Decode a failed call, reading the BadRequest field from the rich status if present."""
    call: Any = err
    code = call.code() if callable(getattr(call, "code", None)) else grpc.StatusCode.UNKNOWN
    message = call.details() if callable(getattr(call, "details", None)) else str(err)
    status = rpc_status.from_call(call) if hasattr(call, "trailing_metadata") else None
    field = error_from(status).field if status is not None else ""
    return ResolverCallError(code, message or "", field)


def resolve_request(
    ref: ImageRef | str, user_id: str, include_fallback: bool = False
) -> pb.ResolveImageUrlRequest:
    return pb.ResolveImageUrlRequest(
        image=as_ref(ref), user_id=user_id, include_fallback=include_fallback
    )


def batch_requests(
    refs: Sequence[ImageRef | str], user_id: str, include_fallback: bool = False
) -> Iterator[pb.BatchResolveImageUrlsRequest]:
    """Split any number of refs into server-sized batches, keeping order."""
    for start in range(0, len(refs), MAX_BATCH):
        chunk: Iterable[ImageRef | str] = refs[start : start + MAX_BATCH]
        yield pb.BatchResolveImageUrlsRequest(
            images=[as_ref(r) for r in chunk], user_id=user_id, include_fallback=include_fallback
        )


def set_rollout_request(
    percent: int, cdn_enabled: bool, expected_revision: int, updated_by: str
) -> rpb.SetRolloutRequest:
    return rpb.SetRolloutRequest(
        percent=percent,
        cdn_enabled=cdn_enabled,
        expected_revision=expected_revision,
        updated_by=updated_by,
    )
