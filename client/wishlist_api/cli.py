"""`wishlist-api`: serve the HTTP API, migrate its database, mint a dev token, run the demo."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def _fail(message: str, code: int = 2) -> int:
    print(f"wishlist-api: {message}", file=sys.stderr)
    return code


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from image_resolver.config import start_up
    from wishlist_api.app import create_app
    from wishlist_api.migrate import SchemaOutOfDate, check_schema
    from wishlist_api.settings import load_settings

    settings = start_up("wishlist-api", load_settings, host=args.host, port=args.port)
    engine = settings.make_engine()
    try:
        check_schema(engine)  # one clear line instead of a start-up traceback
    except SchemaOutOfDate as exc:
        return _fail(str(exc), 1)
    except SQLAlchemyError as exc:  # the message may carry the URL: print the class only
        return _fail(f"cannot reach the database: {type(exc).__name__}", 1)
    # uvicorn handles SIGTERM: stops accepting, drains in-flight requests, runs shutdown.
    try:
        uvicorn.run(
            create_app(settings, engine=engine),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=20,
        )
    finally:
        engine.dispose()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from wishlist_api.migrate import current_revision, upgrade
    from wishlist_api.settings import ConfigError, load_database_settings

    try:
        settings = load_database_settings()
    except ConfigError as exc:
        return _fail(str(exc))
    engine = settings.make_engine()
    try:
        upgrade(engine, args.revision)
        print(f"schema at revision {current_revision(engine)}")
    except SQLAlchemyError as exc:  # the message may carry the URL: print the class only
        return _fail(f"migration failed: {type(exc).__name__}", 1)
    finally:
        engine.dispose()
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from wishlist_api.auth import mint_token

    secret = os.environ.get("JWT_SECRET", "")
    if len(secret) < 32:
        return _fail("set JWT_SECRET (32+ characters) to the secret the API verifies with")
    print(mint_token(secret, args.sub, args.ttl))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from wishlist_api.demo import run_demo

    return run_demo(port=args.port, state_dir=args.state_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wishlist-api", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API (settings from the environment)")
    serve.add_argument("--host", help="address to bind (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PORT or 8080)")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="create/upgrade the schema at DATABASE_URL")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(func=cmd_migrate)

    token = sub.add_parser("token", help="mint a dev HS256 token signed with JWT_SECRET")
    token.add_argument("--sub", required=True, help="user id")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.set_defaults(func=cmd_token)

    demo = sub.add_parser("demo", help="local stack: moto S3 + resolver + API, seeded")
    demo.add_argument("--port", type=int, default=8080, help="API port on 127.0.0.1")
    demo.add_argument("--state-dir", default="var/demo", help="SQLite DB and rollout file")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
