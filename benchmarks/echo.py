"""The echo RPC the resolver benchmarks measure against: the ResolveImageUrl request and
response types, no URL work. Shared by bench_resolver.py and bench_server_kinds.py.

    python benchmarks/echo.py --port N

runs the real resolver (settings from the environment, as `image-resolver serve`, TCP on
127.0.0.1:N plus GRPC_UNIX_SOCKET if set) with the echo method added, until SIGTERM:
bench_wishlist_api.py measures its page against an echo RPC on the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

import grpc

from wishlist.images.v1 import image_url_service_pb2 as pb

METHOD = "/bench.Echo/Resolve"
REQ = pb.ResolveImageUrlRequest(
    image=pb.ImageRef(ref="uploads/wishlist/user-123/abc123.jpg", version="17"),
    user_id="user-123",
)


def echo(request: pb.ResolveImageUrlRequest, context: Any) -> pb.ResolveImageUrlResponse:
    return pb.ResolveImageUrlResponse(image=pb.ResolvedImageUrl(url=request.image.ref, origin=1))


async def echo_async(
    request: pb.ResolveImageUrlRequest, context: Any
) -> pb.ResolveImageUrlResponse:
    return echo(request, context)


def echo_handler(fn: Any) -> grpc.GenericRpcHandler:
    """A generic handler serving `fn` (echo or echo_async) as METHOD."""
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


def echo_stub(channel: Any) -> Any:
    """A callable for METHOD on a sync or aio channel."""
    return channel.unary_unary(
        METHOD,
        request_serializer=pb.ResolveImageUrlRequest.SerializeToString,
        response_deserializer=pb.ResolveImageUrlResponse.FromString,
    )


async def _serve_with_echo(port: int) -> None:
    from image_resolver.config import load_settings, start_up
    from image_resolver.server import build_components, start

    settings = start_up("image-resolver", load_settings, grpc_port=port, grpc_host="127.0.0.1")
    running = await start(build_components(settings), "127.0.0.1", port, [echo_handler(echo_async)])
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.stop(0.5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(_serve_with_echo(parser.parse_args().port))
