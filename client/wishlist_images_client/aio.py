"""asyncio client (grpc.aio), for the wishlist API and other async services. Its calls
are `spec.CALLS`, the same table the blocking client uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc
from wishlist.images.v1 import rollout_service_pb2 as rpb
from wishlist.images.v1 import rollout_service_pb2_grpc as rpb_grpc
from wishlist_images_client import calls
from wishlist_images_client.calls import ResolverCallError
from wishlist_images_client.spec import CALLS, Deadline, bind
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
)


class AsyncImageResolverClient:
    """Create inside the running event loop; `await close()` when done."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 0.25,
        max_attempts: int = 3,
        admin_token: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        options = calls.channel_options(max_attempts)
        self._channel = (
            grpc.aio.secure_channel(target, credentials, options)
            if credentials
            else grpc.aio.insecure_channel(target, options)
        )
        stubs = {
            "images": pb_grpc.ImageUrlServiceStub(self._channel),
            "rollout": rpb_grpc.RolloutServiceStub(self._channel),
        }
        self._calls = bind(stubs, admin_token)
        self.timeout = timeout
        # Refs per BatchResolveImageUrls call; lowered to the resolver's published
        # max_batch (GetUploadPolicy) the first time it refuses a batch as too large.
        self.max_batch = calls.MAX_BATCH

    async def _call(
        self, name: str, request: Any, timeout: float | Deadline | None, request_id: str | None
    ) -> Any:
        bound = self._calls[name]
        if not isinstance(timeout, Deadline):
            timeout = Deadline(bound.call, timeout or self.timeout)
        md = bound.metadata_with(request_id)
        try:
            return bound.call.decode(await bound.rpc(request, timeout=timeout.left(), metadata=md))
        except grpc.RpcError as err:
            raise calls.call_error(err) from None

    async def resolve(
        self,
        ref: ImageRef | str,
        *,
        user_id: str = "",
        timeout: float | None = None,
        include_fallback: bool = False,
        request_id: str | None = None,
    ) -> ResolvedImage:
        request = calls.resolve_request(ref, user_id, include_fallback)
        result: ResolvedImage = await self._call("resolve", request, timeout, request_id)
        return result

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
            "batch_resolve",
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
            "batch_resolve_urls",
            refs,
            user_id=user_id,
            timeout=timeout,
            include_fallback=include_fallback,
            request_id=request_id,
        )

    async def _batch(
        self,
        name: str,
        refs: Sequence[ImageRef | str],
        *,
        user_id: str,
        timeout: float | None,
        include_fallback: bool,
        request_id: str | None,
    ) -> list[Any]:
        deadline = Deadline(CALLS[name], timeout or self.timeout)
        out: list[Any] = []
        start = 0
        while start < len(refs):
            chunk = refs[start : start + self.max_batch]
            request = calls.batch_request(chunk, user_id, include_fallback)
            try:
                out.extend(await self._call(name, request, deadline, request_id))
            except ResolverCallError as exc:
                if not calls.refused_as_too_many(exc):
                    raise
                policy = await self.upload_policy(timeout=deadline.left(), request_id=request_id)
                self.max_batch = calls.smaller_batch(exc, len(chunk), policy.max_batch)
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
        form: UploadForm = await self._call("create_upload_url", request, timeout, request_id)
        return form

    async def verify_upload(
        self, user_id: str, key: str, *, timeout: float | None = None, request_id: str | None = None
    ) -> UploadedImage:
        """Raises ResolverCallError: NOT_FOUND when nothing was uploaded under `key`,
        INVALID_ARGUMENT (field `key`) when the object breaks the upload policy."""
        request = pb.VerifyUploadRequest(user_id=user_id, key=key)
        found: UploadedImage = await self._call("verify_upload", request, timeout, request_id)
        return found

    async def upload_policy(
        self, *, timeout: float | None = None, request_id: str | None = None
    ) -> UploadPolicy:
        """The upload and batch rules the resolver enforces (GetUploadPolicy)."""
        request = pb.GetUploadPolicyRequest()
        policy: UploadPolicy = await self._call("upload_policy", request, timeout, request_id)
        return policy

    async def invalidate(
        self,
        refs: Sequence[str],
        caller_reference: str,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> list[Invalidation]:
        request = pb.InvalidateImagesRequest(refs=list(refs), caller_reference=caller_reference)
        done: list[Invalidation] = await self._call("invalidate", request, timeout, request_id)
        return done

    async def get_rollout(
        self, *, timeout: float | None = None, request_id: str | None = None
    ) -> RolloutInfo:
        request = rpb.GetRolloutRequest()
        info: RolloutInfo = await self._call("get_rollout", request, timeout, request_id)
        return info

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
        request = calls.set_rollout_request(percent, cdn_enabled, expected_revision, updated_by)
        pair: tuple[RolloutInfo, RolloutInfo] = await self._call(
            "set_rollout", request, timeout, request_id
        )
        return pair

    async def close(self) -> None:
        await self._channel.close()
