"""The clients split batches at the resolver's published `max_batch`, not only at their
own 1000: a resolver configured smaller refuses the first oversized call, the client
reads GetUploadPolicy once, and re-sends in smaller chunks, slots in order."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from wishlist_images_client import (
    AsyncImageResolverClient,
    ImageResolverClient,
    ResolvedImage,
    ResolveError,
)
from wishlist_images_client.calls import MAX_BATCH, ResolverCallError, smaller_batch

REFS = [f"uploads/wishlist/u-1/{i:03d}.png" for i in range(25)]
REFS[7] = "https://evil.example.com/x.png"  # a refused slot keeps its place


def _check(got: list[ResolvedImage | ResolveError]) -> None:
    assert len(got) == len(REFS)
    for i, (ref, result) in enumerate(zip(REFS, got, strict=True)):
        if i == 7:
            assert isinstance(result, ResolveError) and result.field == "images[7].ref"
        else:
            assert isinstance(result, ResolvedImage) and result.url.endswith(ref[-7:])


def test_sync_client_learns_a_smaller_max_batch(start_resolver) -> None:
    server = start_resolver(max_batch=10)
    with ImageResolverClient(server.target, timeout=5) as client:
        assert client.max_batch == MAX_BATCH
        _check(client.batch_resolve(REFS, user_id="u-1"))
        assert client.max_batch == 10
        _check(client.batch_resolve(REFS, user_id="u-1"))  # no refusal the second time


def test_async_client_learns_a_smaller_max_batch(start_resolver) -> None:
    server = start_resolver(max_batch=10)

    async def run() -> None:
        client = AsyncImageResolverClient(server.target, timeout=5)
        try:
            urls = await client.batch_resolve_urls(REFS, user_id="u-1")
            assert client.max_batch == 10
            assert [isinstance(u, ResolveError) for u in urls] == [i == 7 for i in range(25)]
            _check(await client.batch_resolve(REFS, user_id="u-1"))
        finally:
            await client.close()

    asyncio.run(run())


def test_a_refusal_stands_unless_the_published_limit_is_smaller() -> None:
    refused = ResolverCallError(grpc.StatusCode.INVALID_ARGUMENT, "at most 10", "images")
    assert smaller_batch(refused, 25, 10) == 10
    for published in (25, 40, 0):
        with pytest.raises(ResolverCallError) as caught:
            smaller_batch(refused, 25, published)
        assert caught.value is refused
