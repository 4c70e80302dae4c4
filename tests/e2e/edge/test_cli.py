"""`wishlist-dev edge` runs the edge in the foreground, prints its URLs and stops on SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import httpx

from image_ops.accesslogs.cli import build_report
from image_ops.accesslogs.duckdb_engine import Window
from tests.conftest import BUCKET
from wishlist_dev.cli import main

EDGE = [sys.executable, "-m", "wishlist_dev.cli", "edge"]


def test_cli_serves_then_stops_cleanly_on_sigterm(
    edge_binaries, local_aws, put_object, tmp_path
) -> None:
    key = put_object(b"from the cli edge")
    logs = tmp_path / "logs"
    proc = subprocess.Popen(
        [*EDGE, "--origin-endpoint", local_aws.endpoint, "--bucket", BUCKET,
         "--cdn-host", "cdn.localhost", "--access-logs", str(logs)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        text = "".join(lines)
        port = re.search(r"http://cdn\.localhost:(\d+)/", text).group(1)
        assert f"purge: http://127.0.0.1:{port}  (BAN from loopback" in text
        assert f"wishlist-dev resolver --edge-purge-url http://127.0.0.1:{port})" in text
        assert f"image-ops logs report {logs})" in text
        resp = httpx.get(
            f"http://127.0.0.1:{port}/{key}", headers={"Host": f"cdn.localhost:{port}"}, timeout=10
        )
        assert resp.status_code == 200
        assert resp.content == b"from the cli edge"
        assert resp.headers["x-cache"] == "Miss from cloudfront"
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "stopping the local edge" in rest
    with httpx.Client(timeout=2) as client:
        try:
            client.get(f"http://127.0.0.1:{port}/{key}")
            refused = False
        except httpx.ConnectError:
            refused = True
    assert refused
    report, _ = build_report([str(logs)], Window())  # SIGTERM delivered the last lines
    assert (report["summary"]["requests"], report["summary"]["misses"]) == (1, 1)


def test_cli_prints_the_generated_vcl(capsys) -> None:
    assert main(["edge", "--print-vcl", "--ttl", "error_ttl_404=7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("vcl 4.1;")
    assert 'x-edge-error-ttl = "7"' in out


def test_cli_refuses_a_bad_ttl_override(capsys) -> None:
    assert main(["edge", "--print-vcl", "--ttl", "bogus=1"]) == 2
    assert "unknown ttl override 'bogus'" in capsys.readouterr().err
