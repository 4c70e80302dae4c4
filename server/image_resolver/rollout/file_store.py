"""The flag in a JSON file (one host): compare-and-set under an exclusive `flock`."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from image_resolver.rollout.base import (
    MAX_DOCUMENT_BYTES,
    CorruptStore,
    Snapshot,
    StoreError,
    check_revision,
    decode,
    encode,
)
from image_resolver.rollout.decision import RolloutState


class FileStore:
    """A JSON file, replaced atomically (write temp, fsync, rename). The lock makes the
    check and the write one step for every process on the host."""

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
            with self.path.open("rb") as fh:
                raw = fh.read(MAX_DOCUMENT_BYTES + 1)
        except FileNotFoundError:
            return Snapshot(None, None)
        except OSError as exc:
            raise StoreError(f"cannot read {self.path}: {exc.strerror}") from None
        return Snapshot(decode(raw), token)

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
            try:
                current = self.read().state
            except CorruptStore:
                current = None  # garbage: replaced, so the kill switch always lands
            check_revision(current, expected_revision)
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
