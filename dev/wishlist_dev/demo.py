"""`wishlist-dev demo`: moto S3 + the local edge + a real resolver + the API, seeded.

Nothing leaves 127.0.0.1. The CDN is the local edge (Varnish configured from deploy/'s
template) under `cdn.localhost`, which browsers resolve to loopback without DNS; it is
plain HTTP because no browser trusts the edge's own certificate (production: https on
*.cloudfront.net). S3, SSM and CloudFront's API are moto's local server.
"""

from __future__ import annotations

import logging
import secrets
import shlex
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine

from image_resolver.config import load_settings as load_resolver_settings
from image_resolver.rollout.decision import RolloutState
from image_resolver.rollout.file_store import FileStore
from wishlist_api.app import create_app
from wishlist_api.db import make_engine, session_factory
from wishlist_api.migrate import upgrade
from wishlist_api.pages import set_session_cookie
from wishlist_api.repository import WishlistRepository
from wishlist_api.settings import load_settings
from wishlist_dev.demo_data import DEMO_USER, seed
from wishlist_dev.demo_gates import DEMO_MIN_LOG_REQUESTS, write_demo_gates
from wishlist_dev.demo_state import DemoState
from wishlist_dev.demo_watch import Check, Watchdog
from wishlist_dev.edge import AccessLogs, LocalEdge
from wishlist_dev.edge.local_edge import EdgeUnavailable, missing_binaries
from wishlist_dev.edge.processes import EdgeStartError
from wishlist_dev.embedded import EmbeddedResolver
from wishlist_dev.localaws import LocalAws
from wishlist_dev.tokens import mint_token
from wishlist_runtime import logsetup

DEMO_CDN_HOST = "cdn.localhost"
DEMO_SIGN_IN = "/demo/sign-in"
RESOLVER_PORT = 50051  # the CLI's default target, so README commands work as written


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _fail(message: str) -> int:
    print(f"wishlist-dev demo: {message}", file=sys.stderr)
    return 2


def _answers(host: str, port: int) -> Check:
    def check() -> str | None:
        try:
            with socket.create_connection((host, port), timeout=2):
                return None
        except OSError as exc:
            return f"nothing answers on {host}:{port} ({exc.strerror or type(exc).__name__})"

    return check


def _open(port: int, state_dir: str, fresh: bool) -> tuple[socket.socket, DemoState] | int:
    """The API's socket and the state folder, or the exit code of one line saying why not."""
    missing = missing_binaries()
    if missing:
        return _fail(f"{' and '.join(missing)} not found: apt-get install -y varnish hitch")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)  # from here a request waits for the API instead of being refused
    except OSError as exc:
        sock.close()
        return _fail(f"cannot bind 127.0.0.1:{port}: {exc.strerror}; try --port")
    try:
        return sock, DemoState(Path(state_dir), fresh=fresh)
    except OSError as exc:
        sock.close()
        return _fail(f"state folder {state_dir}: {exc.strerror}; try --state-dir")


