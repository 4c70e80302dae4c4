"""The page path `batch_resolve_urls` gives exactly batch_resolve's URLs and errors, slot
for slot, on both clients; and the calls bound once per client still send the admin
token only on admin calls and a request id only when given."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from tests.conftest import BUCKET, CDN
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc
from wishlist.images.v1 import rollout_service_pb2 as rpb
from wishlist.images.v1 import rollout_service_pb2_grpc as rpb_grpc
from wishlist_images_client import (
    AsyncImageResolverClient,
    ImageRef,
    ImageResolverClient,
    ImageUrl,
    ResolvedImage,
    ResolveError,
)

KEY = "uploads/wishlist/u-1/a.jpg"
REFS: list[ImageRef | str] = [
    ImageRef(KEY, "3"),
    f"https://s3.amazonaws.com/{BUCKET}/uploads/wishlist/u-1/b.png",
    "https://evil.example.com/x.jpg",
    "",
    ImageRef("uploads/wishlist/u-1/c.webp"),
]
BAD_SLOTS = (2, 3)
ARGS: dict[str, Any] = {"user_id": "u-1", "include_fallback": True, "request_id": "req-7"}


def _urls_of(typed: list[ResolvedImage | ResolveError]) -> list[ImageUrl | ResolveError]:
    return [ImageUrl(r.url, r.fallback_url) if isinstance(r, ResolvedImage) else r for r in typed]


def _check(urls: list[ImageUrl | ResolveError], *typed: list[ResolvedImage | ResolveError]) -> None:
    # Presigned URLs change only at a signing-window boundary (30 min): the page call must
    # match the typed call made just before or just after it.
    assert urls in [_urls_of(t) for t in typed]
    for i, got in enumerate(urls):
        if i in BAD_SLOTS:
            assert isinstance(got, ResolveError)
            assert got.field == f"images[{i}].ref"
        else:
            assert isinstance(got, ImageUrl)
            assert got.url.startswith(f"https://{CDN}/uploads/wishlist/u-1/")
            assert f"/{BUCKET}/uploads/wishlist/u-1/" in got.fallback_url  # S3 (moto), path-style


@pytest.mark.parametrize("mode", ["presigned", "public"])
def test_sync_page_path_matches_the_typed_batch(start_resolver, mode: str) -> None:
    server = start_resolver(s3_fallback_mode=mode)
    with ImageResolverClient(server.target, timeout=5) as client:
        before = client.batch_resolve(REFS, **ARGS)
        urls = client.batch_resolve_urls(REFS, **ARGS)
        after = client.batch_resolve(REFS, **ARGS)
    _check(urls, before, after)


def test_async_page_path_matches_the_typed_batch(start_resolver) -> None:
    server = start_resolver(s3_fallback_mode="presigned")

    async def run() -> None:
        client = AsyncImageResolverClient(server.target, timeout=5)
        try:
            before = await client.batch_resolve(REFS, **ARGS)
            urls = await client.batch_resolve_urls(REFS, **ARGS)
            after = await client.batch_resolve(REFS, **ARGS)
        finally:
            await client.close()
        _check(urls, before, after)

    asyncio.run(run())


class _Recorder(pb_grpc.ImageUrlServiceServicer, rpb_grpc.RolloutServiceServicer):
    """Answers BatchResolveImageUrls and GetRollout, recording each call's metadata."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []

    def _record(self, name: str, context: Any) -> None:
        self.seen.append((name, dict(context.invocation_metadata())))

    def BatchResolveImageUrls(self, request, context):  # type: ignore[no-untyped-def]
        self._record("batch", context)
        response = pb.BatchResolveImageUrlsResponse()
        for image in request.images:
            response.results.add().image.url = f"https://cdn.example/{image.ref}"
        return response

    def GetRollout(self, request, context):  # type: ignore[no-untyped-def]
        self._record("rollout", context)
        return rpb.GetRolloutResponse()


@pytest.fixture
def recorder() -> Iterator[tuple[str, _Recorder]]:
    servicer = _Recorder()
    server = grpc.server(futures.ThreadPoolExecutor(2))
    pb_grpc.add_ImageUrlServiceServicer_to_server(servicer, server)
    rpb_grpc.add_RolloutServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(0)


def _headers(seen: list[tuple[str, dict[str, str]]]) -> list[tuple[str, str | None, str | None]]:
    return [(name, md.get("authorization"), md.get("x-request-id")) for name, md in seen]


EXPECTED = [
    ("batch", None, "req-1"),
    ("batch", None, None),
    ("rollout", "Bearer admin-secret", "req-2"),
    ("rollout", "Bearer admin-secret", None),
]


def test_sync_client_metadata_per_call(recorder: tuple[str, _Recorder]) -> None:
    target, servicer = recorder
    with ImageResolverClient(target, timeout=5, admin_token="admin-secret") as client:
        assert client.batch_resolve_urls(["k"], request_id="req-1") == [
            ImageUrl("https://cdn.example/k")
        ]
        client.batch_resolve(["k"])
        client.get_rollout(request_id="req-2")
        client.get_rollout()
    assert _headers(servicer.seen) == EXPECTED


def test_async_client_metadata_per_call(recorder: tuple[str, _Recorder]) -> None:
    target, servicer = recorder

    async def run() -> None:
        client = AsyncImageResolverClient(target, timeout=5, admin_token="admin-secret")
        try:
            await client.batch_resolve_urls(["k"], request_id="req-1")
            await client.batch_resolve(["k"])
            await client.get_rollout(request_id="req-2")
            await client.get_rollout()
        finally:
            await client.close()

    asyncio.run(run())
    assert _headers(servicer.seen) == EXPECTED
