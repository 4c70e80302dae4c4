"""asyncio client, for async services such as the wishlist HTTP API."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc
from wishlist_images_client import calls
from wishlist_images_client.types import (
    ImageRef,
    ResolvedImage,
    ResolveError,
    UploadedImage,
    UploadForm,
    UploadPolicy,
    batch_from,
    policy_from,
    resolved_from,
    upload_from,
    uploaded_from,
)


class AsyncImageResolverClient:
    """Create inside the running event loop; `await close()` when done."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 0.25,
        max_attempts: int = 3,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        options = calls.channel_options(max_attempts)
        self._channel = (
            grpc.aio.secure_channel(target, credentials, options)
            if credentials
            else grpc.aio.insecure_channel(target, options)
        )
        self._images = pb_grpc.ImageUrlServiceStub(self._channel)
        self.timeout = timeout

    async def resolve(
        self,
        ref: ImageRef | str,
        *,
        user_id: str = "",
        timeout: float | None = None,
        include_fallback: bool = False,
    ) -> ResolvedImage:
        try:
            resp = await self._images.ResolveImageUrl(
                calls.resolve_request(ref, user_id, include_fallback),
                timeout=timeout or self.timeout,
            )
        except grpc.RpcError as err:
            raise calls.call_error(err) from None
        return resolved_from(resp.image)

    async def batch_resolve(
        self,
        refs: Sequence[ImageRef | str],
        *,
        user_id: str = "",
        timeout: float | None = None,
        request_id: str | None = None,
        include_fallback: bool = False,
    ) -> list[ResolvedImage | ResolveError]:
        """One RPC per 1000 refs; a bad ref yields a ResolveError in its slot."""
        out: list[ResolvedImage | ResolveError] = []
        md = calls.metadata(None, request_id)
        try:
            for request in calls.batch_requests(refs, user_id, include_fallback):
                resp = await self._images.BatchResolveImageUrls(
                    request, timeout=timeout or self.timeout, metadata=md
                )
                out.extend(batch_from(resp))
        except grpc.RpcError as err:
            raise calls.call_error(err) from None
        return out

    async def create_upload_url(
        self, user_id: str, content_type: str, content_length: int
    ) -> UploadForm:
        request = pb.CreateUploadUrlRequest(
            user_id=user_id, content_type=content_type, content_length=content_length
        )
        try:
            return upload_from(await self._images.CreateUploadUrl(request, timeout=self.timeout))
        except grpc.RpcError as err:
            raise calls.call_error(err) from None

    async def verify_upload(self, user_id: str, key: str) -> UploadedImage:
        """Raises ResolverCallError: NOT_FOUND when nothing was uploaded under `key`,
        INVALID_ARGUMENT (field `key`) when the object breaks the upload policy."""
        request = pb.VerifyUploadRequest(user_id=user_id, key=key)
        try:
            return uploaded_from(await self._images.VerifyUpload(request, timeout=self.timeout))
        except grpc.RpcError as err:
            raise calls.call_error(err) from None

    async def upload_policy(self) -> UploadPolicy:
        """The upload and batch rules the resolver enforces (GetUploadPolicy)."""
        try:
            return policy_from(
                await self._images.GetUploadPolicy(
                    pb.GetUploadPolicyRequest(), timeout=self.timeout
                )
            )
        except grpc.RpcError as err:
            raise calls.call_error(err) from None

    async def close(self) -> None:
        await self._channel.close()