def run_demo(port: int = 8080, state_dir: str = "var/demo", *, fresh: bool = False) -> int:
    # uvicorn re-raises the signal that stopped it once it has drained; as an exception
    # here, the `finally` below still stops the resolver and moto (Ctrl-C already does).
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    logsetup.configure("WARNING", "text")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request lines
    opened = _open(port, state_dir, fresh)
    if isinstance(opened, int):
        return opened
    sock, state = opened
    aws = LocalAws().start()
    edge: LocalEdge | None = None
    resolver: EmbeddedResolver | None = None
    watchdog: Watchdog | None = None
    base = f"http://127.0.0.1:{port}"
    try:
        dist_id, _ = aws.create_distribution()
        restored = state.restore_objects(aws.client("s3"), aws.bucket)
        try:
            edge = LocalEdge(
                aws.endpoint,
                aws.bucket,
                cdn_hosts=[DEMO_CDN_HOST],
                parameters={"WebAppOrigin": base},
                access_logs=AccessLogs(state.access_logs, distribution_id=dist_id),
            ).start()
        except (EdgeUnavailable, EdgeStartError, OSError) as exc:
            return _fail(f"the local edge did not start: {str(exc).splitlines()[0]}")
        domain = f"{DEMO_CDN_HOST}:{edge.http_port}"
        admin_token = secrets.token_urlsafe(32)
        resolver = _start_resolver(
            aws, edge, state, dist_id=dist_id, domain=domain, token=admin_token
        )

        gates = write_demo_gates(state.folder)
        db_url = f"sqlite:///{state.database}"
        engine = _database(db_url, state, aws)
        jwt_secret = secrets.token_urlsafe(32)
        token = mint_token(jwt_secret, DEMO_USER, ttl_seconds=12 * 3600)
        app = _app(db_url, engine, resolver.target, jwt_secret, token)
        kept = (
            f"kept from the last run ({restored} uploaded objects); --fresh starts over"
            if state.kept
            else "new; kept across restarts (--fresh starts over)"
        )
        print(
            _banner(
                base=base,
                domain=domain,
                aws=aws,
                edge=edge,
                resolver=resolver,
                state=f"{state.folder}  {kept}",
                db_url=db_url,
                token=token,
                admin_token=admin_token,
                jwt_secret=jwt_secret,
                folder=state.folder,
                gates=gates,
            ),
            flush=True,
        )
        moto_host, moto_port = aws.endpoint.removeprefix("http://").rsplit(":", 1)
        watchdog = Watchdog(
            {
                "the local edge": edge.failure,
                "moto (S3)": _answers(moto_host, int(moto_port)),
                "the resolver": _answers("127.0.0.1", resolver.port),
            }
        ).start()
        config = uvicorn.Config(app, log_level="warning", access_log=False)
        uvicorn.Server(config).run(sockets=[sock])  # returns on SIGINT/SIGTERM
        engine.dispose()
    finally:
        if watchdog is not None:
            watchdog.stop()
        sock.close()
        if resolver is not None:
            resolver.stop()
        saved = state.save_objects(aws.client("s3"), aws.bucket)
        if edge is not None:
            edge.close()
        aws.stop()
        print(f"demo stopped (state kept in {state.folder}: {saved} objects)", flush=True)
    return 1 if watchdog is not None and watchdog.died else 0


def _start_resolver(
    aws: LocalAws, edge: LocalEdge, state: DemoState, *, dist_id: str, domain: str, token: str
) -> EmbeddedResolver:
    if not state.rollout.exists():
        # A store that exists: a missing one is (rightly) reported unhealthy.
        FileStore(state.rollout).compare_and_set(
            0, RolloutState(100, revision=1, updated_by="wishlist-dev demo", updated_at=_now())
        )
    return EmbeddedResolver(
        load_resolver_settings(
            cloudfront_distribution_domain=domain,
            cdn_url_scheme="http",
            cloudfront_distribution_id=dist_id,
            s3_bucket=aws.bucket,
            aws_region=aws.region,
            s3_endpoint_url=aws.endpoint,
            s3_fallback_mode="presigned",
            admin_token=token,
            rollout_store=state.rollout.as_uri(),
            grpc_host="127.0.0.1",
            grpc_port=RESOLVER_PORT if _port_free(RESOLVER_PORT) else 0,
            metrics_port=0,
        ),
        session=aws.session(),
        purgers=[edge.purger()],  # InvalidateImages also drops the edge's copies
    ).start()


def _database(db_url: str, state: DemoState, aws: LocalAws) -> Engine:
    """The demo's database, migrated; seeded on a first start only."""
    engine = make_engine(db_url)
    upgrade(engine)
    if not state.kept:
        repo = WishlistRepository(session_factory(engine))
        seed(repo, DEMO_USER, bucket=aws.bucket, region=aws.region, s3=aws.client("s3"))
        seed(repo, "another-user", bucket=aws.bucket, region=aws.region)
        repo.close()
    return engine


def _app(db_url: str, engine: Engine, target: str, jwt_secret: str, token: str) -> FastAPI:
    settings = load_settings(
        database_url=db_url,
        resolver_target=target,
        jwt_secret=jwt_secret,
        jwt_public_key=None,
        jwt_jwks_url=None,
        images_enabled=True,
        session_cookie_secure=False,  # the demo is plain HTTP on loopback
    )
    app = create_app(settings, engine=engine)
    add_demo_sign_in(app, token)
    return app


