"""The echo RPC the resolver benchmarks measure against: the ResolveImageUrl request and
response types, no URL work. Shared by bench_resolver.py and bench_server_kinds.py."""

from __future__ import annotations

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
