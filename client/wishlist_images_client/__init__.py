"""Typed Python client for the image-resolver gRPC service."""

from wishlist_images_client.aio import AsyncImageResolverClient
from wishlist_images_client.calls import ResolverCallError, tls_credentials
from wishlist_images_client.client import ImageResolverClient
from wishlist_images_client.types import (
    ImageRef,
    ImageUrl,
    Invalidation,
    InvalidationsCreated,
    Origin,
    ResolvedImage,
    ResolveError,
    RolloutInfo,
    UploadedImage,
    UploadForm,
    UploadPolicy,
)

__all__ = [
    "AsyncImageResolverClient",
    "ImageRef",
    "ImageResolverClient",
    "ImageUrl",
    "Invalidation",
    "InvalidationsCreated",
    "Origin",
    "ResolveError",
    "ResolvedImage",
    "ResolverCallError",
    "RolloutInfo",
    "UploadForm",
    "UploadPolicy",
    "UploadedImage",
    "tls_credentials",
]
