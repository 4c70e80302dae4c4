"""What image URLs add to GET /api/wishlist: a page of 50 with images vs images off.

    python benchmarks/bench_wishlist_api.py [--requests 1500] [--page 50]

Four processes, as deployed: image-resolver (gRPC on TCP and on a Unix socket, the
sidecar layout) and three `wishlist-api serve` instances on one SQLite file: one reaching
the resolver over TCP loopback, one over the Unix socket, one with IMAGES_ENABLED=false.
This process is the HTTP client (keep-alive), rotating between the APIs request by
request so machine noise hits all alike. Prints p50/p95/p99 of each, the difference at
p50 and p95, and the Unix socket / TCP ratio of the time image URLs add.
The page mixes new keys and every legacy URL form; the rollout is 100% CDN.
Everything listens on 127.0.0.1 only.

Reading the result: the added time is one BatchResolveImageUrls round trip (Python
grpc.aio on both ends) plus serializing 50 longer URLs. On a 2-core box where client,
API and resolver share the cores, a bare batch call of 50 refs is ~1.0 ms p50 and of
1 ref ~0.55 ms, so that round trip, not per-item work, is most of what is added.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from image_resolver.config import PLACEHOLDER_CDN_DOMAIN
from wishlist_api.db import make_engine, session_factory
from wishlist_api.migrate import upgrade
from wishlist_api.repository import WishlistRepository
from wishlist_dev.demo_data import PREFIX, legacy_urls
from wishlist_dev.localaws import DEMO_CREDENTIALS
from wishlist_dev.tokens import mint_token

BUCKET = "lego-moc-wishlist-uploads"
USER = "bench-user"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(args: list[str], env: dict[str, str], ready_url: str | None) -> Iterator[None]:
    proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while ready_url is not None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{args[2:4]} did not start")
            try:
                httpx.get(ready_url, timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def seed(db_url: str, count: int) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    repo = WishlistRepository(session_factory(engine))
    forms = list(legacy_urls(BUCKET, "us-east-1", "k"))
    for n in range(count):
        key = f"{PREFIX}{USER}/{n:04d}.jpg"
        if n % 2 == 0:
            repo.create(USER, f"item {n}", image_key=key, image_version=n % 3)
        else:
            url = legacy_urls(BUCKET, "us-east-1", key)[forms[n % len(forms)]]
            repo.create(USER, f"item {n}", legacy_image_url=url)
    engine.dispose()


def wait_until_resolved(client: httpx.Client, params: dict[str, int], size: int) -> None:
    """The resolver is up once a page resolves; a page that never does is a setup error."""
    deadline = time.monotonic() + 20
    while True:
        page = client.get("/api/wishlist", params=params).json()["items"]
        statuses = {i["imageStatus"] for i in page}
        if statuses == {"ok"} or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if len(page) != size or statuses != {"ok"}:
        raise SystemExit(f"bad setup: {len(page)} items, statuses {statuses}")


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1500, help="per variant")
    parser.add_argument("--page", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-wishlist-"))
    db_url = f"sqlite:///{tmp / 'wishlist.db'}"
    seed(db_url, args.page)
    secret = secrets.token_urlsafe(32)
    grpc_port, on_port, uds_port, off_port = (free_port() for _ in range(4))
    sock = tmp / "grpc.sock"
    base_env = {
        **DEMO_CREDENTIALS,
        "LOG_LEVEL": "WARNING",
        "CLOUDFRONT_DISTRIBUTION_DOMAIN": PLACEHOLDER_CDN_DOMAIN,
        "S3_FALLBACK_MODE": "public",
        "CDN_ROLLOUT_PERCENT": "100",
        "METRICS_PORT": "0",
        "DATABASE_URL": db_url,
        "RESOLVER_TARGET": f"127.0.0.1:{grpc_port}",
        "JWT_SECRET": secret,
        "GRPC_UNIX_SOCKET": str(sock),
    }
    py = sys.executable
    resolver = [py, "-m", "image_resolver.cli", "serve", "--host", "127.0.0.1"]
    api = [py, "-m", "wishlist_api.cli", "serve", "--host", "127.0.0.1", "--port"]
    headers = {"Authorization": f"Bearer {mint_token(secret, USER)}"}
    params = {"limit": args.page}
    with (
        process([*resolver, "--port", str(grpc_port)], base_env, None),
        process([*api, str(on_port)], base_env, f"http://127.0.0.1:{on_port}/healthz"),
        process(
            [*api, str(uds_port)],
            {**base_env, "RESOLVER_TARGET": f"unix://{sock}"},
            f"http://127.0.0.1:{uds_port}/healthz",
        ),
        process(
            [*api, str(off_port)],
            {**base_env, "IMAGES_ENABLED": "false"},
            f"http://127.0.0.1:{off_port}/healthz",
        ),
        httpx.Client(base_url=f"http://127.0.0.1:{on_port}", headers=headers) as on,
        httpx.Client(base_url=f"http://127.0.0.1:{uds_port}", headers=headers) as uds,
        httpx.Client(base_url=f"http://127.0.0.1:{off_port}", headers=headers) as off,
    ):
        for client in (on, uds):
            wait_until_resolved(client, params, args.page)
        off_page = off.get("/api/wishlist", params=params).json()["items"]
        if {i["imageStatus"] for i in off_page} != {"disabled"}:
            raise SystemExit("bad setup: images-off API resolved images")

        clients = {"images on": on, "on, uds": uds, "images off": off}
        samples: dict[str, list[float]] = {name: [] for name in clients}
        names = list(clients)
        for n in range(args.warmup + args.requests):
            shift = n % len(names)  # rotate who goes first
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                resp = clients[name].get("/api/wishlist", params=params)
                elapsed = (time.perf_counter() - start) * 1000
                if resp.status_code != 200:
                    raise SystemExit(f"{name}: HTTP {resp.status_code}")
                if n >= args.warmup:
                    samples[name].append(elapsed)

    print(f"GET /api/wishlist?limit={args.page}, {args.requests} requests each, interleaved")
    print(f"{'variant':<12} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, values in samples.items():
        print(
            f"{name:<12} {pct(values, 0.5):8.3f} {pct(values, 0.95):8.3f} "
            f"{pct(values, 0.99):8.3f} {statistics.fmean(values):8.3f}"
        )
    off_s = samples["images off"]
    added = {}
    for name, label in (("images on", "TCP loopback"), ("on, uds", "Unix socket")):
        added50 = pct(samples[name], 0.5) - pct(off_s, 0.5)
        added95 = pct(samples[name], 0.95) - pct(off_s, 0.95)
        added[label] = added50
        verdict = "meets" if added50 <= 1.0 else "misses"
        print(
            f"added by image URLs over {label}: p50 {added50:+.3f} ms, p95 {added95:+.3f} ms"
            f" ({verdict} the 1 ms p50 goal)"
        )
    p50_ratio = pct(samples["on, uds"], 0.5) / pct(samples["images on"], 0.5)
    tcp, uds = added["TCP loopback"], added["Unix socket"]
    added_ratio = f"{uds / tcp:.2f}" if tcp > 0 else "n/a (TCP added nothing)"
    print(f"Unix socket / TCP: page p50 ratio {p50_ratio:.3f}, added-time p50 ratio {added_ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
