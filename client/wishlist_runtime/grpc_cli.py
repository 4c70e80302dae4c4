"""Command-line pieces every resolver CLI shares: TLS flags and the `health` command.

Both the resolver's image (its HEALTHCHECK and exec probes) and the operator toolkit run
`health`; it lives with the contract so neither imports the other.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def add_tls_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tls", action="store_true", help="use TLS, trusting the system roots")
    p.add_argument("--tls-ca", help="PEM CA file to trust (implies --tls)")
    p.add_argument("--tls-cert", help="PEM client certificate, when the server requires mTLS")
    p.add_argument("--tls-key", help="PEM key of --tls-cert")


def tls_from_args(args: argparse.Namespace, prog: str) -> Any:
    """Channel credentials from --tls/--tls-ca/--tls-cert/--tls-key; None for plaintext.
    A missing or unreadable file is one line on stderr and exit 2."""
    from wishlist_images_client import tls_credentials

    if not (args.tls or args.tls_ca or args.tls_cert or args.tls_key):
        return None
    try:
        return tls_credentials(args.tls_ca, args.tls_cert, args.tls_key)
    except (OSError, ValueError) as exc:
        print(f"{prog}: TLS: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_health(args: argparse.Namespace) -> int:
    """grpc.health.v1 Check; prints the status name; exit 0 only when SERVING."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    target = args.target or f"127.0.0.1:{os.environ.get('GRPC_PORT', '50051')}"
    credentials = tls_from_args(args, args.prog_name)
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
    print(health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))
    return 0 if resp.status == health_pb2.HealthCheckResponse.SERVING else 1


def register_health(sub: Any, prog: str) -> None:
    health = sub.add_parser("health", help="gRPC health check; exit 0 when SERVING")
    health.add_argument("--target", help="host:port (default: 127.0.0.1:$GRPC_PORT)")
    health.add_argument("--service", default="", help="service name (default: whole server)")
    add_tls_args(health)
    health.set_defaults(func=cmd_health, prog_name=prog)
