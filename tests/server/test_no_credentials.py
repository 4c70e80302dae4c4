"""`image-resolver serve` on a machine with no AWS credentials at all."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import grpc
import pytest

from tests.conftest import CDN
from tests.support.cli_run import run_cli
from tests.support.serve_process import serve_process
from wishlist_images_client import ImageResolverClient, Origin
from wishlist_images_client.calls import ResolverCallError

KEY = "uploads/wishlist/u-1/a.jpg"


def _bare_env(home: Path) -> dict[str, str]:
    """No AWS_* variables, an empty HOME (no ~/.aws), and no instance-metadata probing."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true"}


def test_presigned_fallback_without_credentials_exits_2_with_one_line(tmp_path: Path) -> None:
    proc = run_cli("serve", "--port", "0", env=_bare_env(tmp_path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no AWS credentials" in lines[0] and "S3_FALLBACK_MODE" in lines[0]


@pytest.mark.parametrize("store", ["ssm:///wishlist/image-cdn/rollout"])
def test_aws_rollout_store_without_credentials_exits_2(tmp_path: Path, store: str) -> None:
    env = {**_bare_env(tmp_path), "S3_FALLBACK_MODE": "public", "ROLLOUT_STORE": store}
    proc = run_cli("serve", "--port", "0", env=env)
    assert proc.returncode == 2
    assert "ROLLOUT_STORE" in proc.stderr and "Traceback" not in proc.stderr


def test_public_fallback_serves_without_credentials_and_says_so(tmp_path: Path) -> None:
    startup: list[str] = []
    with serve_process(
        None, base_env=_bare_env(tmp_path), startup_log=startup, S3_FALLBACK_MODE="public"
    ) as (proc, port):
        with ImageResolverClient(f"127.0.0.1:{port}", timeout=5) as client:
            got = client.resolve(KEY, user_id="u-1")
            with pytest.raises(ResolverCallError) as caught:
                client.create_upload_url("u-1", "image/png", 10)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert got.url == f"https://{CDN}/{KEY}" and got.origin == Origin.CDN
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION
    messages = [json.loads(line)["msg"] for line in startup if line.startswith("{")]
    assert any(
        m.startswith("no AWS credentials: serving CDN and public S3 URLs only") for m in messages
    )
