"""The rollout's audit trail: one JSON line per record, appended under an exclusive lock
and fsynced before the command goes on.

What the trail always holds: before the flag moves, an `intent` record (what is about to
be written, on which evidence, by whom), fsynced; after the move, its outcome (`moved`,
`conflict`, `failed`, `unknown`, `rolled-back`, `kill-switch-failed`) with the same
`intent_id`. Decisions that move nothing (`refused`, `dry-run`) are one record. A record
that cannot be written raises AuditError, and an intent that cannot be written stops the
move (the one exception, the kill switch, is in advance.py).

Append-only by convention and by mode (O_APPEND); ship it to your log store like any
other log. A record is never glued to a previous line that lacks its newline (an earlier
writer that died mid-line): a newline is written first. A failed write is cut back off
(ftruncate to the size before it), so a half record does not stay behind. The trail must
be a regular file: /dev/null or a FIFO is not a trail. The flag document itself also says
who moved it last (`updated_by` "advance:<who>" / "auto:<who>"), so GetRollout points at
the trail's latest entry.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
from pathlib import Path
from typing import Any

DEFAULT_AUDIT_LOG = "rollout-audit.jsonl"


class AuditError(Exception):
    """The trail could not be written; `path` and a one-line reason. Not an OSError on
    purpose: only the trail raises it, so no other failure is reported as the trail's."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def audit_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("ROLLOUT_AUDIT_LOG") or DEFAULT_AUDIT_LOG)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _open(path: Path) -> tuple[int, bool]:
    """(fd, created): read-write so the last byte can be checked; O_NONBLOCK so a FIFO
    cannot block the open (it is refused just after)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditError(path, f"cannot create its folder: {_why(exc)}") from None
    existed = path.exists()
    flags = os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, os.O_RDWR | flags, 0o640)
    except OSError as exc:
        if exc.errno != errno.EACCES:
            raise AuditError(path, _why(exc)) from None
        try:  # writable but not readable: append without the last-byte check
            fd = os.open(path, os.O_WRONLY | flags, 0o640)
        except OSError as again:
            raise AuditError(path, _why(again)) from None
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError as exc:
        os.close(fd)
        raise AuditError(path, _why(exc)) from None
    if not regular:
        os.close(fd)
        raise AuditError(path, "not a regular file")
    return fd, not existed


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - os.write raises instead
            raise OSError(errno.EIO, "short write")
        view = view[written:]


def _needs_newline(fd: int, size: int) -> bool:
    if size == 0:
        return False
    try:
        return os.pread(fd, 1, size - 1) != b"\n"
    except OSError:  # opened write-only: cannot tell, so separate it to be safe
        return True


def append(path: Path, record: dict[str, Any]) -> None:
    """One line per record, fsynced; AuditError when it cannot be written."""
    line = json.dumps(record, sort_keys=True, default=str, separators=(",", ":")) + "\n"
    fd, created = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        data = line.encode("utf-8")
        if _needs_newline(fd, size):
            data = b"\n" + data
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)  # no half record left behind
            raise AuditError(path, _why(exc)) from None
    except OSError as exc:
        raise AuditError(path, _why(exc)) from None
    finally:
        os.close(fd)
    if created:  # the new file's name must survive a crash too
        with contextlib.suppress(OSError):
            dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def read(path: Path) -> list[dict[str, Any]]:
    """Every record, oldest first (tests and `jq` users)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
