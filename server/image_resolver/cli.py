"""`image-resolver`: run the gRPC service, and check its health.

The operator commands (resolve, rollout, invalidate, logs, probe) moved to the operator
toolkit, `image-ops` (ops/): the resolver's image carries only what serving needs.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from collections.abc import Sequence

from wishlist_runtime.grpc_cli import register_health

# Commands that lived here before the toolkit had its own deployable.
MOVED_TO_OPS = ("resolve", "rollout", "invalidate", "logs", "probe")


def cmd_serve(args: argparse.Namespace) -> int:
    from image_resolver.config import load_settings, start_up
    from image_resolver.server import serve

    settings = start_up("image-resolver", load_settings, grpc_port=args.port, grpc_host=args.host)
    try:
        asyncio.run(serve(settings))
    except OSError as exc:
        print(f"image-resolver: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # e.g. a malformed ROLLOUT_STORE
        print(f"image-resolver: {exc}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="image-resolver",
        description=__doc__,
        epilog="Operator commands: image-ops --help (the operator toolkit).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gRPC server (settings from the environment)")
    serve.add_argument("--port", type=int, help="gRPC port (default: GRPC_PORT or 50051)")
    serve.add_argument("--host", help="address to bind (default: GRPC_HOST or [::])")
    serve.set_defaults(func=cmd_serve)
    register_health(sub, "image-resolver")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in MOVED_TO_OPS:
        print(
            f"image-resolver: `{argv[0]}` moved to the operator toolkit: "
            f"image-ops {shlex.join(argv)}",
            file=sys.stderr,
        )
        return 2
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
