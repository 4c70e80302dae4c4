"""Request bodies are bounded before anything buffers them (issue 12, unbounded bodies).

The memory test runs `wishlist-api serve` as its own process so its RSS can be read from
/proc; the quick tests use the shared in-process API.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import JWT_SECRET, bearer
from tests.api.test_wishlist_api import assert_error
from wishlist_api.db import make_engine
from wishlist_api.migrate import upgrade
from wishlist_api.settings import DEFAULT_MAX_BODY_BYTES

HUGE = 200 * 1024 * 1024
CHUNK = 64 * 1024
MAX_GROWTH = 30 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(pid, port) of `wishlist-api serve` on a migrated SQLite file, images off."""
    url = f"sqlite:///{tmp_path_factory.mktemp('body') / 'api.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "DATABASE_"))},
        "DATABASE_URL": url,
        "JWT_SECRET": JWT_SECRET,
        "IMAGES_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }
    exe = Path(sys.executable).with_name("wishlist-api")
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "wishlist-api serve exited"
            assert time.monotonic() < deadline, "wishlist-api serve did not start"
            time.sleep(0.1)
        yield proc.pid, port
    finally:
        proc.terminate()
        proc.wait(15)


def _memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def _json_body(total: int) -> Iterator[bytes]:
    """`total` bytes of one JSON object, produced lazily so the client holds one chunk."""
    head, tail = b'{"title":"', b'"}'
    filler = b"a" * CHUNK
    yield head
    left = total - len(head) - len(tail)
    while left > 0:
        yield filler[: min(CHUNK, left)]
        left -= CHUNK
    yield tail


def _chunked(chunks: Iterator[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield b"%x\r\n%s\r\n" % (len(chunk), chunk)
    yield b"0\r\n\r\n"


def _send_until_answered(port: int, head: bytes, body: Iterator[bytes]) -> tuple[int, int, dict]:
    """Send `head` then `body` until the server answers or hangs up; (status, sent, json)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head)
        sent = 0
        for chunk in body:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered (or closed): stop sending
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        response = http.client.HTTPResponse(sock)
        response.begin()
        payload = json.loads(response.read())
        return response.status, sent, payload


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_200_mb_body_is_refused_without_buffering(served: tuple[int, int], framing: str) -> None:
    pid, port = served
    token = bearer("u-body")["Authorization"]
    httpx.get(f"http://127.0.0.1:{port}/api/wishlist", headers={"Authorization": token})
    before = _memory_kib(pid)
    headers = [
        "POST /api/wishlist HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Authorization: {token}",
        "Content-Type: application/json",
    ]
    body = _json_body(HUGE)
    if framing == "chunked":
        headers.append("Transfer-Encoding: chunked")
        body = _chunked(body)
    else:
        headers.append(f"Content-Length: {HUGE}")
    head = ("\r\n".join(headers) + "\r\n\r\n").encode()
    started = time.monotonic()
    status, sent, payload = _send_until_answered(port, head, body)
    elapsed = time.monotonic() - started
    after = _memory_kib(pid)
    growth = {k: (after[k] - before[k]) * 1024 for k in after}
    print(
        f"\n{framing}: sent {sent / 2**20:.1f} MiB of {HUGE / 2**20:.0f} MiB in {elapsed:.2f}s; "
        f"RSS {before['VmRSS'] / 1024:.1f} -> {after['VmRSS'] / 1024:.1f} MiB, "
        f"peak {before['VmHWM'] / 1024:.1f} -> {after['VmHWM'] / 1024:.1f} MiB"
    )
    assert status == 413
    assert payload["error"]["code"] == "payload_too_large"
    assert str(DEFAULT_MAX_BODY_BYTES) in payload["error"]["message"]
    assert growth["VmHWM"] < MAX_GROWTH and growth["VmRSS"] < MAX_GROWTH, growth
    assert sent < HUGE // 4, "the client had to send most of the body before the answer"
    # The server is still healthy afterwards.
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200


def _title_body(total: int) -> bytes:
    return b"".join(_json_body(total))


def test_bodies_over_the_limit_are_413_json_with_and_without_token(
    http: httpx.Client, user: str
) -> None:
    over = _title_body(DEFAULT_MAX_BODY_BYTES + 1)
    json_type = {"content-type": "application/json"}
    for headers in (json_type, json_type | bearer(user)):
        resp = http.post("/api/wishlist", content=over, headers=headers)
        assert_error(resp, 413, "payload_too_large")
        assert resp.headers["connection"] == "close"


def test_a_chunked_body_over_the_limit_is_413(http: httpx.Client, user: str) -> None:
    """httpx sends a generator with Transfer-Encoding: chunked (no Content-Length)."""
    resp = http.post(
        "/api/wishlist",
        content=_json_body(DEFAULT_MAX_BODY_BYTES + CHUNK),
        headers=bearer(user) | {"content-type": "application/json"},
    )
    assert resp.request.headers.get("transfer-encoding") == "chunked"
    assert_error(resp, 413, "payload_too_large")


def test_a_body_at_the_limit_reaches_the_schema_check(http: httpx.Client, user: str) -> None:
    """Exactly the limit is read in full and judged by the schema (title too long: 422)."""
    at_limit = _title_body(DEFAULT_MAX_BODY_BYTES)
    resp = http.post(
        "/api/wishlist",
        content=at_limit,
        headers=bearer(user) | {"content-type": "application/json"},
    )
    error = assert_error(resp, 422, "validation_failed")
    assert [detail["field"] for detail in error["details"]] == ["body.title"]  # type: ignore[attr-defined]
