"""Run `image-resolver serve` (or a command like it) as a real process, for tests that
need signals, its RSS or a whole CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from tests.conftest import BUCKET, CDN


def _wait_for_log(
    proc: subprocess.Popen[str], message: str, seen: list[str], timeout: float = 30
) -> dict[str, object]:
    """Read the server's JSON log lines until `message`; returns that line."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == message:
            return dict(entry)
    raise AssertionError(f"server never logged {message!r}")


@contextmanager
def serve_process(
    endpoint: str | None,
    *,
    base_env: Mapping[str, str] = os.environ,
    startup_log: list[str] | None = None,
    command: Sequence[str] = ("image_resolver.cli", "serve"),
    **env: str | None,
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A resolver on 127.0.0.1 (free port) using moto at `endpoint`; yields (proc, port).
    `startup_log` receives the log lines up to "image-resolver serving". A variable given
    as None is removed (e.g. CDN_ROLLOUT_PERCENT=None for the product's default).
    `command`: `python -m` module and arguments; `--host`/`--port` are appended."""
    merged = {
        **base_env,
        **({"S3_ENDPOINT_URL": endpoint} if endpoint else {}),
        "CLOUDFRONT_DISTRIBUTION_DOMAIN": CDN,
        "S3_BUCKET": BUCKET,
        "S3_FALLBACK_MODE": "public",
        "CDN_ROLLOUT_PERCENT": "100",  # the product starts dark; these tests want the CDN
        "METRICS_PORT": "0",
        "LOG_FORMAT": "json",
        **env,
    }
    full_env = {name: value for name, value in merged.items() if value is not None}
    proc = subprocess.Popen(
        [sys.executable, "-m", *command, "--host", "127.0.0.1", "--port", "0"],
        env=full_env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        seen = startup_log if startup_log is not None else []
        port = int(str(_wait_for_log(proc, "image-resolver serving", seen)["port"]))
        # Keep reading the log so the server never blocks on a full pipe.
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # type: ignore[union-attr]
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line")
