"""Shared fixtures: generated logs with their records (the known answers)."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
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
