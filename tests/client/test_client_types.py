"""The typed client reads what a newer server sends without failing."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc
from wishlist_images_client import ImageResolverClient, Origin, ResolvedImage
from wishlist_images_client.types import batch_from, resolved_from

FUTURE_ORIGIN = 7  # e.g. a second CDN added to the enum by a newer server


def test_unknown_origin_value_maps_to_unspecified() -> None:
    msg = pb.ResolvedImageUrl(url="https://x/a.jpg", origin=FUTURE_ORIGIN)  # type: ignore[arg-type]
    assert resolved_from(msg) == ResolvedImage("https://x/a.jpg", Origin.UNSPECIFIED, None)


def test_known_origins_are_kept() -> None:
    for origin in (Origin.CDN, Origin.S3):
        assert resolved_from(pb.ResolvedImageUrl(url="u", origin=int(origin))).origin == origin  # type: ignore[arg-type]


class NewerServer(pb_grpc.ImageUrlServiceServicer):
    """Answers as a newer resolver would: an Origin value this client does not know."""

    def BatchResolveImageUrls(self, request, context):  # type: ignore[no-untyped-def]
        response = pb.BatchResolveImageUrlsResponse()
        for i, image in enumerate(request.images):
            response.results.add().image.CopyFrom(
                pb.ResolvedImageUrl(
                    url=f"https://cdn2/{image.ref}", origin=FUTURE_ORIGIN if i else 1
                )  # type: ignore[arg-type]
            )
        return response


@pytest.fixture
def newer_server() -> Iterator[str]:
    server = grpc.server(futures.ThreadPoolExecutor(2))
    pb_grpc.add_ImageUrlServiceServicer_to_server(NewerServer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def test_a_page_from_a_newer_server_is_not_lost(newer_server: str) -> None:
    with ImageResolverClient(newer_server, timeout=5) as client:
        got = client.batch_resolve(["uploads/wishlist/u/a.jpg", "uploads/wishlist/u/b.jpg"])
    assert got == [
        ResolvedImage("https://cdn2/uploads/wishlist/u/a.jpg", Origin.CDN, None),
        ResolvedImage("https://cdn2/uploads/wishlist/u/b.jpg", Origin.UNSPECIFIED, None),
    ]
    assert batch_from(pb.BatchResolveImageUrlsResponse()) == []
