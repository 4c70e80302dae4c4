"""Shared fixtures: generated logs with their records (the known answers)."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from image_ops.accesslogs import cli
from wishlist_dev import synth_logs as synth


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run ``logs report`` in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(["report", *args])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def report_json(*args: str) -> dict[str, Any]:
    code, out, err = run_cli(*args, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.fixture(scope="session")
def records() -> list[synth.Record]:
    return list(synth.generate(3000, seed=7))


@pytest.fixture(scope="session")
def log_file(tmp_path_factory: pytest.TempPathFactory, records: list[synth.Record]) -> Path:
    path = tmp_path_factory.mktemp("logs") / "E2EXAMPLE0DIST.2026-01-28-00.abcd1234.gz"
    synth.write_gzip(path, synth.render(records))
    return path


@pytest.fixture
def moto_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's real HTTP S3 server on loopback; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass(frozen=True)
class Child:
    """``logs report`` run in its own process: its exit code, output and own peak RSS."""

    code: int
    out: str
    err: str
    rss_mb: float
    seconds: float


# A small process that runs the command and reports the command's own peak RSS. Linux
# counts a parent's peak into a child's maxrss (fork, and vfork too: exec records the old
# address space's high-water mark), so the command must not start from this big test
# process; from this wrapper it inherits only the wrapper's few MB.
_WRAPPER = """
import os, signal, subprocess, sys, time
timeout, result, argv = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
start = time.monotonic()
while True:
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if pid:
        break
    if time.monotonic() - start > timeout:
        os.killpg(proc.pid, signal.SIGKILL)
        _, status, usage = os.wait4(proc.pid, 0)
        break
    time.sleep(0.02)
proc.returncode = 0
with open(result, "w") as fh:
    fh.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run_child(*args: str, timeout: float = 120) -> Child:
    """``python -m image_ops.accesslogs.cli report ARGS`` in a child process, killed after
    ``timeout`` (a hang then shows as code -9), with its own peak RSS (see _WRAPPER)."""
    argv = [sys.executable, "-m", "image_ops.accesslogs.cli", "report", *args]
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result"
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _WRAPPER, str(timeout), str(result), *argv],
            capture_output=True,
            timeout=timeout + 30,
            check=False,
        )
        seconds = time.perf_counter() - start
        code, rss_kib = result.read_text().split()
    return Child(
        int(code),
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        int(rss_kib) / 1024,
        seconds,
    )
