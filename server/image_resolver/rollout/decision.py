"""Rollout rule: which users get CDN URLs. Pure; the same buckets as Unleash's flexibleRollout.

A subject's bucket is `murmur3_x86_32("<group_id>:<subject>", seed=0) % 100 + 1`, the
normalized hash of the Unleash clients, so an operator can predict (or reproduce in
Unleash) exactly who is in. Subject is the user id, or the image key when there is no user.
Raising the percent only adds buckets, so nobody moves from CDN back to S3 on a raise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import mmh3

from wishlist_runtime.values import percent

MAX_REVISION = 2**63 - 1  # int64: what every store, metric and client can hold


@dataclass(frozen=True)
class RolloutState:
    """One revision of the flag."""

    percent: int
    cdn_enabled: bool = True
    revision: int = 0
    updated_by: str = ""
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        percent(self.percent)
        if not 0 <= self.revision <= MAX_REVISION:
            raise ValueError("revision must be between 0 and 2^63-1")

    def next(
        self, *, percent: int, cdn_enabled: bool, updated_by: str, at: datetime
    ) -> RolloutState:
        """The state after one accepted write."""
        return replace(
            self,
            percent=percent,
            cdn_enabled=cdn_enabled,
            revision=self.revision + 1,
            updated_by=updated_by,
            updated_at=at,
        )

    @property
    def everyone_on_cdn(self) -> bool:
        return self.cdn_enabled and self.percent >= 100

    @property
    def nobody_on_cdn(self) -> bool:
        return not self.cdn_enabled or self.percent <= 0


def bucket(group_id: str, subject: str) -> int:
    """The subject's bucket, 1..100."""
    return int(mmh3.hash(f"{group_id}:{subject}", 0, signed=False)) % 100 + 1


def uses_cdn(state: RolloutState, group_id: str, subject: str) -> bool:
    """True when this subject gets the CDN under `state`; 0 and 100 need no hashing."""
    if state.nobody_on_cdn:
        return False
    if state.everyone_on_cdn:
        return True
    return bucket(group_id, subject) <= state.percent
