"""The client's one implementation: every call a typed coroutine (`ResolverCalls`), written
once. Over an asyncio channel it is `AsyncImageResolverClient`, for the wishlist API and
other async services; over a blocking channel it is what `ImageResolverClient` runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any, TypeVar

import grpc

from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import rollout_service_pb2 as rpb
from wishlist_images_client.calls import (
    MAX_BATCH,
    ResolverCallError,
    call_error,
    refused_as_too_many,
    smaller_batch,
)
from wishlist_images_client.rpc import (
    ADMIN_MIN_TIMEOUT,
    BATCH_RESOLVE,
    CREATE_UPLOAD_URL,
    GET_ROLLOUT,
    GET_UPLOAD_POLICY,
    INVALIDATE,
    RESOLVE,
    SET_ROLLOUT,
    VERIFY_UPLOAD,
    Channel,
    Deadline,
    Metadata,
    Req,
    Resp,
    Rpc,
    Send,
)
from wishlist_images_client.types import (
    ImageRef,
    ImageUrl,
    Invalidation,
    ResolvedImage,
    ResolveError,
    RolloutInfo,
    UploadedImage,
    UploadForm,
    UploadPolicy,
    as_ref,
    batch_from,
    invalidations_from,
    policy_from,
    resolved_from,
    rollout_from,
    upload_from,
    uploaded_from,
    urls_from,
)

T = TypeVar("T")


class ResolverCalls:
    """Every call of the resolver's API on one channel. `timeout` is each call's deadline in
    seconds (admin calls get at least 10 s); retries on UNAVAILABLE happen within it."""

    def __init__(self, channel: Channel, *, timeout: float, admin_token: str | None) -> None:
        self._channel = channel
        self._admin: Metadata = (("authorization", f"Bearer {admin_token}"),) if admin_token else ()
        self._sends: dict[Rpc[Any, Any], Send[Any, Any]] = {}  # each RPC bound on first use
        self.timeout = timeout
        # Refs per BatchResolveImageUrls call; lowered to the resolver's published
        # max_batch (GetUploadPolicy) the first time it refuses a batch as too large.
        self.max_batch = MAX_BATCH

    async def _unary(
        self,
        rpc: Rpc[Req, Resp],
        request: Req,
        timeout: float | Deadline | None,
        request_id: str | None,
    ) -> Resp:
        """One RPC: within `timeout` (what is left of a Deadline shared by several), with
        the admin token if it is an admin call and `request_id` if given."""
        if isinstance(timeout, Deadline):
            seconds = timeout.left()
        else:
            seconds = timeout or self.timeout
            if rpc.admin:
                seconds = max(seconds, ADMIN_MIN_TIMEOUT)
        metadata = self._admin if rpc.admin else ()
        if request_id:
            metadata = (*metadata, ("x-request-id", request_id))
        send = self._sends.get(rpc)
        if send is None:
            send = self._sends[rpc] = self._channel.bind(rpc)
        try:
            response: Resp = await send(request, timeout=seconds, metadata=metadata)
        except grpc.RpcError as err:
            raise call_error(err) from None
        return response

    async def resolve(
        self,
        ref: ImageRef | str,
        *,
        user_id: str = "",
        timeout: float | None = None,
        include_fallback: bool = False,
        request_id: str | None = None,
    ) -> ResolvedImage:
        request = pb.ResolveImageUrlRequest(
            image=as_ref(ref), user_id=user_id, include_fallback=include_fallback
        )
        response = await self._unary(RESOLVE, request, timeout, request_id)
        return resolved_from(response.image)

    async def batch_resolve(
        self,
        refs: Sequence[ImageRef | str],
        *,
        user_id: str = "",
        timeout: float | None = None,
        include_fallback: bool = False,
        request_id: str | None = None,
    ) -> list[ResolvedImage | ResolveError]:
        """Any number of refs, in order, split into server-sized RPCs that share one
        deadline; a bad ref yields a ResolveError in its slot."""
        return await self._batch(
            batch_from,
            refs,
            user_id=user_id,
            timeout=timeout,
            include_fallback=include_fallback,
            request_id=request_id,
        )

    async def batch_resolve_urls(
        self,
        refs: Sequence[ImageRef | str],
        *,
        user_id: str = "",
        timeout: float | None = None,
        include_fallback: bool = False,
        request_id: str | None = None,
    ) -> list[ImageUrl | ResolveError]:
        """batch_resolve with only each image's URLs: the page path (one decoding pass,
        no origin or expiry times)."""
        return await self._batch(
            urls_from,
            refs,
            user_id=user_id,
            timeout=timeout,
            include_fallback=include_fallback,
            request_id=request_id,
        )

    async def _batch(
        self,
        decode: Callable[[pb.BatchResolveImageUrlsResponse], list[T]],
        refs: Sequence[ImageRef | str],
        *,
        user_id: str,
        timeout: float | None,
        include_fallback: bool,
        request_id: str | None,
    ) -> list[T]:
        deadline = Deadline(timeout or self.timeout)
        out: list[T] = []
        start = 0
        while start < len(refs):
            chunk = refs[start : start + self.max_batch]
            request = pb.BatchResolveImageUrlsRequest(
                images=[as_ref(r) for r in chunk],
                user_id=user_id,
                include_fallback=include_fallback,
            )
            try:
                out.extend(decode(await self._unary(BATCH_RESOLVE, request, deadline, request_id)))
            except ResolverCallError as exc:
                if not refused_as_too_many(exc):
                    raise
                policy = await self.upload_policy(timeout=deadline.left(), request_id=request_id)
                self.max_batch = smaller_batch(exc, len(chunk), policy.max_batch)
                continue
            start += len(chunk)
        return out

    async def create_upload_url(
        self,
        user_id: str,
        content_type: str,
        content_length: int,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> UploadForm:
        request = pb.CreateUploadUrlRequest(
            user_id=user_id, content_type=content_type, content_length=content_length
        )
        return upload_from(await self._unary(CREATE_UPLOAD_URL, request, timeout, request_id))

    async def verify_upload(
        self, user_id: str, key: str, *, timeout: float | None = None, request_id: str | None = None
    ) -> UploadedImage:
        """Raises ResolverCallError: NOT_FOUND when nothing was uploaded under `key`,
        INVALID_ARGUMENT (field `key`) when the object breaks the upload policy."""
        request = pb.VerifyUploadRequest(user_id=user_id, key=key)
        return uploaded_from(await self._unary(VERIFY_UPLOAD, request, timeout, request_id))

    async def upload_policy(
        self, *, timeout: float | None = None, request_id: str | None = None
    ) -> UploadPolicy:
        """The upload and batch rules the resolver enforces (GetUploadPolicy)."""
        request = pb.GetUploadPolicyRequest()
        return policy_from(await self._unary(GET_UPLOAD_POLICY, request, timeout, request_id))

    async def invalidate(
        self,
        refs: Sequence[str],
        caller_reference: str,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> list[Invalidation]:
        request = pb.InvalidateImagesRequest(refs=list(refs), caller_reference=caller_reference)
        response = await self._unary(INVALIDATE, request, timeout, request_id)
        return list(invalidations_from(response))

    async def get_rollout(
        self, *, timeout: float | None = None, request_id: str | None = None
    ) -> RolloutInfo:
        response = await self._unary(GET_ROLLOUT, rpb.GetRolloutRequest(), timeout, request_id)
        return replace(
            rollout_from(response.rollout),
            store=response.store,
            store_healthy=response.store_healthy,
            store_error=response.store_error,
        )

    async def set_rollout(
        self,
        *,
        percent: int,
        cdn_enabled: bool,
        expected_revision: int,
        updated_by: str,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> tuple[RolloutInfo, RolloutInfo]:
        """Compare-and-set; raises ResolverCallError(ABORTED) if someone changed it meanwhile."""
        request = rpb.SetRolloutRequest(
            percent=percent,
            cdn_enabled=cdn_enabled,
            expected_revision=expected_revision,
            updated_by=updated_by,
        )
        response = await self._unary(SET_ROLLOUT, request, timeout, request_id)
        return rollout_from(response.before), rollout_from(response.after)

    async def close(self) -> None:
        await self._channel.close()


class AsyncImageResolverClient(ResolverCalls):
    """Create inside the running event loop; `await close()` (or `async with`) when done."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 0.25,
        max_attempts: int = 3,
        admin_token: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        load_balancing: str = "round_robin",
    ) -> None:
        channel = Channel(
            target, credentials, max_attempts, blocking=False, load_balancing=load_balancing
        )
        super().__init__(channel, timeout=timeout, admin_token=admin_token)

    async def __aenter__(self) -> AsyncImageResolverClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
