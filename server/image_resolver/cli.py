"""`image-resolver`: serve, call a running server, operate the rollout, purge the CDN, read logs."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

DEFAULT_TARGET = "127.0.0.1:50051"


def _target(args: argparse.Namespace) -> str:
    return str(args.target or os.environ.get("IMAGE_RESOLVER_TARGET") or DEFAULT_TARGET)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str, sort_keys=True))


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


def _credentials(args: argparse.Namespace) -> Any:
    """TLS channel credentials from --tls-ca/--tls-cert/--tls-key; None for plaintext."""
    from wishlist_images_client import tls_credentials

    if not (args.tls or args.tls_ca or args.tls_cert or args.tls_key):
        return None
    try:
        return tls_credentials(args.tls_ca, args.tls_cert, args.tls_key)
    except (OSError, ValueError) as exc:
        print(f"image-resolver: TLS: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _client(args: argparse.Namespace) -> Any:
    from wishlist_images_client import ImageResolverClient

    token = os.environ.get("ADMIN_TOKEN") or None
    return ImageResolverClient(
        _target(args), timeout=args.timeout, admin_token=token, credentials=_credentials(args)
    )


def _call(fn: Callable[[], Any]) -> int:
    """Run a client call; print a failed call as one line, never a traceback."""
    from wishlist_images_client import ResolverCallError

    try:
        fn()
    except ResolverCallError as exc:
        wait = f" (retry after {exc.retry_after:g} s)" if exc.retry_after else ""
        print(f"image-resolver: {exc.code.name}: {exc.message}{wait}", file=sys.stderr)
        if exc.created is not None:  # what CloudFront accepted before the failure
            _print_json(asdict(exc.created))
        return 1
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    from wishlist_images_client import ImageRef

    with _client(args) as client:
        return _call(
            lambda: _print_json(
                asdict(client.resolve(ImageRef(args.ref, args.version), user_id=args.user_id))
            )
        )


def cmd_health(args: argparse.Namespace) -> int:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    target = args.target or f"127.0.0.1:{os.environ.get('GRPC_PORT', '50051')}"
    credentials = _credentials(args)
    channel = (
        grpc.secure_channel(target, credentials) if credentials else grpc.insecure_channel(target)
    )
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            resp = stub.Check(health_pb2.HealthCheckRequest(service=args.service), timeout=2)
        except grpc.RpcError as err:
            print(f"unhealthy: {err.code().name}", file=sys.stderr)
            return 1
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
    print(name)
    return 0 if resp.status == health_pb2.HealthCheckResponse.SERVING else 1


def _rollout_dict(info: Any) -> dict[str, Any]:
    return asdict(info)


def cmd_rollout_get(args: argparse.Namespace) -> int:
    with _client(args) as client:
        return _call(lambda: _print_json(_rollout_dict(client.get_rollout())))


def cmd_rollout_set(args: argparse.Namespace) -> int:
    with _client(args) as client:

        def change() -> None:
            current = client.get_rollout()
            percent = current.percent if args.percent is None else args.percent
            enabled = current.cdn_enabled if args.cdn_enabled is None else args.cdn_enabled
            before, after = client.set_rollout(
                percent=percent,
                cdn_enabled=enabled,
                expected_revision=current.revision,
                updated_by=args.by,
            )
            _print_json({"before": _rollout_dict(before), "after": _rollout_dict(after)})

        return _call(change)


def cmd_invalidate(args: argparse.Namespace) -> int:
    with _client(args) as client:
        reference = args.caller_reference or uuid.uuid4().hex
        return _call(
            lambda: _print_json([asdict(i) for i in client.invalidate(args.refs, reference)])
        )


def _percent(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be between 0 and 100")
    return value


def tls_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tls", action="store_true", help="use TLS, trusting the system roots")
    p.add_argument("--tls-ca", help="PEM CA file to trust (implies --tls)")
    p.add_argument("--tls-cert", help="PEM client certificate, when the server requires mTLS")
    p.add_argument("--tls-key", help="PEM key of --tls-cert")


def client_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--target", help=f"host:port (default: IMAGE_RESOLVER_TARGET or {DEFAULT_TARGET})"
    )
    p.add_argument("--timeout", type=float, default=5.0, help="deadline in seconds")
    tls_args(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="image-resolver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gRPC server (settings from the environment)")
    serve.add_argument("--port", type=int, help="gRPC port (default: GRPC_PORT or 50051)")
    serve.add_argument("--host", help="address to bind (default: GRPC_HOST or [::])")
    serve.set_defaults(func=cmd_serve)

    resolve = sub.add_parser("resolve", help="resolve one key or legacy URL on a running server")
    resolve.add_argument("ref")
    resolve.add_argument("--version", default="", help="cache-busting version (?v=)")
    resolve.add_argument("--user-id", default="", help="viewer, for rollout stickiness")
    client_args(resolve)
    resolve.set_defaults(func=cmd_resolve)

    health = sub.add_parser("health", help="gRPC health check; exit 0 when SERVING")
    health.add_argument("--target", help="host:port (default: 127.0.0.1:$GRPC_PORT)")
    health.add_argument("--service", default="", help="service name (default: whole server)")
    tls_args(health)
    health.set_defaults(func=cmd_health)

    rollout = sub.add_parser("rollout", help="read or change the CDN rollout (needs ADMIN_TOKEN)")
    rsub = rollout.add_subparsers(dest="rollout_command", required=True)
    get = rsub.add_parser("get", help="print the rollout in force")
    client_args(get)
    get.set_defaults(func=cmd_rollout_get)
    setp = rsub.add_parser("set", help="change percent and/or the kill switch; prints before/after")
    setp.add_argument("--percent", type=_percent)
    switch = setp.add_mutually_exclusive_group()
    switch.add_argument("--enable-cdn", dest="cdn_enabled", action="store_const", const=True)
    switch.add_argument("--disable-cdn", dest="cdn_enabled", action="store_const", const=False)
    setp.add_argument("--by", default=os.environ.get("USER") or _user(), help="who (audit trail)")
    client_args(setp)
    setp.set_defaults(func=cmd_rollout_set)
    _register_gated(rsub)

    inval = sub.add_parser("invalidate", help="purge keys/URLs from CloudFront (needs ADMIN_TOKEN)")
    inval.add_argument("refs", nargs="+")
    inval.add_argument("--caller-reference", help="idempotency token (default: random)")
    client_args(inval)
    inval.set_defaults(func=cmd_invalidate)

    _register_logs(sub)
    from image_resolver.probe.cli import register as register_probe

    register_probe(sub, client_args)
    return parser


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _register_gated(rsub: Any) -> None:
    """`rollout advance|auto`: the evidence-gated steps (image_resolver.gating)."""
    from image_resolver.gating.cli import register

    register(rsub, client_args)


def _register_logs(sub: Any) -> None:
    try:
        from image_resolver.accesslogs.cli import register
    except ImportError:
        return
    register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (
        getattr(args, "rollout_command", None) == "set"
        and args.percent is None
        and args.cdn_enabled is None
    ):
        print(
            "image-resolver: rollout set needs --percent and/or --enable-cdn/--disable-cdn",
            file=sys.stderr,
        )
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
