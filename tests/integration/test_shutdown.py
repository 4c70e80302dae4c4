"""SIGTERM under load: a real `image-resolver serve` process, 32 batch calls in flight.

Every call must end OK or UNAVAILABLE (which clients retry); CANCELLED means the server
dropped a call it had already taken from the client.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.conftest import BUCKET, CDN
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc

IN_FLIGHT = 32
REFS = [f"https://s3.amazonaws.com/{BUCKET}/uploads/wishlist/u/{i}.jpg" for i in range(1000)]


def _wait_for_log(
    proc: subprocess.Popen[str], message: str, timeout: float = 30
) -> dict[str, object]:
    """Read the server's JSON log lines until `message`; returns that line."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == message:
            return dict(entry)
    raise AssertionError(f"server never logged {message!r}")


@pytest.fixture
def served(local_aws, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    env = {
        **os.environ,
        "CLOUDFRONT_DISTRIBUTION_DOMAIN": CDN,
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": local_aws.endpoint,
        "S3_FALLBACK_MODE": "public",
        "CDN_ROLLOUT_PERCENT": "50",
        "METRICS_PORT": "0",
        "SHUTDOWN_GRACE_SECONDS": "20",
        "LOG_FORMAT": "json",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "image_resolver.cli", "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = int(str(_wait_for_log(proc, "image-resolver serving")["port"]))
        # Keep reading the log so the server never blocks on a full pipe.
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # type: ignore[union-attr]
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_sigterm_with_32_batches_in_flight_cancels_nothing(served) -> None:
    proc, port = served
    # Retries off: every status the server sends is seen as it is.
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.enable_retries", 0)])
    stub = pb_grpc.ImageUrlServiceStub(channel)
    request = pb.BatchResolveImageUrlsRequest(images=[pb.ImageRef(ref=r) for r in REFS])
    outcomes: list[tuple[float, float, grpc.StatusCode]] = []
    lock = threading.Lock()
    sigterm_at: list[float] = []

    def client() -> None:
        while True:
            started = time.monotonic()
            try:
                resp = stub.BatchResolveImageUrls(request, timeout=30)
                assert len(resp.results) == len(REFS)
                code = grpc.StatusCode.OK
            except grpc.RpcError as err:
                code = err.code()
            with lock:
                outcomes.append((started, time.monotonic(), code))
            if code != grpc.StatusCode.OK:
                return  # a real client would retry elsewhere

    threads = [threading.Thread(target=client) for _ in range(IN_FLIGHT)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    sigterm_at.append(time.monotonic())
    proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(timeout=60)
    assert proc.wait(timeout=30) == 0
    channel.close()

    codes = Counter(code for _, _, code in outcomes)
    print(f"\noutcomes after SIGTERM with {IN_FLIGHT} in flight: {dict(codes)}")
    assert codes[grpc.StatusCode.CANCELLED] == 0
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}
    # Calls already running at SIGTERM were drained, not cut off.
    drained = [1 for s, e, c in outcomes if s < sigterm_at[0] < e and c == grpc.StatusCode.OK]
    assert drained
