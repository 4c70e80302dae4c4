"""Typed Python client for the image-resolver gRPC service."""

from wishlist_images_client.aio import AsyncImageResolverClient
from wishlist_images_client.calls import ResolverCallError
from wishlist_images_client.client import ImageResolverClient
from wishlist_images_client.types import (
    ImageRef,
    Invalidation,
    Origin,
    ResolvedImage,
    ResolveError,
    RolloutInfo,
    UploadedImage,
    UploadForm,
)

__all__ = [
    "AsyncImageResolverClient",
    "ImageRef",
    "ImageResolverClient",
    "Invalidation",
    "Origin",
    "ResolveError",
    "ResolvedImage",
    "ResolverCallError",
    "RolloutInfo",
    "UploadForm",
    "UploadedImage",
]
