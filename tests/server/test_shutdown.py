"""SIGTERM under load: a real `image-resolver serve` process, 32 batch calls in flight.

Every call must end OK or UNAVAILABLE (which clients retry); CANCELLED means the server
dropped a call it had already taken from the client.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator

import grpc
import pytest

from tests.conftest import BUCKET
from tests.support.serve_process import serve_process
from wishlist.images.v1 import image_url_service_pb2 as pb
from wishlist.images.v1 import image_url_service_pb2_grpc as pb_grpc

IN_FLIGHT = 32
REFS = [f"https://s3.amazonaws.com/{BUCKET}/uploads/wishlist/u/{i}.jpg" for i in range(1000)]


@pytest.fixture
def served(local_aws) -> Iterator[tuple[subprocess.Popen[str], int]]:
    with serve_process(
        local_aws.endpoint, CDN_ROLLOUT_PERCENT="50", SHUTDOWN_GRACE_SECONDS="20"
    ) as running:
        yield running


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
