"""The rollout rule: Unleash-compatible buckets, monotonic raises, kill switch."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from image_resolver.rollout.decision import RolloutState, bucket, uses_cdn

# Golden vectors from Unleash's client-specification (10-flexible-rollout-strategy.json):
# (group id, stickiness value, expected bucket).
UNLEASH_VECTORS = [
    ("Feature.flexibleRollout.10", "174", 10),
    ("Feature.flexibleRollout.10", "499", 32),
    ("Feature.flexibleRollout.userId.55", "25", 55),
    ("Feature.flexibleRollout.sessionId.42", "147", 42),
]


@pytest.mark.parametrize(("group", "subject", "expected"), UNLEASH_VECTORS)
def test_buckets_match_unleash_golden_vectors(group: str, subject: str, expected: int) -> None:
    assert bucket(group, subject) == expected


@pytest.mark.parametrize(
    ("group", "subject", "percent", "enabled"),
    [
        ("Feature.flexibleRollout.10", "174", 10, True),
        ("Feature.flexibleRollout.10", "499", 10, False),
        ("Feature.flexibleRollout.userId.55", "25", 55, True),
        ("Feature.flexibleRollout.sessionId.42", "147", 42, True),
    ],
)
def test_unleash_enabled_column(group: str, subject: str, percent: int, enabled: bool) -> None:
    assert uses_cdn(RolloutState(percent), group, subject) is enabled


def _murmur3_x86_32(data: bytes, seed: int = 0) -> int:
    """Reference MurmurHash3 x86_32, written from the published algorithm, for cross-checking."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed
    rounded = len(data) - len(data) % 4
    for i in range(0, rounded, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    tail = data[rounded:]
    k = 0
    for i, byte in enumerate(tail):
        k |= byte << (8 * i)
    if tail:
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h


@given(st.text(max_size=40), st.text(max_size=40))
def test_bucket_is_normalized_murmur3_of_group_and_subject(group: str, subject: str) -> None:
    data = f"{group}:{subject}".encode("utf-8", "surrogatepass")
    assert bucket(group, subject) == _murmur3_x86_32(data) % 100 + 1


@given(st.text(max_size=30), st.integers(0, 100), st.integers(0, 100))
def test_raising_the_percent_never_moves_a_user_off_the_cdn(user: str, a: int, b: int) -> None:
    low, high = sorted((a, b))
    if uses_cdn(RolloutState(low), "g", user):
        assert uses_cdn(RolloutState(high), "g", user)


@given(st.text(max_size=30), st.integers(0, 100))
def test_kill_switch_sends_everyone_to_s3(user: str, percent: int) -> None:
    assert not uses_cdn(RolloutState(percent, cdn_enabled=False), "g", user)


def test_zero_and_hundred() -> None:
    users = [f"user-{i}" for i in range(1000)]
    assert not any(uses_cdn(RolloutState(0), "g", u) for u in users)
    assert all(uses_cdn(RolloutState(100), "g", u) for u in users)


@pytest.mark.parametrize("percent", [10, 50, 90])
def test_share_tracks_percent(percent: int) -> None:
    users = [f"user-{i}" for i in range(20_000)]
    share = sum(uses_cdn(RolloutState(percent), "wishlist-image-cdn", u) for u in users) / len(
        users
    )
    assert abs(share * 100 - percent) < 1.5


def test_state_refuses_out_of_range_percent() -> None:
    with pytest.raises(ValueError, match="percent"):
        RolloutState(101)
