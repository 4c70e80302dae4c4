"""The sync and asyncio clients are two loops over one call table (spec.CALLS): the same
calls, with the same parameters, admin calls and request ids on both; one deadline per call
however many RPCs a batch takes."""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc
from wishlist_images_client import AsyncImageResolverClient, ImageResolverClient
from wishlist_images_client.calls import MAX_BATCH, ResolverCallError
from wishlist_images_client.spec import CALLS

CLIENTS = (ImageResolverClient, AsyncImageResolverClient)


def _public(cls: type) -> set[str]:
    return {n for n, v in vars(cls).items() if callable(v) and not n.startswith("_")}


def test_both_clients_offer_exactly_the_table_s_calls() -> None:
    for cls in CLIENTS:
        assert _public(cls) == {*CALLS, "close"}, cls.__name__


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_call_has_one_signature_on_both_clients(name: str) -> None:
    sync, aio = (getattr(cls, name) for cls in CLIENTS)
    assert inspect.iscoroutinefunction(aio) and not inspect.iscoroutinefunction(sync)
    assert inspect.signature(sync) == inspect.signature(aio)
    params = inspect.signature(sync).parameters
    assert params["timeout"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["request_id"].kind is inspect.Parameter.KEYWORD_ONLY


def test_both_clients_take_an_admin_token() -> None:
    for cls in CLIENTS:
        assert "admin_token" in inspect.signature(cls).parameters, cls.__name__


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


def test_a_split_batch_keeps_one_overall_deadline(slow_server: tuple[str, _SlowBatches]) -> None:
    """Three chunks of 0.3 s each against a 0.5 s deadline: DEADLINE_EXCEEDED by ~0.5 s,
    not 0.5 s per chunk (which could take 1.5 s and succeed)."""
    target, servicer = slow_server
    refs = [f"uploads/wishlist/u/{i}.png" for i in range(2 * MAX_BATCH + 1)]
    with ImageResolverClient(target, timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(ResolverCallError) as caught:
            client.batch_resolve(refs, request_id="req-1")
        took = time.monotonic() - started
    assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert took < 1.2, took  # per-chunk deadlines would have run 0.9 s and succeeded
    assert servicer.calls < 3  # the third chunk never started: no time was left
    assert set(servicer.request_ids) == {"req-1"}


def test_a_split_batch_within_its_deadline_returns_every_slot(
    slow_server: tuple[str, _SlowBatches],
) -> None:
    target, servicer = slow_server
    refs = [f"uploads/wishlist/u/{i}.png" for i in range(MAX_BATCH + 1)]
    with ImageResolverClient(target, timeout=5) as client:
        got = client.batch_resolve(refs, request_id="req-2")
    assert len(got) == len(refs)
    assert servicer.request_ids == ["req-2", "req-2"]
