"""The one definition of every call both clients make: which RPC, whether it is an admin
call, how its answer is decoded, and the deadline rule. `client.py` and `aio.py` are thin
loops over this table; tests/client/test_client_parity.py fails when either drifts from it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import grpc

from wishlist_images_client.calls import ResolverCallError
from wishlist_images_client.types import (
    RolloutInfo,
    batch_from,
    invalidations_from,
    policy_from,
    resolved_from,
    rollout_from,
    upload_from,
    uploaded_from,
    urls_from,
)

# Admin calls touch CloudFront or a store's conditional write: they get at least this long.
ADMIN_MIN_TIMEOUT = 10.0


@dataclass(frozen=True)
class Call:
    service: str  # "images" (ImageUrlService) or "rollout" (RolloutService)
    method: str  # the RPC's name on the stub
    decode: Callable[[Any], Any]
    admin: bool = False  # sends the admin bearer token


def _rollout_info(resp: Any) -> RolloutInfo:
    return replace(
        rollout_from(resp.rollout),
        store=resp.store,
        store_healthy=resp.store_healthy,
        store_error=resp.store_error,
    )


CALLS: dict[str, Call] = {
    "resolve": Call("images", "ResolveImageUrl", lambda r: resolved_from(r.image)),
    "batch_resolve": Call("images", "BatchResolveImageUrls", batch_from),
    # The same RPC decoded to URLs only, for pages (the wishlist API).
    "batch_resolve_urls": Call("images", "BatchResolveImageUrls", urls_from),
    "create_upload_url": Call("images", "CreateUploadUrl", upload_from),
    "verify_upload": Call("images", "VerifyUpload", uploaded_from),
    "upload_policy": Call("images", "GetUploadPolicy", policy_from),
    "invalidate": Call(
        "images", "InvalidateImages", lambda r: list(invalidations_from(r)), admin=True
    ),
    "get_rollout": Call("rollout", "GetRollout", _rollout_info, admin=True),
    "set_rollout": Call(
        "rollout",
        "SetRollout",
        lambda r: (rollout_from(r.before), rollout_from(r.after)),
        admin=True,
    ),
}


Metadata = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Bound:
    """A call of the table on one client's channel: its stub method and fixed metadata,
    looked up once when the client is made instead of on every call."""

    call: Call
    rpc: Any
    metadata: Metadata

    def metadata_with(self, request_id: str | None) -> Metadata:
        return (*self.metadata, ("x-request-id", request_id)) if request_id else self.metadata


def bind(stubs: Mapping[str, Any], admin_token: str | None) -> dict[str, Bound]:
    """Every call of the table bound to `stubs` (by service); admin calls carry the token."""
    admin: Metadata = (("authorization", f"Bearer {admin_token}"),) if admin_token else ()
    return {
        name: Bound(call, getattr(stubs[call.service], call.method), admin if call.admin else ())
        for name, call in CALLS.items()
    }


class Deadline:
    """One deadline for a whole call, however many RPCs it takes (a large batch is split
    into several): each RPC gets what is left, none starts once it has passed."""

    def __init__(self, call: Call, timeout: float) -> None:
        budget = max(timeout, ADMIN_MIN_TIMEOUT) if call.admin else timeout
        self._ends = time.monotonic() + budget

    def left(self) -> float:
        remaining = self._ends - time.monotonic()
        if remaining <= 0:
            raise ResolverCallError(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
        return remaining
