"""CloudFront failures of CreateInvalidation: what the caller learns (moto cannot inject them)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from image_resolver.invalidation import InvalidationFailed, Invalidator
from image_resolver.urls import UrlRules

RULES = UrlRules(
    bucket="lego-moc-wishlist-uploads", region="us-east-1", cdn_domain="d1.cloudfront.net"
)


class StubCloudFront:
    """Answers `ok_batches` CreateInvalidation calls, then raises `error` for every call."""

    def __init__(self, error: Exception, ok_batches: int = 0) -> None:
        self.error = error
        self.ok_batches = ok_batches
        self.calls: list[dict[str, Any]] = []

    def create_invalidation(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if len(self.calls) > self.ok_batches:
            raise self.error
        return {"Invalidation": {"Id": f"I{len(self.calls)}", "Status": "InProgress"}}


def client_error(code: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "arn:aws:iam::123456789012:role/secret-role"}},
        "CreateInvalidation",
    )


@pytest.mark.parametrize(
    ("code", "kind", "retry"),
    [
        ("Throttling", "throttled", True),
        ("TooManyInvalidationsInProgress", "throttled", True),
        ("AccessDenied", "denied", False),
        ("NoSuchDistribution", "no_distribution", False),
        ("InternalError", "unavailable", True),
        ("SomethingNew", "error", False),
    ],
)
def test_cloudfront_errors_are_classified(code: str, kind: str, retry: bool) -> None:
    invalidator = Invalidator(StubCloudFront(client_error(code)), "E123", RULES)
    with pytest.raises(InvalidationFailed) as caught:
        invalidator.invalidate(["uploads/wishlist/u/a.jpg"], "ref-1")
    assert caught.value.kind == kind
    assert (caught.value.retry_after is not None) == retry
    assert caught.value.done == []
    assert "secret-role" not in caught.value.message  # AWS's message names our role


def test_unreachable_cloudfront_is_unavailable() -> None:
    error = EndpointConnectionError(endpoint_url="https://cloudfront.amazonaws.com")
    invalidator = Invalidator(StubCloudFront(error), "E123", RULES)
    with pytest.raises(InvalidationFailed) as caught:
        invalidator.invalidate(["uploads/wishlist/u/a.jpg"], "ref-1")
    assert caught.value.kind == "unavailable"


def test_batches_created_before_a_failure_are_reported() -> None:
    stub = StubCloudFront(client_error("Throttling"), ok_batches=2)
    invalidator = Invalidator(stub, "E123", RULES)
    refs = [f"uploads/wishlist/u/{i}.jpg" for i in range(2500)]
    with pytest.raises(InvalidationFailed) as caught:
        invalidator.invalidate(refs, "big")
    done = caught.value.done
    assert [d.id for d in done] == ["I1", "I2"]
    assert [len(d.paths) for d in done] == [1000, 1000]
    assert done[0].paths[0] == "/uploads/wishlist/u/0.jpg"
    # a retry with the same caller reference re-sends every batch (CloudFront dedupes by it)
    stub.ok_batches = 10
    again = invalidator.invalidate(refs, "big")
    assert [c["InvalidationBatch"]["CallerReference"] for c in stub.calls[3:]] == [
        "big#0",
        "big#1",
        "big#2",
    ]
    assert [len(r.paths) for r in again] == [1000, 1000, 500]
