"""The Invalidator's extension point: purgers are told each batch CloudFront accepted."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from image_resolver.invalidation import InvalidationFailed, Invalidator, Purger
from tests.server.test_invalidation_errors import RULES, StubCloudFront, client_error


class Recorder:
    def __init__(self, stub: StubCloudFront | None = None) -> None:
        self.stub = stub
        self.batches: list[tuple[str, ...]] = []
        self.calls_seen: list[int] = []

    def __call__(self, paths: Sequence[str]) -> None:
        self.batches.append(tuple(paths))
        if self.stub is not None:
            self.calls_seen.append(len(self.stub.calls))


def test_each_accepted_batch_reaches_every_purger_after_cloudfront() -> None:
    stub = StubCloudFront(client_error("Throttling"), ok_batches=10)
    first, second = Recorder(stub), Recorder()
    purgers: list[Purger] = [first, second]
    invalidator = Invalidator(stub, "E123", RULES, purgers=purgers)
    refs = [f"uploads/wishlist/u/{i}.jpg" for i in range(1500)]
    invalidator.invalidate(refs, "ref-1")
    assert [len(b) for b in first.batches] == [1000, 500]
    assert first.batches == second.batches
    assert first.batches[0][0] == "/uploads/wishlist/u/0.jpg"
    assert first.calls_seen == [1, 2]  # each batch purged once CloudFront answered it
    # a retry answered from memory is not purged again
    invalidator.invalidate(refs, "ref-1")
    assert len(first.batches) == 2


def test_a_batch_cloudfront_refuses_is_not_purged() -> None:
    stub = StubCloudFront(client_error("Throttling"), ok_batches=1)
    purger = Recorder()
    invalidator = Invalidator(stub, "E123", RULES, purgers=[purger])
    refs = [f"uploads/wishlist/u/{i}.jpg" for i in range(1500)]
    with pytest.raises(InvalidationFailed):
        invalidator.invalidate(refs, "ref-1")
    assert [len(b) for b in purger.batches] == [1000]


def test_a_failing_purger_is_logged_and_the_invalidation_still_answers(caplog) -> None:
    def broken(paths: Sequence[str]) -> None:
        raise RuntimeError("edge is on fire")

    after = Recorder()
    stub = StubCloudFront(client_error("Throttling"), ok_batches=1)
    invalidator = Invalidator(stub, "E123", RULES, purgers=[broken, after])
    with caplog.at_level(logging.ERROR, logger="image_resolver.invalidation"):
        done = invalidator.invalidate(["uploads/wishlist/u/a.jpg"], "ref-1")
    assert [(d.id, d.paths) for d in done] == [("I1", ("/uploads/wishlist/u/a.jpg",))]
    assert after.batches == [("/uploads/wishlist/u/a.jpg",)]  # the others still run
    assert "a purger failed after CloudFront accepted the invalidation" in caplog.text
