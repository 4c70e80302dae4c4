"""The progress line: on a terminal it moves; anywhere else stderr stays empty."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from tests.ops.accesslogs.conftest import run_cli


def _run_on_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run the report with stderr on a pseudo-terminal; return (exit code, what it drew)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    env.pop("CI", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "image_ops.accesslogs.cli", "report", *args, "--json"],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    drawn = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    return proc.wait(timeout=60), drawn.decode("utf-8", "replace")


def test_a_terminal_sees_files_and_bytes(log_file: Path) -> None:
    code, drawn = _run_on_a_terminal([str(log_file)])
    assert code == 0
    assert "reading: 0 files, 0.0 MB loaded" in drawn  # drawn at once
    assert "querying: 1 files, 0.2 MB loaded" in drawn  # moved on: the file was loaded


def test_a_pipe_sees_nothing(log_file: Path) -> None:
    code, out, err = run_cli(str(log_file), "--json")
    assert code == 0 and out.startswith("{")
    assert err == ""
