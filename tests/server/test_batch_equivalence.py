"""A batch answers each ref exactly as ResolveImageUrl answers it alone: the CDN/S3
decision, URL building and refusals live in one place, whichever RPC is used."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import BUCKET
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc
from wishlist_dev.demo_data import legacy_urls

FORMS = sorted(legacy_urls(BUCKET, "us-east-1", "k"))
keys = st.from_regex(r"uploads/wishlist/[a-z0-9-]{1,8}/[a-z0-9._ -]{1,10}", fullmatch=True)
refs = st.one_of(
    keys,
    st.builds(
        lambda key, form: legacy_urls(BUCKET, "us-east-1", key)[form], keys, st.sampled_from(FORMS)
    ),
    st.sampled_from(["", "https://evil.example.com/x.jpg", "uploads/wishlist/u/../x", "media/x"]),
    st.text(max_size=30),
)
versions = st.one_of(
    st.just(""),
    st.from_regex(r"[0-9]{1,4}", fullmatch=True),
    st.text(max_size=6),
    st.just("9" * 129),
)
images = st.lists(st.builds(pb.ImageRef, ref=refs, version=versions), min_size=1, max_size=8)


def _violation(status: status_pb2.Status, prefix: str) -> tuple[int, str, str]:
    """(code, field without its RPC's prefix, description) of a BadRequest status."""
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    [violation] = bad.field_violations
    assert violation.field.startswith(prefix)
    return status.code, violation.field.removeprefix(prefix), violation.description


def _alone(stub: pb_grpc.ImageUrlServiceStub, request: pb.ResolveImageUrlRequest) -> object:
    try:
        return stub.ResolveImageUrl(request, timeout=5).image
    except grpc.RpcError as err:
        status = rpc_status.from_call(err)
        assert status is not None
        return _violation(status, "image.")


def test_batch_answers_each_ref_as_the_unary_call(start_resolver) -> None:
    server = start_resolver(cdn_rollout_percent=50)  # half the users and keys on the CDN

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(images, st.sampled_from(["", "u-1", "u-2", "bench-user"]), st.booleans())
    def check(batch: list[pb.ImageRef], user_id: str, include_fallback: bool) -> None:
        request = pb.BatchResolveImageUrlsRequest(
            images=batch, user_id=user_id, include_fallback=include_fallback
        )
        got = stub.BatchResolveImageUrls(request, timeout=5).results
        assert len(got) == len(batch)
        for i, (image, result) in enumerate(zip(batch, got, strict=True)):
            alone = _alone(
                stub,
                pb.ResolveImageUrlRequest(
                    image=image, user_id=user_id, include_fallback=include_fallback
                ),
            )
            if result.WhichOneof("result") == "image":
                assert result.image == alone
            else:
                assert _violation(result.error, f"images[{i}].") == alone

    with grpc.insecure_channel(server.target) as channel:
        stub = pb_grpc.ImageUrlServiceStub(channel)
        check()
