"""`wishlist-dev demo` as a person runs it: it keeps its state across restarts, and it says
at once when a part of it dies (here its varnishd, killed) instead of serving broken pages."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from image_ops.accesslogs.cli import build_report
from image_ops.accesslogs.duckdb_engine import Window
from wishlist_dev.edge.local_edge import missing_binaries

DEMO = (sys.executable, "-m", "wishlist_dev.cli", "demo")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Demo:
    def __init__(self, state: Path, *extra: str) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [*DEMO, "--port", str(self.port), "--state-dir", str(state), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.banner = self._read_banner()

    def _read_banner(self) -> str:
        assert self.proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"demo exited: {self.proc.wait()} {self.proc.stderr.read()}")  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith("Ctrl-C stops everything"):
                return "".join(lines)
        raise AssertionError("no banner")

    def items(self) -> list[dict[str, object]]:
        token = re.search(r"Authorization: Bearer ([\w.-]+)", self.banner)
        assert token
        resp = httpx.get(
            f"http://127.0.0.1:{self.port}/api/wishlist",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {token.group(1)}"},
            timeout=10,
        )
        resp.raise_for_status()
        items: list[dict[str, object]] = resp.json()["items"]
        return items

    def stop(self) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, out, err


def fetch(url: str) -> int:
    """GET a `*.localhost` CDN URL on loopback, as a browser resolves it (RFC 6761)."""
    parts = urlsplit(url)
    direct = parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl()
    return httpx.get(direct, headers={"Host": parts.netloc}, timeout=10).status_code


@pytest.fixture
def needs_edge() -> None:
    if missing := missing_binaries():
        pytest.fail(f"{missing} missing: .ci/run installs them (scripts/system_packages.sh)")


def test_the_demo_keeps_its_state_and_notices_a_dead_edge(tmp_path: Path, needs_edge) -> None:
    state = tmp_path / "state"
    first = Demo(state)
    try:
        assert "new; kept across restarts" in first.banner
        items = first.items()
        assert len(items) == 17
        cdn = next(str(i["imageUrl"]) for i in items if i["imageStatus"] == "ok")
        assert fetch(cdn) == 200
    finally:
        code, out, first_err = first.stop()
    # Ctrl-C: uvicorn drains and re-raises SIGINT once the demo has cleaned up and saved.
    assert code == 130 and "demo stopped (state kept in" in out
    assert "Traceback" not in first_err
    # The edge's access logs, in the state folder, say what the CDN served.
    logs = (state / "logs").resolve()
    assert f"image-ops logs report {logs}\n" in first.banner
    report, _ = build_report([str(logs)], Window())
    assert report["summary"]["requests"] == 1
    assert [r["uri"] for r in report["top_missed"]] == [urlsplit(cdn).path]

    second = Demo(state)
    try:
        assert re.search(r"kept from the last run \(15 uploaded objects\)", second.banner)
        again = second.items()
        assert sorted(i["id"] for i in again) == sorted(i["id"] for i in items)  # type: ignore[type-var]
        cdn = next(str(i["imageUrl"]) for i in again if i["imageStatus"] == "ok")
        assert fetch(cdn) == 200  # the objects came back
        varnish = subprocess.run(
            ["pgrep", "-s", str(os.getsid(second.proc.pid)), "varnishd"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        assert varnish, "the demo's varnishd"
        for pid in varnish:
            os.kill(int(pid), signal.SIGKILL)
        second.proc.wait(timeout=30)
    finally:
        code, _, err = second.stop()
    assert code != 0
    assert "wishlist-dev demo: the local edge stopped: varnishd" in err
    assert "Traceback" not in err

    fresh = Demo(state, "--fresh")
    try:
        assert "new; kept across restarts" in fresh.banner
        assert {i["id"] for i in fresh.items()}.isdisjoint({i["id"] for i in items})
    finally:
        fresh.stop()


def test_a_taken_port_is_one_line_and_exit_2(tmp_path: Path, needs_edge) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [*DEMO, "--port", str(port), "--state-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"wishlist-dev demo: cannot bind 127.0.0.1:{port}: Address already in use; try --port"
    )


def _evidence_commands(banner: str) -> list[str]:
    """The banner's rollout-evidence commands, continuation lines joined."""
    block = banner.split("The evidence behind a rollout step", 1)[1].split("\n\n", 1)[0]
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        if line.startswith("  "):
            commands.append(line.strip())
    return commands


def _fresh_shell(command: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The command pasted into a new login shell: no venv on PATH, none of our env."""
    return subprocess.run(
        ["/usr/bin/env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin", "bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_the_printed_evidence_commands_work_over_the_demo_s_own_traffic(
    tmp_path: Path, needs_edge: None
) -> None:
    demo = Demo(tmp_path / "state")
    try:
        commands = _evidence_commands(demo.banner)
        verbs = [c.split("image-ops ", 1)[1].split()[0] for c in commands]
        assert verbs == ["logs", "probe", "rollout", "rollout"]
        urls = [str(i["imageUrl"]) for i in demo.items() if i["imageStatus"] == "ok"]
        for _ in range(5):  # the gallery five times: misses, then hits (80%, the gate)
            assert all(fetch(u) == 200 for u in urls)
        logs = tmp_path / "state" / "logs"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # delivered every few seconds
            if logs.exists() and any(logs.rglob("*.gz")):
                rep, _ = build_report([str(logs)], Window())
                if rep["summary"]["requests"] >= 5 * len(urls):
                    break
            time.sleep(1)
        report, probe, set_10, advance = (_fresh_shell(c, tmp_path) for c in commands)
        assert report.returncode == 0, report.stderr
        assert f"requests      {5 * len(urls)}\n" in report.stdout
        assert f"hit ratio     80.0%  ({4 * len(urls)} hits" in report.stdout
        assert probe.returncode == 0, probe.stdout + probe.stderr
        assert "probe: PASSED" in probe.stdout
        assert set_10.returncode == 0, set_10.stderr
        assert advance.returncode == 0, advance.stdout + advance.stderr
        assert "rollout advance 10% -> 50%" in advance.stdout
        assert "ok   logs.requests" in advance.stdout
    finally:
        demo.stop()
