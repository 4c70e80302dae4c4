"""CloudFront cache invalidation for image refs (the story's "Option 2").

Versioned URLs (`?v=`) are the default way to show a replaced image; this is for
purging what must go now (a deleted or wrongly uploaded image). Paths are built by the
same rule as CDN URLs, so an invalidation hits exactly the cached URL.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from image_resolver.errors import FieldError, NotConfigured
from image_resolver.urls import RefError, UrlRules

MAX_REFS = 3000  # CloudFront allows 3,000 file paths in progress per distribution
BATCH_PATHS = 1000
MAX_CALLER_REFERENCE = 128


@dataclass(frozen=True)
class InvalidationResult:
    id: str
    status: str
    paths: tuple[str, ...]


class Invalidator:
    """Creates CloudFront invalidations; retries with the same caller reference are answered
    from memory here, and by CloudFront itself across replicas."""

    def __init__(
        self,
        client: Any,
        distribution_id: str | None,
        rules: UrlRules,
        memo_size: int = 256,
        purge_edge: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        self.client = client
        self.purge_edge = purge_edge  # a local edge (LOCAL_EDGE_PURGE_URL), after CloudFront
        self.distribution_id = distribution_id
        self.rules = rules
        self._memo: OrderedDict[tuple[str, tuple[str, ...]], list[InvalidationResult]] = (
            OrderedDict()
        )
        self._memo_size = memo_size
        self._lock = threading.Lock()

    def paths_for(self, refs: Sequence[str]) -> list[str]:
        """Normalise refs to invalidation paths, de-duplicated, in request order."""
        if not refs:
            raise FieldError("refs", "empty", "must name at least one image")
        if len(refs) > MAX_REFS:
            raise FieldError("refs", "too_many", f"at most {MAX_REFS} refs per call")
        paths: dict[str, None] = {}
        for i, ref in enumerate(refs):
            try:
                key = self.rules.parse(ref).key
            except RefError as exc:
                raise FieldError(f"refs[{i}]", exc.reason, exc.message) from None
            paths[self.rules.invalidation_path(key)] = None
        return list(paths)

    def invalidate(self, refs: Sequence[str], caller_reference: str) -> list[InvalidationResult]:
        if not caller_reference or len(caller_reference) > MAX_CALLER_REFERENCE:
            raise FieldError(
                "caller_reference", "bad_reference", f"must be 1..{MAX_CALLER_REFERENCE} characters"
            )
        if not caller_reference.isprintable():
            raise FieldError("caller_reference", "bad_reference", "must be printable")
        paths = self.paths_for(refs)
        if not self.distribution_id:
            raise NotConfigured("CLOUDFRONT_DISTRIBUTION_ID is not set on this resolver")
        memo_key = (caller_reference, tuple(paths))
        with self._lock:
            if memo_key in self._memo:
                self._memo.move_to_end(memo_key)
                return self._memo[memo_key]
        results = [
            self._create(
                batch, caller_reference if len(paths) <= BATCH_PATHS else f"{caller_reference}#{n}"
            )
            for n, batch in enumerate(_chunks(paths, BATCH_PATHS))
        ]
        with self._lock:
            self._memo[memo_key] = results
            while len(self._memo) > self._memo_size:
                self._memo.popitem(last=False)
        return results

    def _create(self, paths: list[str], caller_reference: str) -> InvalidationResult:
        answer = self.client.create_invalidation(
            DistributionId=self.distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": caller_reference,
            },
        )["Invalidation"]
        if self.purge_edge is not None:
            self.purge_edge(paths)
        return InvalidationResult(answer["Id"], answer["Status"], tuple(paths))


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
