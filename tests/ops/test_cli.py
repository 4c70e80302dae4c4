"""`image-ops` against a real resolver on loopback: what an operator reads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.support.cli_run import run_cli, run_ops

KEY = "uploads/wishlist/u-1/a.jpg"


@pytest.fixture
def server(start_resolver, tmp_path: Path):
    return start_resolver(rollout_store=f"file://{tmp_path}/rollout.json", admin_token=ADMIN_TOKEN)


def test_resolve_prints_the_origin_by_name_and_no_empty_fields(server) -> None:
    proc = run_ops("resolve", KEY, "--user-id", "u-1", "--target", server.target)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["origin"] == "CDN"
    assert out["url"].endswith("/" + KEY)
    assert "fallback_url" not in out and "expires_at" not in out, out


def test_rollout_set_names_the_store_and_prints_before_and_after(server, tmp_path: Path) -> None:
    env = {**os.environ, "ADMIN_TOKEN": ADMIN_TOKEN}
    proc = run_ops(
        "rollout", "set", "--percent", "50", "--by", "alice", "--target", server.target, env=env
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["before"]["percent"], out["after"]["percent"]) == (100, 50)
    assert out["after"]["updated_by"] == "alice"
    got = json.loads(run_ops("rollout", "get", "--target", server.target, env=env).stdout)
    assert out["store"] == got["store"] and str(tmp_path) in out["store"]
    assert got["store_healthy"] is True and "store_error" not in got

    proc = run_ops("rollout", "set", "--disable-cdn", "--target", server.target, env=env)
    out = json.loads(proc.stdout)
    assert out["after"]["cdn_enabled"] is False and out["after"]["percent"] == 50
    proc = run_ops("rollout", "set", "--enable-cdn", "--target", server.target, env=env)
    assert json.loads(proc.stdout)["after"]["cdn_enabled"] is True


def test_a_refused_token_is_one_line(server) -> None:
    env = {**os.environ, "ADMIN_TOKEN": "nope-nope-nope-nope"}
    proc = run_ops("rollout", "get", "--target", server.target, env=env)
    assert proc.returncode == 1
    assert proc.stderr.startswith("image-ops: UNAUTHENTICATED") and "Traceback" not in proc.stderr


def test_rollout_set_needs_a_change() -> None:
    proc = run_ops("rollout", "set")
    assert proc.returncode == 2
    assert "needs --percent and/or --enable-cdn/--disable-cdn" in proc.stderr


@pytest.mark.parametrize("command", ["resolve", "rollout", "invalidate", "logs", "probe"])
def test_the_resolvers_cli_names_where_each_operator_command_went(command: str) -> None:
    proc = run_cli(command, "--target", "127.0.0.1:1")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"image-resolver: `{command}` moved to the operator toolkit: "
        f"image-ops {command} --target 127.0.0.1:1"
    )
