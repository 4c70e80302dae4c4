"""One definition, two surfaces. Every call is a typed coroutine of ResolverCalls, written
once; AsyncImageResolverClient awaits them on grpc.aio, ImageResolverClient runs them over
a blocking channel. So both expose the same public methods with the same signatures (found
by introspection, not from a list kept here), every one of which reaches a real resolver on
both; one deadline per call however many RPCs a batch takes; and mypy sees a misspelt call
or a request of the wrong RPC."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.conftest import ADMIN_TOKEN, BUCKET
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc
from wishlist_images_client import (
    AsyncImageResolverClient,
    ImageResolverClient,
    ImageUrl,
    Origin,
    ResolveError,
)
from wishlist_images_client.calls import MAX_BATCH, ResolverCallError
from wishlist_images_client.rpc import _IMAGES, _rpc

ROOT = Path(__file__).resolve().parents[2]
SURFACES = {"sync": ImageResolverClient, "aio": AsyncImageResolverClient}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _public(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_both_surfaces_expose_the_same_methods_with_one_signature_each() -> None:
    sync, aio = _public(ImageResolverClient), _public(AsyncImageResolverClient)
    assert set(sync) == set(aio)
    assert {"resolve", "batch_resolve_urls", "set_rollout", "close"} <= set(sync)
    for name in sync:
        assert inspect.iscoroutinefunction(aio[name]), name
        assert not inspect.iscoroutinefunction(sync[name]), name
        assert inspect.signature(sync[name]) == inspect.signature(aio[name]), name
        if name != "close":
            params = inspect.signature(sync[name]).parameters
            assert params["timeout"].kind is inspect.Parameter.KEYWORD_ONLY, name
            assert params["request_id"].kind is inspect.Parameter.KEYWORD_ONLY, name
    constructors = [inspect.signature(cls).parameters for cls in SURFACES.values()]
    assert list(constructors[0]) == list(constructors[1])
    assert "admin_token" in constructors[0] and "credentials" in constructors[0]


class _Awaited:
    """Either surface with every call awaited (a blocking call has returned by then),
    so one scenario runs on both; records which methods it called."""

    def __init__(self, client: ImageResolverClient | AsyncImageResolverClient) -> None:
        self.client = client
        self.called: set[str] = set()

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.called.add(name)
            result = method(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return call


def _on(
    surface: str, target: str, scenario: Callable[[Any], Awaitable[Any]], **kw: Any
) -> tuple[Any, set[str]]:
    """`scenario`'s result on a client of `surface`, and the methods it called (and close)."""

    async def run() -> tuple[Any, set[str]]:
        client = _Awaited(SURFACES[surface](target, **kw))
        try:
            result = await scenario(client)
        finally:
            await client.close()
        return result, client.called

    return asyncio.run(run())


@pytest.mark.parametrize("surface", SURFACES)
def test_every_method_of_both_surfaces_reaches_a_real_resolver(
    start_resolver, local_aws, surface: str
) -> None:
    distribution, _ = local_aws.create_distribution()
    server = start_resolver(admin_token=ADMIN_TOKEN, cloudfront_distribution_id=distribution)

    async def scenario(c: Any) -> None:
        policy = await c.upload_policy()
        assert "image/png" in policy.content_types and policy.max_batch > 0
        form = await c.create_upload_url("u-1", "image/png", len(PNG), request_id="r-1")
        local_aws.client("s3").put_object(
            Bucket=BUCKET, Key=form.key, Body=PNG, ContentType="image/png"
        )
        assert (await c.verify_upload("u-1", form.key)).size_bytes == len(PNG)
        with pytest.raises(ResolverCallError) as caught:
            await c.verify_upload("u-1", "uploads/wishlist/u-1/never.png")
        assert caught.value.code == grpc.StatusCode.NOT_FOUND
        one = await c.resolve(form.key, user_id="u-1")
        assert one.origin == Origin.CDN and one.url.endswith("/" + form.key)
        page = await c.batch_resolve([form.key, "https://evil.example/x"], user_id="u-1")
        assert page[0] == one and isinstance(page[1], ResolveError)
        assert await c.batch_resolve_urls([form.key], user_id="u-1") == [ImageUrl(one.url)]
        current = await c.get_rollout()
        before, after = await c.set_rollout(
            percent=40, cdn_enabled=True, expected_revision=current.revision, updated_by="t"
        )
        assert (before.revision, after.percent) == (current.revision, 40)
        [done] = await c.invalidate([form.key], f"ref-{surface}")
        assert done.paths == ("/" + form.key,)
        assert (c.client.timeout, c.client.max_batch) == (5, MAX_BATCH)

    _, called = _on(surface, server.target, scenario, timeout=5, admin_token=ADMIN_TOKEN)
    assert called == set(_public(SURFACES[surface]))


