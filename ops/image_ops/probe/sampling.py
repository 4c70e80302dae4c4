"""Which URLs to load: the service's own answers for sample users, so the probe sees what
those users' browsers see (CDN inside the rollout, S3 fallback outside).

A run has a total time budget (`deadline`, a `time.monotonic()` value): once it is reached
no further user is resolved and no further load starts (a load cut by it is dropped), and
the run ends `partial` with what it measured, so the caller still writes a result before
its Job is killed."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from image_ops.probe.timing import DEADLINE_REACHED, Sample, fetch, refused
from image_ops.probe.urls import UrlPolicy

if TYPE_CHECKING:
    from wishlist_images_client import ImageResolverClient

MAX_REQUESTS = 5000  # keys x users x rounds; a probe is a sample, not a load test
MIN_LOAD_SECONDS = 1.0  # a load is not started with less time than this left


@dataclass(frozen=True)
class Sampled:
    """The loads done; `planned` is keys x users x rounds; `partial`: the deadline stopped it."""

    samples: list[Sample]
    planned: int
    partial: bool = False


def resolved_urls(
    client: ImageResolverClient, keys: Sequence[str], users: Sequence[str]
) -> Iterator[tuple[str, str, str]]:
    """(user, origin "cdn"/"s3", url) for every key each user may see; refused refs skipped."""
    from wishlist_images_client import Origin, ResolvedImage

    for user in users:
        for item in client.batch_resolve(list(keys), user_id=user):
            if isinstance(item, ResolvedImage):
                yield user, "cdn" if item.origin == Origin.CDN else "s3", item.url


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


def run(
    client: ImageResolverClient,
    keys: Sequence[str],
    users: Sequence[str],
    *,
    rounds: int = 1,
    pinned: Mapping[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
    timeout: float = 10.0,
    deadline: float | None = None,
    policy: UrlPolicy | None = None,
) -> Sampled:
    """Load every resolved URL `rounds` times, one fresh connection each, in order, until
    `deadline` (time.monotonic()); no load's timeout reaches past it. With a `policy`, a URL
    it refuses is a failed sample saying why, and is never requested."""
    planned = len(keys) * len(users) * rounds
    if planned > MAX_REQUESTS:
        raise ValueError(f"keys x users x rounds must be at most {MAX_REQUESTS}")
    urls: list[tuple[str, str, str]] = []
    for user in users:
        if (left := _left(deadline)) is not None and left <= 0:
            return Sampled([], planned, partial=True)
        urls += resolved_urls(client, keys, [user])
    samples: list[Sample] = []
    for _ in range(rounds):
        for user, origin, url in urls:
            why = policy.refuse(url, origin) if policy is not None else None
            if why is not None:
                samples.append(refused(url, origin=origin, user=user, why=why))
                continue
            left = _left(deadline)
            if left is not None and left < MIN_LOAD_SECONDS:
                return Sampled(samples, planned, partial=True)
            sample = fetch(
                url,
                origin=origin,
                user=user,
                pinned=pinned,
                tls=tls,
                timeout=timeout if left is None else min(timeout, left),
                deadline=deadline,
            )
            if sample.error.startswith(DEADLINE_REACHED):
                return Sampled(samples, planned, partial=True)
            samples.append(sample)
    return Sampled(samples, planned)
