"""pyinstrument over GET /api/wishlist?limit=50, images on vs off (docs/profile-wishlist-api.md).

    python benchmarks/profile_wishlist_api.py [--requests 400]

The resolver is a real `image-resolver serve` subprocess on loopback TCP. The API app runs
in this process's event loop (main thread, which pyinstrument samples), driven through
httpx's ASGI transport; the DB query runs in Starlette's thread pool and shows as the await
on it. Writes a tree and a flat profile per variant to the temporary folder it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_wishlist_api import USER, free_port, process, seed
from pyinstrument import Profiler

from image_resolver.config import PLACEHOLDER_CDN_DOMAIN
from wishlist_api.app import create_app
from wishlist_api.settings import ApiSettings, load_settings
from wishlist_dev.localaws import DEMO_CREDENTIALS
from wishlist_dev.tokens import mint_token


async def profile(
    settings: ApiSettings, headers: dict[str, str], requests: int, out: Path, label: str
) -> None:
    app = create_app(settings)
    params = {"limit": 50}
    expected = "ok" if settings.images_enabled else "disabled"
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api", headers=headers
        ) as client,
    ):
        deadline = time.monotonic() + 20
        while True:  # until the resolver answers (it starts beside us), then warm up
            resp = await client.get("/api/wishlist", params=params)
            statuses = {i["imageStatus"] for i in resp.json()["items"]}
            if statuses == {expected} or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        if statuses != {expected}:
            raise SystemExit(f"images {label}: statuses {statuses}, expected {expected}")
        for _ in range(100):
            await client.get("/api/wishlist", params=params)
        profiler = Profiler(interval=0.0005, async_mode="disabled")
        start = time.perf_counter()
        profiler.start()
        for _ in range(requests):
            resp = await client.get("/api/wishlist", params=params)
            if resp.status_code != 200:
                raise SystemExit(f"{label}: HTTP {resp.status_code}")
        profiler.stop()
        per_request = (time.perf_counter() - start) / requests * 1000
    print(f"images {label}: {per_request:.3f} ms/request (profiler on)")
    (out / f"tree-{label}.txt").write_text(profiler.output_text(unicode=False, color=False))
    (out / f"flat-{label}.txt").write_text(
        profiler.output_text(unicode=False, color=False, flat=True)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="profile-wishlist-"))
    db_url = f"sqlite:///{out / 'wishlist.db'}"
    seed(db_url, 50)
    secret = secrets.token_urlsafe(32)
    port = free_port()
    resolver_env = {
        **DEMO_CREDENTIALS,
        "LOG_LEVEL": "WARNING",
        "CLOUDFRONT_DISTRIBUTION_DOMAIN": PLACEHOLDER_CDN_DOMAIN,
        "S3_FALLBACK_MODE": "public",
        "CDN_ROLLOUT_PERCENT": "100",
        "METRICS_PORT": "0",
    }
    headers = {"Authorization": f"Bearer {mint_token(secret, USER)}"}
    base = {
        "database_url": db_url,
        "resolver_target": f"127.0.0.1:{port}",
        "jwt_secret": secret,
        "jwt_public_key": None,
        "jwt_jwks_url": None,
        "jwt_issuer": None,
        "jwt_audience": None,
        "log_level": "WARNING",
    }
    serve = [sys.executable, "-m", "image_resolver.cli", "serve", "--host", "127.0.0.1"]
    with process([*serve, "--port", str(port)], resolver_env, None):
        for label, enabled in (("on", True), ("off", False)):
            settings = load_settings(**base, images_enabled=enabled)
            asyncio.run(profile(settings, headers, args.requests, out, label))
    print(f"profiles: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
