"""Where the rollout flag lives: a JSON file (one host) or an SSM parameter (a fleet).

Both stores keep one JSON document. Writes are compare-and-set on `revision`:
- FileStore: exclusive `flock` around read-check-rename, so the check and the write
  are atomic for every process on the host.
- SsmStore: SSM has no conditional put. We check the revision, write, and compare the
  parameter Version SSM returns with the one we read; a writer that slipped in between
  is detected (the write reports a conflict) but cannot be prevented. For a strict CAS
  across a fleet, put the flag in a store with conditional writes (e.g. DynamoDB).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from image_resolver.rollout.decision import RolloutState


class StoreError(Exception):
    """The store could not be read or written, or holds something that is not a flag."""


class RevisionConflict(Exception):
    """A compare-and-set lost: the stored revision is not the one the writer expected."""

    def __init__(self, current: RolloutState | None, message: str) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class Snapshot:
    """What a store holds now; `token` changes whenever the stored document may have."""

    state: RolloutState | None
    token: object


class RolloutStore(Protocol):
    """A place the flag lives; `describe()` names it without secrets for logs and health."""

    def describe(self) -> str: ...

    def change_token(self) -> object:
        """Cheap check for "may have changed" (a stat, or None when only a read can tell)."""
        ...

    def read(self) -> Snapshot: ...

    def compare_and_set(self, expected_revision: int, new: RolloutState) -> RolloutState: ...


class _Document(BaseModel):
    """The stored JSON; strict so that garbage is refused rather than half-read."""

    model_config = ConfigDict(extra="forbid", strict=True)

    percent: int = Field(ge=0, le=100)
    cdn_enabled: bool
    revision: int = Field(ge=0)
    updated_by: str = ""
    updated_at: str | None = None


def encode(state: RolloutState) -> str:
    doc = {
        "percent": state.percent,
        "cdn_enabled": state.cdn_enabled,
        "revision": state.revision,
        "updated_by": state.updated_by,
        "updated_at": state.updated_at.isoformat() if state.updated_at else None,
    }
    return json.dumps(doc, sort_keys=True)


def decode(text: str) -> RolloutState:
    try:
        doc = _Document.model_validate_json(text)
        at = datetime.fromisoformat(doc.updated_at) if doc.updated_at else None
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise StoreError(
            f"stored rollout is not a valid flag document: {_first_line(exc)}"
        ) from None
    return RolloutState(doc.percent, doc.cdn_enabled, doc.revision, doc.updated_by, at)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


def _check_revision(current: RolloutState | None, expected: int) -> None:
    have = current.revision if current else 0
    if have != expected:
        raise RevisionConflict(
            current, f"rollout changed meanwhile: revision is {have}, expected {expected}"
        )


class FileStore:
    """A JSON file, replaced atomically (write temp, fsync, rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"file://{self.path}"

    def change_token(self) -> object:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot stat {self.path}: {exc.strerror}") from None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def read(self) -> Snapshot:
        token = self.change_token()
        if token is None:
            return Snapshot(None, None)
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Snapshot(None, None)
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from None
        return Snapshot(decode(text), token)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(self.path.with_name(self.path.name + ".lock"), "a+b")  # noqa: SIM115
        except OSError as exc:
            raise StoreError(f"cannot lock {self.path}: {exc.strerror}") from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def compare_and_set(self, expected_revision: int, new: RolloutState) -> RolloutState:
        with self._locked():
            _check_revision(self.read().state, expected_revision)
            self._write(encode(new))
        return new

    def _write(self, text: str) -> None:
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise StoreError(f"cannot write {self.path}: {exc.strerror}") from None


class SsmStore:
    """An SSM String parameter shared by every replica; each polls it."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def describe(self) -> str:
        return f"ssm://{self.name}"

    def change_token(self) -> object:
        return None  # a read is as cheap as any change check on SSM

    def _get(self) -> tuple[RolloutState | None, int]:
        try:
            param = self.client.get_parameter(Name=self.name)["Parameter"]
        except self.client.exceptions.ParameterNotFound:
            return None, 0
        except Exception as exc:  # botocore raises many kinds; all mean "could not read"
            raise StoreError(
                f"cannot read SSM parameter {self.name}: {type(exc).__name__}"
            ) from None
        return decode(param["Value"]), int(param["Version"])

    def read(self) -> Snapshot:
        state, version = self._get()
        return Snapshot(state, version)

    def compare_and_set(self, expected_revision: int, new: RolloutState) -> RolloutState:
        current, version = self._get()
        _check_revision(current, expected_revision)
        try:
            written = self.client.put_parameter(
                Name=self.name, Value=encode(new), Type="String", Overwrite=True
            )
        except Exception as exc:
            raise StoreError(
                f"cannot write SSM parameter {self.name}: {type(exc).__name__}"
            ) from None
        if int(written["Version"]) != version + 1:
            raise RevisionConflict(
                None,
                "another writer changed the rollout at the same time; "
                "read it again and retry if it is not what you want",
            )
        return new


def open_store(url: str, ssm_client_factory: Any = None) -> RolloutStore:
    """`file:///abs/path.json` or `ssm:///parameter/name` (the parameter name keeps its slash)."""
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.path:
        return FileStore(Path(unquote(parts.path)))
    if parts.scheme == "ssm" and parts.path.strip("/"):
        if ssm_client_factory is None:
            import boto3

            ssm_client_factory = lambda: boto3.client("ssm")  # noqa: E731
        return SsmStore(ssm_client_factory(), unquote(parts.path))
    raise ValueError("ROLLOUT_STORE must be file:///path/to/rollout.json or ssm:///parameter/name")
