"""CloudFront cache invalidation for image refs (the story's "Option 2").

Versioned URLs (`?v=`) are the default way to show a replaced image; this is for
purging what must go now (a deleted or wrongly uploaded image). Paths are built by the
same rule as CDN URLs, so an invalidation hits exactly the cached URL.

Extension point: `Purger`s passed to the `Invalidator` (or to `server.serve`/
`build_components`, programmatically; there is no setting) are told the paths of each batch
CloudFront accepted, e.g. to purge another cache in front of the same origin. The dev
tooling composes its local edge this way (`wishlist_dev.edge.purge`).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from image_resolver.errors import FieldError, NotConfigured
from image_resolver.urls import RefError, UrlRules

log = logging.getLogger(__name__)

MAX_REFS = 3000  # CloudFront allows 3,000 file paths in progress per distribution
BATCH_PATHS = 1000
MAX_CALLER_REFERENCE = 128


class Purger(Protocol):
    """Called with the paths of one batch after CloudFront accepted it, on the thread that
    serves the call, before the call answers. A failure is logged, never returned to the
    caller: CloudFront has already accepted the invalidation. Keep it quick (a timeout)."""

    def __call__(self, paths: Sequence[str], /) -> None: ...


@dataclass(frozen=True)
class InvalidationResult:
    id: str
    status: str
    paths: tuple[str, ...]


FailureKind = Literal["throttled", "denied", "no_distribution", "unavailable", "error"]

# CloudFront error code -> (kind, message safe to return, suggested retry delay in seconds).
# AWS's own messages are not returned: AccessDenied names our role's ARN.
_CLOUDFRONT_ERRORS: dict[str, tuple[FailureKind, str, float | None]] = {
    "Throttling": ("throttled", "CloudFront is throttling invalidation requests", 5.0),
    "TooManyInvalidationsInProgress": (
        "throttled",
        "too many invalidations are in progress on the distribution",
        60.0,
    ),
    "AccessDenied": (
        "denied",
        "the resolver's AWS role may not create invalidations on this distribution",
        None,
    ),
    "NoSuchDistribution": (
        "no_distribution",
        "CLOUDFRONT_DISTRIBUTION_ID names no CloudFront distribution",
        None,
    ),
    "ServiceUnavailable": ("unavailable", "CloudFront is unavailable", 1.0),
    "InternalError": ("unavailable", "CloudFront had an internal error", 1.0),
}


class InvalidationFailed(Exception):
    """CloudFront refused or failed a batch. `done` holds the batches created before it,
    so the caller knows which paths are already being purged."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        done: list[InvalidationResult],
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.done = done
        self.retry_after = retry_after


def _failure(exc: Exception, done: list[InvalidationResult]) -> InvalidationFailed:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        known = _CLOUDFRONT_ERRORS.get(code)
        if known is not None:
            kind, message, retry = known
            return InvalidationFailed(kind, message, done, retry)
        log.warning("CloudFront refused an invalidation", extra={"aws_error": code})
        return InvalidationFailed("error", f"CloudFront refused the invalidation ({code})", done)
    return InvalidationFailed("unavailable", "CloudFront could not be reached", done, 1.0)


class Invalidator:
    """Creates CloudFront invalidations; retries with the same caller reference are answered
    from memory here, and by CloudFront itself across replicas."""

    def __init__(
        self,
        client: Any,
        distribution_id: str | None,
        rules: UrlRules,
        memo_size: int = 256,
        purgers: Sequence[Purger] = (),
    ) -> None:
        self.client = client
        self.purgers = tuple(purgers)  # told each accepted batch (see Purger)
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
        results: list[InvalidationResult] = []
        for n, batch in enumerate(_chunks(paths, BATCH_PATHS)):
            reference = caller_reference if len(paths) <= BATCH_PATHS else f"{caller_reference}#{n}"
            try:
                results.append(self._create(batch, reference))
            except (ClientError, BotoCoreError) as exc:
                raise _failure(exc, results) from None
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
        self._after_accepted(paths)
        return InvalidationResult(answer["Id"], answer["Status"], tuple(paths))

    def _after_accepted(self, paths: list[str]) -> None:
        for purger in self.purgers:
            try:
                purger(tuple(paths))
            except Exception:  # an extension's bug must not fail an accepted invalidation
                log.exception("a purger failed after CloudFront accepted the invalidation")


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
