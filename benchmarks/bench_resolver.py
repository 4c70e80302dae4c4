"""Resolver throughput against an echo RPC measured in the same run, on the same server.

    python benchmarks/bench_resolver.py [--calls 6000] [--rounds 6]

The resolver (with an extra echo method: same request/response types, no URL work) runs
in this process; the client runs in a separate process so the two do not share a GIL.
Prints p50 latency and calls/s of ResolveImageUrl vs echo and their ratio; for a batch
of 1000 keys the end-to-end time per key and the server handler time per key (measured
in-process); and for the wishlist API's page (50 refs with include_fallback, half new keys
with versions, half legacy S3 URLs of every form) the handler time per key and the
end-to-end p50 against echo. Rounds interleave the variants so machine noise hits all of
them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import time
from collections.abc import Callable
from typing import Any

import grpc
from echo import REQ, echo_async, echo_handler, echo_stub

from image_resolver.config import PLACEHOLDER_CDN_DOMAIN, load_settings
from image_resolver.grpc_api.image_service import ImageUrlServicer
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc
from wishlist_dev.demo_data import PREFIX, legacy_urls
from wishlist_dev.embedded import EmbeddedResolver

BUCKET = "lego-moc-wishlist-uploads"  # the settings' default bucket
# Both users hash into the CDN half of the 50% rollout, so every key takes the CDN path
# (and the page's refs also get their S3 fallback URL).
BATCH = pb.BatchResolveImageUrlsRequest(
    images=[pb.ImageRef(ref=f"uploads/wishlist/user-{i % 97}/image-{i}.jpg") for i in range(1000)],
    user_id="user-1",
)


def _page(size: int = 50, user: str = "bench-user") -> pb.BatchResolveImageUrlsRequest:
    """What the wishlist API sends for one page (as bench_wishlist_api.py seeds it)."""
    forms = list(legacy_urls(BUCKET, "us-east-1", "k"))
    images = []
    for n in range(size):
        key = f"{PREFIX}{user}/{n:04d}.jpg"
        if n % 2 == 0:
            images.append(pb.ImageRef(ref=key, version=str(n % 3) if n % 3 else ""))
        else:
            url = legacy_urls(BUCKET, "us-east-1", key)[forms[n % len(forms)]]
            images.append(pb.ImageRef(ref=url))
    return pb.BatchResolveImageUrlsRequest(images=images, user_id=user, include_fallback=True)


PAGE = _page()


def _timed_calls(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append(time.perf_counter() - t0)
    return out


def _client(target: str, calls: int, rounds: int, out: Any) -> None:
    """Runs in its own process: interleaved rounds of echo, resolve and batch calls."""
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.ImageUrlServiceStub(channel)
        echo = echo_stub(channel)
        variants: dict[str, Callable[[], object]] = {
            "echo": lambda: echo(REQ, timeout=5),
            "ResolveImageUrl": lambda: stub.ResolveImageUrl(REQ, timeout=5),
            "batch of 1000": lambda: stub.BatchResolveImageUrls(BATCH, timeout=10),
            "page of 50": lambda: stub.BatchResolveImageUrls(PAGE, timeout=5),
        }
        for call in variants.values():  # warm up
            _timed_calls(call, 100)
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            samples["echo"] += _timed_calls(variants["echo"], calls // rounds)
            samples["ResolveImageUrl"] += _timed_calls(variants["ResolveImageUrl"], calls // rounds)
            samples["batch of 1000"] += _timed_calls(variants["batch of 1000"], 20)
            samples["page of 50"] += _timed_calls(variants["page of 50"], calls // rounds)
    out.put(samples)


class _Context:
    """Enough of a ServicerContext for calling the handler in-process."""

    def invocation_metadata(self) -> tuple[()]:
        return ()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()

    settings = load_settings(
        cloudfront_distribution_domain=PLACEHOLDER_CDN_DOMAIN,
        s3_fallback_mode="public",
        cdn_rollout_percent=50,  # the rollout hash runs on every call
        grpc_port=0,
        metrics_port=0,
    )
    with EmbeddedResolver(settings, extra_handlers=[echo_handler(echo_async)]) as server:
        ctx = mp.get_context("spawn")
        out: Any = ctx.Queue()
        proc = ctx.Process(target=_client, args=(server.target, args.calls, args.rounds, out))
        proc.start()
        samples: dict[str, list[float]] = out.get(timeout=600)
        proc.join()
        servicer = ImageUrlServicer(server.components.resolver)
        loop = asyncio.new_event_loop()
        handler_times = _timed_calls(
            lambda: loop.run_until_complete(servicer.BatchResolveImageUrls(BATCH, _Context())), 200
        )
        page_times = _timed_calls(
            lambda: loop.run_until_complete(servicer.BatchResolveImageUrls(PAGE, _Context())),
            max(200, args.calls // 2),
        )
        loop.close()

    p50 = {name: statistics.median(s) for name, s in samples.items()}
    print(f"unary, {args.calls} calls each, sequential, client in another process")
    for name in ("echo", "ResolveImageUrl"):
        rate = 1 / statistics.mean(samples[name])
        print(f"  {name:<16} p50 {p50[name] * 1e6:8.1f} us   {rate:8.0f} calls/s")
    print(
        f"  ResolveImageUrl / echo p50 ratio: {p50['ResolveImageUrl'] / p50['echo']:.3f}  (goal <= 1.10)"
    )
    batch = p50["batch of 1000"]
    handler = statistics.median(handler_times)
    print("batch of 1000 keys (user-level rollout at 50%)")
    print(f"  end to end      p50 {batch * 1e3:8.2f} ms = {batch / 1000 * 1e6:5.2f} us/key")
    print(
        f"  server handler  p50 {handler * 1e3:8.2f} ms = {handler / 1000 * 1e6:5.2f} us/key  (goal <= 2)"
    )
    page, page_handler = p50["page of 50"], statistics.median(page_times)
    size = len(PAGE.images)
    print(f"page of {size} with fallback (half new keys, half legacy S3 URLs)")
    print(f"  end to end      p50 {page * 1e3:8.3f} ms = {page / p50['echo']:.2f} x echo p50")
    print(
        f"  server handler  p50 {page_handler * 1e3:8.3f} ms = {page_handler / size * 1e6:5.2f} us/key"
    )


if __name__ == "__main__":
    main()
