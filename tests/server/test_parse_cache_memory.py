"""The legacy-URL parse cache under a cache-busting load stays well inside the pod limit."""

from __future__ import annotations

import grpc

from tests.conftest import BUCKET
from tests.support.serve_process import rss_bytes, serve_process
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc

DISTINCT = 24_000
MB = 1024 * 1024


def _legacy_url(i: int) -> str:
    """A distinct accepted legacy URL of about 4 KB: a 1,010-byte key, percent-encoded,
    plus a presign query (which is stripped)."""
    url = f"https://{BUCKET}.s3.amazonaws.com/uploads/wishlist/u/{i:06d}/{'%C3%A9' * 490}.jpg"
    return url + "?X-Amz-Signature=" + "a" * (4000 - len(url))


def test_rss_stays_flat_under_24000_distinct_4kb_legacy_urls(local_aws) -> None:
    with serve_process(local_aws.endpoint) as (proc, port):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.ImageUrlServiceStub(channel)
            warm = pb.BatchResolveImageUrlsRequest(images=[pb.ImageRef(ref=_legacy_url(-1))])
            stub.BatchResolveImageUrls(warm, timeout=30)
            before = rss_bytes(proc.pid)
            for start in range(0, DISTINCT, 1000):
                refs = [pb.ImageRef(ref=_legacy_url(i)) for i in range(start, start + 1000)]
                resp = stub.BatchResolveImageUrls(
                    pb.BatchResolveImageUrlsRequest(images=refs), timeout=30
                )
                assert [r.WhichOneof("result") for r in resp.results] == ["image"] * 1000
            after = rss_bytes(proc.pid)
    print(f"\nresolver RSS {before / MB:.0f} MB -> {after / MB:.0f} MB after {DISTINCT} URLs")
    assert after - before < 64 * MB  # 164 MB with the count-bounded cache
    assert after < 200 * MB  # the pod limit is 256 Mi
