"""The rollout's audit trail: one JSON line per decision (moved, refused, rolled back,
dry run), appended under an exclusive lock and fsynced before the command returns.

Append-only by convention and by mode (O_APPEND); ship it to your log store like any
other log. The flag document itself also says who moved it last (`updated_by`
"advance:<who>" / "auto:<who>"), so GetRollout points at the trail's latest entry.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

DEFAULT_AUDIT_LOG = "rollout-audit.jsonl"


def audit_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("ROLLOUT_AUDIT_LOG") or DEFAULT_AUDIT_LOG)


def append(path: Path, record: dict[str, Any]) -> None:
    """One line per decision; raises OSError when it cannot be written (the caller treats
    an unrecorded decision as a failure)."""
    line = json.dumps(record, sort_keys=True, default=str, separators=(",", ":")) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path) -> list[dict[str, Any]]:
    """Every record, oldest first (tests and `jq` users)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