class _SlowBatches(pb_grpc.ImageUrlServiceServicer):
    """Each BatchResolveImageUrls takes 0.3 s; records the request ids it saw."""

    def __init__(self) -> None:
        self.calls = 0
        self.request_ids: list[str] = []

    def BatchResolveImageUrls(self, request, context):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.request_ids.append(dict(context.invocation_metadata()).get("x-request-id", ""))
        time.sleep(0.3)
        response = pb.BatchResolveImageUrlsResponse()
        for _ in request.images:
            response.results.add().image.url = "https://cdn.example/x"
        return response


@pytest.fixture
def slow_server() -> Iterator[tuple[str, _SlowBatches]]:
    servicer = _SlowBatches()
    server = grpc.server(futures.ThreadPoolExecutor(4))
    pb_grpc.add_ImageUrlServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(0)


@pytest.mark.parametrize("surface", SURFACES)
def test_a_split_batch_keeps_one_overall_deadline(
    slow_server: tuple[str, _SlowBatches], surface: str
) -> None:
    """Three chunks of 0.3 s each against a 0.5 s deadline: DEADLINE_EXCEEDED by ~0.5 s,
    not 0.5 s per chunk (which could take 1.5 s and succeed)."""
    target, servicer = slow_server
    refs = [f"uploads/wishlist/u/{i}.png" for i in range(2 * MAX_BATCH + 1)]
    started = time.monotonic()
    with pytest.raises(ResolverCallError) as caught:
        _on(surface, target, lambda c: c.batch_resolve(refs, request_id="req-1"), timeout=0.5)
    took = time.monotonic() - started
    assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert took < 1.2, took  # per-chunk deadlines would have run 0.9 s and succeeded
    assert servicer.calls < 3  # the third chunk never started: no time was left
    assert set(servicer.request_ids) == {"req-1"}


@pytest.mark.parametrize("surface", SURFACES)
def test_a_split_batch_within_its_deadline_returns_every_slot(
    slow_server: tuple[str, _SlowBatches], surface: str
) -> None:
    target, servicer = slow_server
    refs = [f"uploads/wishlist/u/{i}.png" for i in range(MAX_BATCH + 1)]
    got, _ = _on(surface, target, lambda c: c.batch_resolve(refs, request_id="req-2"), timeout=5)
    assert len(got) == len(refs)
    assert servicer.request_ids == ["req-2", "req-2"]


def test_an_rpc_is_checked_against_the_contract_when_defined() -> None:
    with pytest.raises(KeyError):
        _rpc(_IMAGES, "ResolveImageUrls", pb.ResolveImageUrlRequest, pb.ResolveImageUrlResponse)
    with pytest.raises(TypeError, match="ResolveImageUrl"):
        _rpc(
            _IMAGES, "ResolveImageUrl", pb.BatchResolveImageUrlsRequest, pb.ResolveImageUrlResponse
        )


MISTAKES = """
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist_images_client import AsyncImageResolverClient, ImageResolverClient
from wishlist_images_client.rpc import BATCH_RESOLVE, RESOLVE

async def mistakes(aio: AsyncImageResolverClient, sync: ImageResolverClient) -> None:
    sync.reslove("k")
    await aio.batch_reslove_urls(["k"])
    await aio._unary(RESOLVE, pb.BatchResolveImageUrlsRequest(), None, None)
    (await aio._unary(BATCH_RESOLVE, pb.BatchResolveImageUrlsRequest(), None, None)).image
    n: int = sync.resolve("k").url
"""


def test_mypy_sees_a_misspelt_call_and_a_request_of_another_rpc(tmp_path: Path) -> None:
    snippet = tmp_path / "mistakes.py"
    snippet.write_text(MISTAKES)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(snippet)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    flagged = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert [int(line.split(":")[1]) for line in flagged] == [7, 8, 9, 10, 11], proc.stdout
