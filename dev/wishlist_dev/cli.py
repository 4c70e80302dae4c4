"""`wishlist-dev`: developer tooling that never ships in the product image.

wishlist-dev edge --origin-endpoint http://127.0.0.1:PORT --bucket lego-moc-wishlist-uploads
wishlist-dev edge                 # starts its own moto S3 (empty bucket) as the origin
wishlist-dev edge --print-vcl     # the VCL generated from deploy/'s template, then exit
wishlist-dev edge --access-logs DIR   # + CloudFront-format access logs (image-ops logs report DIR)
wishlist-dev resolver --edge-purge-url http://127.0.0.1:PORT   # image-resolver serve + edge BAN
wishlist-dev demo                 # moto + local edge + resolver + API, seeded (scripts/demo.sh)
JWT_SECRET=... wishlist-dev token --sub USER   # a token the API accepts
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from wishlist_dev.edge.local_edge import DEFAULT_CDN_HOST, DEFAULT_POP, EdgeUnavailable, LocalEdge
from wishlist_dev.edge.log_delivery import AccessLogs
from wishlist_dev.edge.processes import EdgeStartError
from wishlist_dev.edge.template import TemplateError, edge_config_from_template, find_template
from wishlist_dev.edge.vcl import VclParams, render_vcl

DEFAULT_BUCKET = "lego-moc-wishlist-uploads"


def _pairs(values: Sequence[str], flag: str) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise SystemExit(f"wishlist-dev: {flag} takes NAME=VALUE, got {value!r}")
        out[name] = rest
    return out


def _ttls(values: Sequence[str]) -> dict[str, int]:
    out = {}
    for name, seconds in _pairs(values, "--ttl").items():
        if not seconds.isdigit():
            raise SystemExit(f"wishlist-dev: --ttl {name}: seconds must be a whole number")
        out[name] = int(seconds)
    return out


def cmd_edge(args: argparse.Namespace) -> int:
    hosts = args.cdn_host or [DEFAULT_CDN_HOST]
    parameters = _pairs(args.param, "--param")
    try:
        args.template = args.template or find_template()
        if args.print_vcl:
            config = edge_config_from_template(args.template, parameters)
            params = VclParams(0, args.https_port, hosts, args.pop, "0" * 32)
            print(render_vcl(config.with_ttl_overrides(_ttls(args.ttl)), params), end="")
            return 0
        return _run_edge(args, hosts, parameters)
    except (TemplateError, ValueError, EdgeUnavailable, EdgeStartError) as exc:
        print(f"wishlist-dev edge: {exc}", file=sys.stderr)
        return 2


def _run_edge(args: argparse.Namespace, hosts: list[str], parameters: dict[str, str]) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with ExitStack() as stack:
        endpoint = args.origin_endpoint
        if endpoint is None:
            from wishlist_dev.localaws import LocalAws

            endpoint = stack.enter_context(LocalAws(args.bucket)).endpoint
            print(f"origin: moto S3 at {endpoint} (bucket {args.bucket}, empty)")
        edge = stack.enter_context(
            LocalEdge(
                endpoint,
                args.bucket,
                cdn_hosts=hosts,
                template=args.template,
                parameters=parameters,
                ttl_overrides=_ttls(args.ttl),
                pop=args.pop,
                http_port=args.http_port,
                https_port=args.https_port,
                access_logs=AccessLogs(args.access_logs) if args.access_logs else None,
            )
        )
        print(f"local edge for s3://{args.bucket} at {endpoint} (rules: {args.template})")
        for host in hosts:
            print(f"  {edge.https_url(host)}  (TLS; trust {edge.ca_cert_path})")
            if host.endswith(".localhost"):
                print(f"  {edge.http_url(host)}  (plain HTTP, .localhost only)")
        print(f"  purge: {edge.purge_url}  (BAN from loopback; a resolver that purges it:")
        print(f"    wishlist-dev resolver --edge-purge-url {edge.purge_url})")
        if edge.access_log_folder is not None:
            folder = shlex.quote(str(edge.access_log_folder))
            print(f"  access logs: {folder}  (CloudFront's format; image-ops logs report {folder})")
        print("Ctrl-C or SIGTERM stops it.", flush=True)
        stop.wait()
        print("stopping the local edge", flush=True)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from wishlist_dev.tokens import mint_token

    secret = os.environ.get("JWT_SECRET", "")
    if len(secret) < 32:
        print(
            "wishlist-dev: set JWT_SECRET (32+ characters) to the secret the API verifies with",
            file=sys.stderr,
        )
        return 2
    print(mint_token(secret, args.sub, args.ttl))
    return 0


def cmd_resolver(args: argparse.Namespace) -> int:
    """`image-resolver serve` (settings from the environment, same exit codes), plus a
    purger that BANs each accepted invalidation on the local edge."""
    import asyncio

    from image_resolver.config import load_settings, start_up
    from image_resolver.server import serve
    from wishlist_dev.edge.purge import LocalEdgePurger

    try:
        purger = LocalEdgePurger(args.edge_purge_url)
    except ValueError as exc:
        print(f"wishlist-dev resolver: --edge-purge-url {exc}", file=sys.stderr)
        return 2
    settings = start_up(
        "wishlist-dev resolver", load_settings, grpc_port=args.port, grpc_host=args.host
    )
    try:
        asyncio.run(serve(settings, purgers=[purger]))
    except OSError as exc:
        print(f"wishlist-dev resolver: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # e.g. a malformed ROLLOUT_STORE
        print(f"wishlist-dev resolver: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from wishlist_dev.demo import run_demo

    return run_demo(port=args.port, state_dir=args.state_dir, fresh=args.fresh)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wishlist-dev", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    edge = sub.add_parser("edge", help="run the local CloudFront-like edge in the foreground")
    edge.add_argument("--origin-endpoint", help="S3 endpoint (moto); default: start one")
    edge.add_argument("--bucket", default=DEFAULT_BUCKET)
    edge.add_argument(
        "--cdn-host",
        action="append",
        help=f"CDN host name (repeat; default {DEFAULT_CDN_HOST}); *.localhost also serves "
        "plain HTTP for browsers",
    )
    edge.add_argument(
        "--template",
        type=Path,
        help="the CloudFormation template whose rules the edge applies "
        "(default: deploy/cloudformation/image-cdn.yaml of the source checkout)",
    )
    edge.add_argument("--param", action="append", default=[], help="template parameter NAME=VALUE")
    edge.add_argument(
        "--ttl",
        action="append",
        default=[],
        help="override NAME=SECONDS: min_ttl, default_ttl, max_ttl, error_ttl, error_ttl_<status>",
    )
    edge.add_argument("--pop", default=DEFAULT_POP, help="X-Amz-Cf-Pop value")
    edge.add_argument("--http-port", type=int, default=0, help="default: a free port")
    edge.add_argument("--https-port", type=int, default=0, help="default: a free port")
    edge.add_argument(
        "--access-logs",
        type=Path,
        metavar="DIR",
        help="deliver CloudFront-format access logs of the traffic into DIR (docs/local-edge.md)",
    )
    edge.add_argument("--print-vcl", action="store_true", help="print the generated VCL and exit")
    edge.set_defaults(func=cmd_edge)

    token = sub.add_parser("token", help="mint a dev HS256 token signed with JWT_SECRET")
    token.add_argument("--sub", required=True, help="user id")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.set_defaults(func=cmd_token)

    resolver = sub.add_parser(
        "resolver",
        help="image-resolver serve (settings from the environment) that also purges the "
        "local edge after each invalidation CloudFront accepted",
    )
    resolver.add_argument(
        "--edge-purge-url",
        required=True,
        help="the local edge's http://127.0.0.1:PORT (loopback only; `wishlist-dev edge` "
        "prints it)",
    )
    resolver.add_argument("--port", type=int, help="gRPC port (default: GRPC_PORT or 50051)")
    resolver.add_argument("--host", help="address to bind (default: GRPC_HOST or [::])")
    resolver.set_defaults(func=cmd_resolver)

    demo = sub.add_parser("demo", help="local stack: moto S3 + edge + resolver + API, seeded")
    demo.add_argument("--port", type=int, default=8080, help="API port on 127.0.0.1")
    demo.add_argument(
        "--state-dir",
        default="var/demo",
        help="kept across restarts: the database, the rollout file, the uploaded objects",
    )
    demo.add_argument("--fresh", action="store_true", help="forget the state folder; seed anew")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: uvicorn re-raises it once everything has stopped
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
