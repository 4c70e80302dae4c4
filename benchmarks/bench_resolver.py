"""Resolver throughput against an echo RPC measured in the same run, on the same server.

    python benchmarks/bench_resolver.py [--calls 3000] [--rounds 5]

Prints, for unary calls: p50 latency and calls/s of ResolveImageUrl vs an echo RPC
(same request/response types, no URL work) and their ratio; for a batch of 1000 keys:
end-to-end time per key, and server handler time per key measured in-process. It also
runs the same echo on a sync (thread-pool) grpc server, the evidence for serving with
grpc.aio. Rounds interleave the variants so machine noise hits all of them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc

from image_resolver.config import PLACEHOLDER_CDN_DOMAIN, load_settings
from image_resolver.embedded import EmbeddedResolver
from image_resolver.grpc_api.image_service import ImageUrlServicer
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc

ECHO = "/bench.Echo/Resolve"


def _echo(request: pb.ResolveImageUrlRequest, context: Any) -> pb.ResolveImageUrlResponse:
    return pb.ResolveImageUrlResponse(image=pb.ResolvedImageUrl(url=request.image.ref, origin=1))


async def _echo_async(
    request: pb.ResolveImageUrlRequest, context: Any
) -> pb.ResolveImageUrlResponse:
    return _echo(request, context)


def _echo_handler(fn: Callable[..., Any]) -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(
        "bench.Echo",
        {
            "Resolve": grpc.unary_unary_rpc_method_handler(
                fn,
                request_deserializer=pb.ResolveImageUrlRequest.FromString,
                response_serializer=pb.ResolveImageUrlResponse.SerializeToString,
            )
        },
    )


def _timed_calls(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append(time.perf_counter() - t0)
    return out


class _Context:
    """Enough of a ServicerContext for calling the handler in-process."""

    def invocation_metadata(self) -> tuple[()]:
        return ()

    def time_remaining(self) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    settings = load_settings(
        cloudfront_distribution_domain=PLACEHOLDER_CDN_DOMAIN,
        s3_fallback_mode="public",
        cdn_rollout_percent=50,  # the rollout hash runs on every call
        grpc_port=0,
        metrics_port=0,
        aws_access_key_id="x",
    )
    sync_server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    sync_server.add_generic_rpc_handlers((_echo_handler(_echo),))
    sync_port = sync_server.add_insecure_port("127.0.0.1:0")
    sync_server.start()

    with EmbeddedResolver(settings, extra_handlers=[_echo_handler(_echo_async)]) as server:
        channel = grpc.insecure_channel(server.target)
        sync_channel = grpc.insecure_channel(f"127.0.0.1:{sync_port}")
        stub = pb_grpc.ImageUrlServiceStub(channel)
        echo = channel.unary_unary(
            ECHO,
            request_serializer=pb.ResolveImageUrlRequest.SerializeToString,
            response_deserializer=pb.ResolveImageUrlResponse.FromString,
        )
        sync_echo = sync_channel.unary_unary(
            ECHO,
            request_serializer=pb.ResolveImageUrlRequest.SerializeToString,
            response_deserializer=pb.ResolveImageUrlResponse.FromString,
        )
        req = pb.ResolveImageUrlRequest(
            image=pb.ImageRef(ref="uploads/wishlist/user-123/abc123.jpg", version="17"),
            user_id="user-123",
        )
        keys = [f"uploads/wishlist/user-{i % 97}/image-{i}.jpg" for i in range(1000)]
        batch = pb.BatchResolveImageUrlsRequest(
            images=[pb.ImageRef(ref=k) for k in keys], user_id="user-1"
        )
        variants: dict[str, Callable[[], object]] = {
            "echo (aio server)": lambda: echo(req, timeout=5),
            "ResolveImageUrl": lambda: stub.ResolveImageUrl(req, timeout=5),
            "echo (sync server)": lambda: sync_echo(req, timeout=5),
        }
        for call in variants.values():  # warm up
            _timed_calls(call, 300)
        samples: dict[str, list[float]] = {name: [] for name in variants}
        batch_samples: list[float] = []
        for _ in range(args.rounds):
            for name, call in variants.items():
                samples[name] += _timed_calls(call, args.calls // args.rounds)
            batch_samples += _timed_calls(lambda: stub.BatchResolveImageUrls(batch, timeout=10), 20)

        servicer = ImageUrlServicer(server.components.resolver)
        loop = asyncio.new_event_loop()
        handler_times = _timed_calls(
            lambda: loop.run_until_complete(servicer.BatchResolveImageUrls(batch, _Context())), 200
        )
        loop.close()
        channel.close()
        sync_channel.close()
    sync_server.stop(0)

    p50 = {name: statistics.median(s) for name, s in samples.items()}
    print(f"unary, {args.calls} calls each, sequential, one client thread")
    for name, value in p50.items():
        print(
            f"  {name:<22} p50 {value * 1e6:8.1f} us   {1 / statistics.mean(samples[name]):8.0f} calls/s"
        )
    print(
        f"  ResolveImageUrl / echo (aio) p50 ratio: {p50['ResolveImageUrl'] / p50['echo (aio server)']:.3f}  (goal <= 1.10)"
    )
    print(
        f"  sync-server echo / aio-server echo p50 ratio: {p50['echo (sync server)'] / p50['echo (aio server)']:.3f}"
    )
    batch_p50 = statistics.median(batch_samples)
    handler_p50 = statistics.median(handler_times)
    print("batch of 1000 keys (user-level rollout at 50%)")
    print(
        f"  end to end          p50 {batch_p50 * 1e3:8.2f} ms = {batch_p50 / 1000 * 1e6:5.2f} us/key"
    )
    print(
        f"  server handler      p50 {handler_p50 * 1e3:8.2f} ms = {handler_p50 / 1000 * 1e6:5.2f} us/key  (goal <= 3)"
    )


if __name__ == "__main__":
    main()
