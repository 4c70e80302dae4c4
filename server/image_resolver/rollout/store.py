"""Where the rollout flag lives, chosen by ROLLOUT_STORE; which guarantee each store gives:

- `dynamodb://TABLE/KEY` (production default): conditional PutItem on the revision, a true
  compare-and-set across a fleet (exactly one of two concurrent writers wins).
- `file:///path.json`: compare-and-set under `flock`, for one host (demo, single node).
- `ssm:///parameter/name`: read-only; SSM has no conditional write (see `aws_stores`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from image_resolver.rollout.aws_stores import DynamoDbStore, SsmStore
from image_resolver.rollout.base import (
    CorruptStore,
    ReadOnlyStore,
    RevisionConflict,
    RolloutStore,
    Snapshot,
    StoreError,
    WriteOutcomeUnknown,
    decode,
    encode,
)
from image_resolver.rollout.file_store import FileStore

__all__ = [
    "CorruptStore",
    "DynamoDbStore",
    "FileStore",
    "ReadOnlyStore",
    "RevisionConflict",
    "RolloutStore",
    "Snapshot",
    "SsmStore",
    "StoreError",
    "WriteOutcomeUnknown",
    "decode",
    "encode",
    "open_store",
]

STORE_URLS = "file:///path/to/rollout.json, dynamodb://TABLE/KEY or ssm:///parameter/name"
_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")
MAX_KEY = 1024

ClientFactory = Callable[[str], Any]  # service name ("dynamodb", "ssm") -> boto3 client


def open_store(url: str, client_factory: ClientFactory | None = None) -> RolloutStore:
    """The store a ROLLOUT_STORE URL names; ValueError (naming the forms) for anything else."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.scheme == "file" and path:
        return FileStore(Path(path))
    if parts.scheme == "dynamodb" and _TABLE.fullmatch(parts.netloc):
        key = path[1:]
        if 0 < len(key) <= MAX_KEY and not parts.query:
            return DynamoDbStore(_client(client_factory, "dynamodb"), parts.netloc, key)
    if parts.scheme == "ssm" and path.strip("/"):
        return SsmStore(_client(client_factory, "ssm"), path)
    raise ValueError(f"ROLLOUT_STORE must be {STORE_URLS}")


def _client(factory: ClientFactory | None, service: str) -> Any:
    if factory is None:
        import boto3

        return boto3.client(service)  # type: ignore[call-overload]
    return factory(service)
