"""`wishlist-api demo`: moto S3 + a real resolver + the API on loopback, seeded, with a token.

Nothing leaves 127.0.0.1: the CDN domain is a placeholder string unless
CLOUDFRONT_DISTRIBUTION_DOMAIN is set, and S3/CloudFront are moto's local server.
"""

from __future__ import annotations

import logging
import os
import secrets
import shlex
import signal
import socket
from pathlib import Path

import uvicorn

from image_resolver import logsetup
from image_resolver.config import PLACEHOLDER_CDN_DOMAIN
from image_resolver.config import load_settings as load_resolver_settings
from image_resolver.embedded import EmbeddedResolver
from image_resolver.localaws import LocalAws
from wishlist_api.app import create_app
from wishlist_api.auth import mint_token
from wishlist_api.db import make_engine, session_factory
from wishlist_api.demo_data import DEMO_USER, seed
from wishlist_api.migrate import upgrade
from wishlist_api.repository import WishlistRepository
from wishlist_api.settings import load_settings


def _fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def run_demo(port: int = 8080, state_dir: str = "var/demo") -> int:
    # uvicorn re-raises the signal that stopped it once it has drained; as an exception
    # here, the `finally` below still stops the resolver and moto (Ctrl-C already does).
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    logsetup.configure("WARNING", "text")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request lines
    state = Path(state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        print(f"wishlist-api demo: cannot bind 127.0.0.1:{port}: {exc.strerror}; try --port")
        return 1

    aws = LocalAws().start()
    resolver: EmbeddedResolver | None = None
    try:
        dist_id, _ = aws.create_distribution()
        domain = os.environ.get("CLOUDFRONT_DISTRIBUTION_DOMAIN") or PLACEHOLDER_CDN_DOMAIN
        admin_token = secrets.token_urlsafe(24)
        rollout_file = _fresh(state / "rollout.json")
        resolver = EmbeddedResolver(
            load_resolver_settings(
                cloudfront_distribution_domain=domain,
                cloudfront_distribution_id=dist_id,
                s3_bucket=aws.bucket,
                aws_region=aws.region,
                s3_endpoint_url=aws.endpoint,
                s3_fallback_mode="presigned",
                admin_token=admin_token,
                rollout_store=rollout_file.as_uri(),
                grpc_port=0,
                metrics_port=0,
            ),
            session=aws.session(),
        ).start()

        db_url = f"sqlite:///{_fresh(state / 'wishlist.db')}"
        engine = make_engine(db_url)
        upgrade(engine)
        repo = WishlistRepository(session_factory(engine))
        seed(repo, DEMO_USER, bucket=aws.bucket, region=aws.region, s3=aws.client("s3"))
        seed(repo, "another-user", bucket=aws.bucket, region=aws.region)

        jwt_secret = secrets.token_urlsafe(32)
        settings = load_settings(
            database_url=db_url,
            resolver_target=resolver.target,
            jwt_secret=jwt_secret,
            jwt_public_key=None,
            jwt_jwks_url=None,
            images_enabled=True,
        )
        token = mint_token(jwt_secret, DEMO_USER, ttl_seconds=12 * 3600)
        base = f"http://127.0.0.1:{port}"
        placeholder = (
            " (PLACEHOLDER: not a real distribution)" if domain == PLACEHOLDER_CDN_DOMAIN else ""
        )
        print(
            f"""
Wishlist API demo (everything on 127.0.0.1)
  API          {base}   OpenAPI: {base}/openapi.json
  CDN domain   {domain}{placeholder}
  S3 (moto)    {aws.endpoint}/{aws.bucket}
  Resolver     {resolver.target}   rollout file: {rollout_file}
  Database     {db_url}

List {DEMO_USER}'s items (CDN imageUrls, legacy rows converted):
  curl -s -H {shlex.quote("Authorization: Bearer " + token)} {base}/api/wishlist

Send 10% of users to the CDN, the rest to presigned S3 URLs (served by moto):
  ADMIN_TOKEN={admin_token} image-resolver rollout set --percent 10 --target {resolver.target}

Ctrl-C stops everything.
""",
            flush=True,
        )
        config = uvicorn.Config(
            create_app(settings, engine=engine), log_level="warning", access_log=False
        )
        uvicorn.Server(config).run(sockets=[sock])  # returns on SIGINT/SIGTERM
        engine.dispose()
    finally:
        sock.close()
        if resolver is not None:
            resolver.stop()
        aws.stop()
        print("demo stopped", flush=True)
    return 0
