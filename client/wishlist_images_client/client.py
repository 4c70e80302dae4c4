"""Blocking client, for scripts, CLIs and threaded services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from types import TracebackType

import grpc

from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc
from wishlist.images.v1 import rollout_service_pb2 as rpb
from wishlist.images.v1 import rollout_service_pb2_grpc as rpb_grpc
from wishlist_images_client import calls
from wishlist_images_client.types import (
    ImageRef,
    Invalidation,
    ResolvedImage,
    ResolveError,
    RolloutInfo,
    UploadedImage,
    UploadForm,
    UploadPolicy,
    batch_from,
    invalidations_from,
    policy_from,
    resolved_from,
    rollout_from,
    upload_from,
    uploaded_from,
)


class ImageResolverClient:
    """`timeout` is each call's deadline in seconds; retries on UNAVAILABLE happen within it."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 1.0,
        max_attempts: int = 4,
        admin_token: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        options = calls.channel_options(max_attempts)
        self._channel = (
            grpc.secure_channel(target, credentials, options)
            if credentials
            else grpc.insecure_channel(target, options)
        )
        self._images = pb_grpc.ImageUrlServiceStub(self._channel)
        self._rollout = rpb_grpc.RolloutServiceStub(self._channel)
        self.timeout = timeout
        self._md = calls.metadata(admin_token)

    def resolve(
        self,
        ref: ImageRef | str,
        *,
        user_id: str = "",
        timeout: float | None = None,
        include_fallback: bool = False,
    ) -> ResolvedImage:
        try:
            resp = self._images.ResolveImageUrl(
                calls.resolve_request(ref, user_id, include_fallback),
                timeout=timeout or self.timeout,
            )
        except grpc.RpcError as err:
            raise calls.call_error(err) from None
        return resolved_from(resp.image)

    def batch_resolve(
        self,
        refs: Sequence[ImageRef | str],
        *,
        user_id: str = "",
        timeout: float | None = None,
        include_fallback: bool = False,
    ) -> list[ResolvedImage | ResolveError]:
        """Any number of refs, in order; a bad ref yields a ResolveError in its slot."""
        out: list[ResolvedImage | ResolveError] = []
        try:
            for request in calls.batch_requests(refs, user_id, include_fallback):
                resp = self._images.BatchResolveImageUrls(request, timeout=timeout or self.timeout)
                out.extend(batch_from(resp))
        except grpc.RpcError as err:
            raise calls.call_error(err) from None
        return out

    def create_upload_url(self, user_id: str, content_type: str, content_length: int) -> UploadForm:
        request = pb.CreateUploadUrlRequest(
            user_id=user_id, content_type=content_type, content_length=content_length
        )
        try:
            return upload_from(self._images.CreateUploadUrl(request, timeout=self.timeout))
        except grpc.RpcError as err:
            raise calls.call_error(err) from None

    def verify_upload(self, user_id: str, key: str) -> UploadedImage:
        """Raises ResolverCallError: NOT_FOUND when nothing was uploaded under `key`,
        INVALID_ARGUMENT (field `key`) when the object breaks the upload policy."""
        request = pb.VerifyUploadRequest(user_id=user_id, key=key)
        try:
            return uploaded_from(self._images.VerifyUpload(request, timeout=self.timeout))
        except grpc.RpcError as err:
            raise calls.call_error(err) from None

    def upload_policy(self) -> UploadPolicy:
        """The upload and batch rules the resolver enforces (GetUploadPolicy)."""
        try:
            return policy_from(
                self._images.GetUploadPolicy(pb.GetUploadPolicyRequest(), timeout=self.timeout)
            )
        except grpc.RpcError as err:
            raise calls.call_error(err) from None

    def invalidate(self, refs: Sequence[str], caller_reference: str) -> list[Invalidation]:
        request = pb.InvalidateImagesRequest(refs=list(refs), caller_reference=caller_reference)
        try:
            resp = self._images.InvalidateImages(
                request, timeout=max(self.timeout, 10.0), metadata=self._md
            )
        except grpc.RpcError as err:
            raise calls.call_error(err) from None
        return list(invalidations_from(resp))

    def get_rollout(self) -> RolloutInfo:
        try:
            resp = self._rollout.GetRollout(
                rpb.GetRolloutRequest(), timeout=self.timeout, metadata=self._md
            )
        except grpc.RpcError as err:
            raise calls.call_error(err) from None
        return replace(
            rollout_from(resp.rollout),
            store=resp.store,
            store_healthy=resp.store_healthy,
            store_error=resp.store_error,
        )

    def set_rollout(
        self, *, percent: int, cdn_enabled: bool, expected_revision: int, updated_by: str
    ) -> tuple[RolloutInfo, RolloutInfo]:
        """Compare-and-set; raises ResolverCallError(ABORTED) if someone changed it meanwhile."""
        request = calls.set_rollout_request(percent, cdn_enabled, expected_revision, updated_by)
        try:
            resp = self._rollout.SetRollout(
                request, timeout=max(self.timeout, 10.0), metadata=self._md
            )
        except grpc.RpcError as err:
            raise calls.call_error(err) from None
        return rollout_from(resp.before), rollout_from(resp.after)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> ImageResolverClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
