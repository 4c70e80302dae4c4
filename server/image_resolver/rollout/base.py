"""What every rollout store shares: its errors, what a read returns, and the stored document.

Every store keeps one JSON document (see `encode`). A read that finds garbage raises
`CorruptStore`: range checks happen here, so nothing out of range reaches the wire (a
revision of 2^70 once made GetRollout INTERNAL). The write rule, the same for every store:
a valid stored document is replaced only when its revision is the one the writer expected;
a missing or corrupt one is replaced whatever the writer expected, so the kill switch can
always be written. The replacement itself is still conditional on what was read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from image_resolver.errors import NotConfigured
from image_resolver.rollout.decision import MAX_REVISION, RolloutState
from wishlist_runtime.values import Percent, RecordedAuthor

MAX_DOCUMENT_BYTES = 16 * 1024  # a real document is ~150 bytes; anything huge is garbage


class StoreError(Exception):
    """The store could not be read or written."""


class WriteOutcomeUnknown(StoreError):
    """A write was sent and no answer came back (a timeout, a dropped connection): it may
    have landed, or may still land when the store answers. Never report it as refused."""


class CorruptStore(StoreError):
    """The store holds something that is not a flag document; a write may replace it."""


class ReadOnlyStore(NotConfigured):
    """This store cannot compare-and-set, so the service does not write it."""


class RevisionConflict(Exception):
    """A compare-and-set lost: the stored revision is not the one the writer expected."""

    def __init__(self, current: RolloutState | None, message: str) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class Snapshot:
    """What a store holds now (None: no document); `token` changes whenever it may have."""

    state: RolloutState | None
    token: object


class RolloutStore(Protocol):
    """A place the flag lives; `describe()` names it without secrets for logs and health."""

    def describe(self) -> str: ...

    def change_token(self) -> object:
        """Cheap check for "may have changed" (a stat, or None when only a read can tell)."""
        ...

    def read(self) -> Snapshot:
        """Raises StoreError when unreadable, CorruptStore when it holds garbage."""
        ...

    def compare_and_set(self, expected_revision: int, new: RolloutState) -> RolloutState: ...


class _Document(BaseModel):
    """The stored JSON; strict so that garbage is refused rather than half-read."""

    model_config = ConfigDict(extra="forbid", strict=True)

    percent: Percent
    cdn_enabled: bool
    revision: int = Field(ge=0, lt=MAX_REVISION)  # room for one more write
    updated_by: RecordedAuthor = ""
    updated_at: str | None = Field(None, max_length=64)


def encode(state: RolloutState) -> str:
    doc = {
        "percent": state.percent,
        "cdn_enabled": state.cdn_enabled,
        "revision": state.revision,
        "updated_by": state.updated_by,
        "updated_at": state.updated_at.isoformat() if state.updated_at else None,
    }
    return json.dumps(doc, sort_keys=True)


def decode(text: str | bytes) -> RolloutState:
    """The state in a stored document; CorruptStore for anything out of shape or range."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise CorruptStore(f"stored rollout is too large ({len(text)} bytes)")
    try:
        doc = _Document.model_validate_json(text)
        at = _instant(doc.updated_at)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise CorruptStore(
            f"stored rollout is not a valid flag document: {first_line(exc)}"
        ) from None
    return RolloutState(doc.percent, doc.cdn_enabled, doc.revision, doc.updated_by, at)


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError("updated_at needs a UTC offset")
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise ValueError("updated_at is out of range") from None


def first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


def check_revision(current: RolloutState | None, expected: int) -> None:
    """The write rule: None (missing or corrupt) is replaceable; else revisions are equal."""
    if current is not None and current.revision != expected:
        raise RevisionConflict(
            current,
            f"rollout changed meanwhile: revision is {current.revision}, expected {expected}",
        )
