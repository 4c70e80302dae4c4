"""The RPCs the client makes, typed, and the channel that sends them, blocking or asyncio.

Each `Rpc[Request, Response]` is checked against the generated descriptors when this module
is imported (a misspelt method or a wrong message type fails there, not on a call), and
`ResolverCalls._unary` takes a request of exactly that RPC's type and returns its response
type, so mypy sees every mismatch.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message

from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import rollout_service_pb2 as rpb
from wishlist_images_client.calls import ResolverCallError, channel_options
from wishlist_runtime.admin import is_admin

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)
Req_contra = TypeVar("Req_contra", bound=Message, contravariant=True)
Resp_co = TypeVar("Resp_co", bound=Message, covariant=True)

Metadata = tuple[tuple[str, str], ...]

# Admin calls touch CloudFront or a store's conditional write: they get at least this long.
ADMIN_MIN_TIMEOUT = 10.0


@dataclass(frozen=True, eq=False)  # hashed by identity: a key of the client's bound calls
class Rpc(Generic[Req, Resp]):
    path: str  # "/package.Service/Method"
    request: type[Req]
    response: type[Resp]
    admin: bool  # sends the admin bearer token and gets at least ADMIN_MIN_TIMEOUT


def _rpc(
    service: ServiceDescriptor,
    name: str,
    request: type[Req],
    response: type[Resp],
) -> Rpc[Req, Resp]:
    """The RPC as the proto declares it: its types checked, whether it is an admin call
    read from its `(wishlist.images.v1.admin)` option (the resolver enforces the same)."""
    method = service.methods_by_name[name]
    declared = (method.input_type.full_name, method.output_type.full_name)
    if declared != (request.DESCRIPTOR.full_name, response.DESCRIPTOR.full_name):
        raise TypeError(f"{method.full_name} is {declared[0]} -> {declared[1]}")
    return Rpc(f"/{service.full_name}/{name}", request, response, is_admin(method))


_IMAGES = pb.DESCRIPTOR.services_by_name["ImageUrlService"]
_ROLLOUT = rpb.DESCRIPTOR.services_by_name["RolloutService"]

RESOLVE = _rpc(_IMAGES, "ResolveImageUrl", pb.ResolveImageUrlRequest, pb.ResolveImageUrlResponse)
BATCH_RESOLVE = _rpc(
    _IMAGES,
    "BatchResolveImageUrls",
    pb.BatchResolveImageUrlsRequest,
    pb.BatchResolveImageUrlsResponse,
)
CREATE_UPLOAD_URL = _rpc(
    _IMAGES, "CreateUploadUrl", pb.CreateUploadUrlRequest, pb.CreateUploadUrlResponse
)
VERIFY_UPLOAD = _rpc(_IMAGES, "VerifyUpload", pb.VerifyUploadRequest, pb.VerifyUploadResponse)
GET_UPLOAD_POLICY = _rpc(
    _IMAGES, "GetUploadPolicy", pb.GetUploadPolicyRequest, pb.GetUploadPolicyResponse
)
INVALIDATE = _rpc(
    _IMAGES,
    "InvalidateImages",
    pb.InvalidateImagesRequest,
    pb.InvalidateImagesResponse,
)
GET_ROLLOUT = _rpc(_ROLLOUT, "GetRollout", rpb.GetRolloutRequest, rpb.GetRolloutResponse)
SET_ROLLOUT = _rpc(_ROLLOUT, "SetRollout", rpb.SetRolloutRequest, rpb.SetRolloutResponse)
ALL_RPCS = (
    RESOLVE,
    BATCH_RESOLVE,
    CREATE_UPLOAD_URL,
    VERIFY_UPLOAD,
    GET_UPLOAD_POLICY,
    INVALIDATE,
    GET_ROLLOUT,
    SET_ROLLOUT,
)


class Send(Protocol[Req_contra, Resp_co]):
    """One RPC bound to a channel; awaiting it gives the response or raises grpc.RpcError."""

    def __call__(
        self, request: Req_contra, *, timeout: float, metadata: Metadata
    ) -> Awaitable[Resp_co]: ...


class Channel:
    """A gRPC channel whose calls are all awaited. On an asyncio channel (grpc.aio) awaiting
    waits on the event loop; on a blocking one the call has returned before it is awaited,
    so a coroutine that awaits only these calls never suspends (ImageResolverClient runs
    ResolverCalls' coroutines to the end in one step, without an event loop)."""

    def __init__(
        self,
        target: str,
        credentials: grpc.ChannelCredentials | None,
        max_attempts: int,
        *,
        blocking: bool,
        load_balancing: str = "round_robin",
    ) -> None:
        kind: Any = grpc if blocking else grpc.aio
        options = channel_options(max_attempts, load_balancing)
        self._grpc: Any = (
            kind.secure_channel(target, credentials, options)
            if credentials
            else kind.insecure_channel(target, options)
        )
        self._blocking = blocking

    def bind(self, rpc: Rpc[Req, Resp]) -> Send[Req, Resp]:
        call = self._grpc.unary_unary(
            rpc.path,
            request_serializer=rpc.request.SerializeToString,
            response_deserializer=rpc.response.FromString,
            _registered_method=True,
        )
        if not self._blocking:
            aio_call: Send[Req, Resp] = call  # returns a grpc.aio call: an awaitable
            return aio_call

        async def returned(request: Req, *, timeout: float, metadata: Metadata) -> Resp:
            response: Resp = call(request, timeout=timeout, metadata=metadata)
            return response

        return returned

    async def close(self) -> None:
        closed = self._grpc.close()
        if not self._blocking:
            await closed


class Deadline:
    """One deadline for a whole call, however many RPCs it takes (a large batch is split
    into several): each RPC gets what is left, none starts once it has passed."""

    __slots__ = ("_ends",)

    def __init__(self, seconds: float) -> None:
        self._ends = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self._ends - time.monotonic()
        if remaining <= 0:
            raise ResolverCallError(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
        return remaining
