"""`wishlist-api`: serve the HTTP API, migrate its database (dev tokens and the demo:
`wishlist-dev`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _fail(message: str, code: int = 2) -> int:
    print(f"wishlist-api: {message}", file=sys.stderr)
    return code


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from wishlist_api.app import create_app
    from wishlist_api.migrate import SchemaOutOfDate, check_schema
    from wishlist_api.settings import load_settings
    from wishlist_runtime.settings import start_up

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

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
