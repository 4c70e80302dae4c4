"""fill_wire reuses one converted Timestamp per expiry; the wire must not tell."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from image_resolver.grpc_api.image_service import fill_wire
from image_resolver.resolver import Origin, Resolved
from wishlist.images.v1 import image_url_service_pb2 as pb

expiries = st.one_of(
    st.none(),
    st.datetimes(
        min_value=dt.datetime(1971, 1, 1),
        max_value=dt.datetime(2200, 1, 1),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5))]),
    ),
)
results = st.builds(
    Resolved,
    url=st.text(min_size=1, max_size=40),
    origin=st.sampled_from(Origin),
    expires_at=expiries,
    fallback_url=st.text(max_size=40),
    fallback_expires_at=expiries,
)


def _library(resolved: Resolved) -> pb.ResolvedImageUrl:
    """The plain library conversion, FromDatetime on every field."""
    image = pb.ResolvedImageUrl(url=resolved.url, origin=resolved.origin.value)
    if resolved.expires_at is not None:
        image.expires_at.FromDatetime(resolved.expires_at)
    if resolved.fallback_url:
        image.fallback_url = resolved.fallback_url
        if resolved.fallback_expires_at is not None:
            image.fallback_expires_at.FromDatetime(resolved.fallback_expires_at)
    return image


@given(st.lists(results, min_size=1, max_size=6))
def test_fill_wire_gives_the_library_conversion_bytes(batch: list[Resolved]) -> None:
    for resolved in batch + batch:  # the second pass reads the memoised timestamps
        image = pb.ResolvedImageUrl()
        fill_wire(image, resolved)
        assert image.SerializeToString(deterministic=True) == _library(resolved).SerializeToString(
            deterministic=True
        )