def _now() -> datetime:
    return datetime.now(UTC)


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def add_demo_sign_in(app: FastAPI, token: str) -> None:
    """The printed link (GET) signs the browser in as demo-user: the product's session
    cookie, set with the demo's token, then the gallery. A route of the demo's own, added
    to the product's app; the product's signed-out page knows nothing of it."""

    async def sign_in() -> RedirectResponse:
        response = RedirectResponse("/gallery", status_code=303)
        set_session_cookie(response, token, secure=False)  # the demo is plain HTTP
        return response

    app.add_api_route(DEMO_SIGN_IN, sign_in, methods=["GET", "POST"], include_in_schema=False)


def _banner(
    *,
    base: str,
    domain: str,
    aws: LocalAws,
    edge: LocalEdge,
    resolver: EmbeddedResolver,
    state: str,
    db_url: str,
    token: str,
    admin_token: str,
    jwt_secret: str,
    folder: Path,
    gates: Path,
) -> str:
    """Every command is complete: absolute paths, so it works pasted into a fresh shell."""
    bindir = Path(sys.executable).parent
    cli = shlex.quote(str(bindir / "image-ops"))  # the operator toolkit
    dev_cli = shlex.quote(str(bindir / "wishlist-dev"))
    target = "" if resolver.port == RESOLVER_PORT else f" --target {resolver.target}"
    auth = shlex.quote("Authorization: Bearer " + token)
    key = f"uploads/wishlist/{DEMO_USER}/new-1.png"

    def q(value: str | Path) -> str:
        return shlex.quote(str(value))

    logs = q(str(edge.access_log_folder))
    probe_keys = " --key ".join(q(f"uploads/wishlist/{DEMO_USER}/new-{n}.png") for n in (1, 3))
    probe_out = folder / "probe.json"
    s3_host = aws.endpoint.removeprefix("http://")
    probe = (
        f"{cli} probe --config {q(gates)} --key {probe_keys} --cdn-host {domain} "
        f"--s3-host {s3_host} --json-out {q(probe_out)}{target}"
    )
    return f"""
Wishlist demo (everything on 127.0.0.1)

  Open the gallery (signs you in as {DEMO_USER}):  {base}{DEMO_SIGN_IN}

  API          {base}   OpenAPI: {base}/openapi.json
  CDN          http://{domain}   (local edge: Varnish, rules from deploy/;
               TLS for *.cloudfront.net names on 127.0.0.1:{edge.https_port})
  S3 (moto)    {aws.endpoint}/{aws.bucket}   (private: anonymous reads get 403)
  Resolver     {resolver.target}
  Database     {db_url}
  State        {state}

List {DEMO_USER}'s items (CDN imageUrls, legacy rows converted):
  curl -s -H {auth} {base}/api/wishlist

Resolve one key, check health:
  {cli} resolve {key} --user-id {DEMO_USER}{target}
  {cli} health{target}

The rollout: read it, send 10% of users to the CDN (the rest get presigned S3 URLs),
the kill switch (everyone on S3), and back:
  ADMIN_TOKEN={admin_token} {cli} rollout get{target}
  ADMIN_TOKEN={admin_token} {cli} rollout set --percent 10{target}
  ADMIN_TOKEN={admin_token} {cli} rollout set --disable-cdn{target}
  ADMIN_TOKEN={admin_token} {cli} rollout set --enable-cdn --percent 100{target}

Upload an image (upload-url -> POST the form to S3 -> attach): api/README.md, "Upload an image".

The evidence behind a rollout step, over your own traffic: browse the gallery, then
the CDN's access logs (CloudFront's format, delivered every few seconds) as a report,
a probe of two images through the CDN, and a dry run of the next step at 10%
(alarms: CloudWatch, AWS only; the demo's gates want {DEMO_MIN_LOG_REQUESTS} requests, not 100):
  {cli} logs report {logs}
  {probe}
  ADMIN_TOKEN={admin_token} {cli} rollout set --percent 10{target}
  ADMIN_TOKEN={admin_token} {cli} rollout advance --to 50 --dry-run --config {q(gates)} \\
      --logs {logs} --probe-results {q(probe_out)} --skip alarms \\
      --audit-log {q(folder / "rollout-audit.jsonl")}{target}
A cold cache is refused, as it should be: each image's first view is a slow miss, and your
browser keeps the images after that, so one browser alone gives a hit ratio near 50%
(measured: 12 misses, 12 hits, then nothing more from its cache). The dry run passes once
the edge has served them to more viewers: another browser, or curl the imageUrls.

A token for another user:
  JWT_SECRET={jwt_secret} {dev_cli} token --sub another-user

Ctrl-C stops everything.
"""
