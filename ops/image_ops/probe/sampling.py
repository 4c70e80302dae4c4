"""Which URLs to load: the service's own answers for sample users, so the probe sees what
those users' browsers see (CDN inside the rollout, S3 fallback outside)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from image_ops.probe.timing import Sample, fetch, refused
from image_ops.probe.urls import UrlPolicy

MAX_REQUESTS = 5000  # keys x users x rounds; a probe is a sample, not a load test


def resolved_urls(
    client: Any, keys: Sequence[str], users: Sequence[str]
) -> Iterator[tuple[str, str, str]]:
    """(user, origin "cdn"/"s3", url) for every key each user may see; refused refs skipped."""
    from wishlist_images_client import Origin, ResolvedImage

    for user in users:
        for item in client.batch_resolve(list(keys), user_id=user):
            if isinstance(item, ResolvedImage):
                yield user, "cdn" if item.origin == Origin.CDN else "s3", item.url


def run(
    client: Any,
    keys: Sequence[str],
    users: Sequence[str],
    *,
    rounds: int = 1,
    pinned: Mapping[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
    timeout: float = 10.0,
    policy: UrlPolicy | None = None,
) -> list[Sample]:
    """Load every resolved URL `rounds` times, one fresh connection each, in order. With a
    `policy`, a URL it refuses is a failed sample saying why, and is never requested."""
    if len(keys) * len(users) * rounds > MAX_REQUESTS:
        raise ValueError(f"keys x users x rounds must be at most {MAX_REQUESTS}")
    urls = list(resolved_urls(client, keys, users))
    samples = []
    for _ in range(rounds):
        for user, origin, url in urls:
            why = policy.refuse(url, origin) if policy is not None else None
            if why is not None:
                samples.append(refused(url, origin=origin, user=user, why=why))
            else:
                samples.append(
                    fetch(url, origin=origin, user=user, pinned=pinned, tls=tls, timeout=timeout)
                )
    return samples
